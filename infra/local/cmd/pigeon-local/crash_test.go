package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/pigeon-mail/pigeon/shared/webhook"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// The crash test (issue 9, item 5): the stack runs as a child process on one data directory
// and is SIGKILLed at random moments while mail arrives over SMTP from several sessions, with a
// webhook receiver and a WebSocket subscriber attached. After a clean restart, whatever it
// acknowledged must still be there, and every event it committed must have been delivered.
//
// What it asserts is deterministic; only timing is random. PIGEON_CRASH_SEED replays the kill
// schedule and the mail sequence of a failed run (the seed is logged).
const (
	crashKills     = 6 // SIGKILLs (the issue asks for at least five)
	crashSenders   = 4 // concurrent SMTP sessions
	crashInboxes   = 3 // inboxes the mail is spread over
	crashMinUptime = 100 * time.Millisecond
	crashMaxUptime = 2 * time.Second // a kill comes this long after a start, at most
	crashSettle    = 30 * time.Second
	crashStartWait = 30 * time.Second // a start that prints no banner by then has failed
)

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and crashes it repeatedly")
	}
	seed := crashSeed(t)
	rng := rand.New(rand.NewPCG(seed, 0))

	work := t.TempDir()
	h := &crashHarness{t: t, bin: buildCommand(t, work), dataDir: filepath.Join(work, "data"), logDir: work, changed: make(chan struct{})}
	t.Cleanup(h.shutdown)
	hooks := newHookRecorder()
	hookSrv := httptest.NewServer(hooks)
	t.Cleanup(hookSrv.Close)

	// Setup on the first start: the inboxes, two webhooks (organisation-wide and one inbox's),
	// and a snapshot of what must survive.
	first := h.start()
	key := first.key
	inboxes := make([]string, crashInboxes)
	for i := range inboxes {
		var in wire.Inbox
		if err := first.call("POST", "/v0/inboxes", key, map[string]any{"username": fmt.Sprintf("crash-%d", i)}, &in); err != nil {
			t.Fatal(err)
		}
		inboxes[i] = in.InboxID
	}
	hookScopes := map[string]string{"/hook/org": "/v0/webhooks", "/hook/inbox": "/v0/inboxes/" + url.PathEscape(inboxes[0]) + "/webhooks"}
	for path, route := range hookScopes {
		var wh wire.Webhook
		if err := first.call("POST", route, key, map[string]any{"url": hookSrv.URL + path, "event_types": []string{"message.received"}}, &wh); err != nil {
			t.Fatal(err)
		}
		hooks.setSecret(path, wh.Secret)
	}
	before := h.snapshot(first, key, inboxes)

	// Load: the senders and the subscriber follow the stack from start to start.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	led := &ledger{sent: map[string][]string{}, acked: map[string][]string{}}
	for i := range crashSenders {
		wg.Go(func() { h.sendLoop(ctx, i, rand.New(rand.NewPCG(seed, uint64(i+1))), seed, inboxes, led) })
	}
	sub := &subscriber{gen: -1, seen: map[string]int{}}
	wg.Go(func() { sub.run(ctx, h, inboxes) })

	// Chaos: SIGKILL after a random uptime, restart on the same directory, again.
	keys := []string{key}
	for range crashKills {
		up := crashMinUptime + time.Duration(rng.Int64N(int64(crashMaxUptime-crashMinUptime)))
		cur := h.current()
		select {
		case <-time.After(up):
		case <-cur.exited:
			t.Fatalf("start %d exited by itself: %v\n%s", cur.gen, cur.err, tail(cur.logPath, 30))
		}
		h.kill(cur)
		keys = append(keys, h.start().key)
	}
	time.Sleep(time.Duration(rng.Int64N(int64(crashMaxUptime)))) // mail on the last crashed start
	cancel()
	wg.Wait()

	// The final start follows a clean stop (SIGTERM), which must be clean and lose nothing too.
	h.terminate(h.current())
	final := h.start()
	keys = append(keys, final.key)
	ctx, cancel = context.WithCancel(context.Background())
	wg.Go(func() { sub.run(ctx, h, inboxes) })
	t.Logf("seed %d: %d kills; %d mails tried, %d acknowledged (%d refused or cut off)", seed, crashKills, len(led.sent), len(led.acked), len(led.sent)-len(led.acked))

	// The key: the same one printed at every start, and accepted by the final stack.
	var otherKeys []string
	for gen, k := range keys {
		if k != key {
			otherKeys = append(otherKeys, fmt.Sprintf("start %d printed %s", gen, k))
		}
	}
	if len(otherKeys) > 0 {
		t.Errorf("key: the first start printed %s, but %s", key, strings.Join(otherKeys, ", "))
	}
	if err := final.call("GET", "/v0/inboxes", key, nil, nil); err != nil {
		t.Errorf("key: the first start's key is not accepted after the restarts: %v", err)
	}
	// The rest is read with the key the final stack printed, so that a lost key does not
	// hide what else was lost.
	key = final.key
	if lost, found := diff(before, h.snapshot(final, key, inboxes)); len(lost)+len(found) > 0 {
		t.Errorf("inboxes and webhooks changed across the restarts:\nbefore, not after:\n  %s\nafter, not before:\n  %s", strings.Join(lost, "\n  "), strings.Join(found, "\n  "))
	}

	// The WebSocket subscriber is back on the final stack and hears mail sent now.
	sentinels := map[string]string{} // Message-ID → inbox
	if !waitFor(10*time.Second, func() bool { return sub.on() == final.gen }) {
		t.Errorf("websocket: the subscriber did not subscribe on the final stack within 10 s: %v", sub.lastErr())
	}
	for i, in := range inboxes {
		id := fmt.Sprintf("<crash-%d-final-%d@sender.example>", seed, i)
		if err := sendMail(final.smtpAddr, crashMail(id, "final", []string{in})); err != nil {
			t.Errorf("smtp: sentinel mail to %s on the final stack: %v", in, err)
			continue
		}
		led.record(id, []string{in}, true)
		sentinels[id] = in
	}

	// Settle: webhook retries, the stream backlog and the queue drain after the restarts. Poll
	// until every listed message's event has reached each webhook in scope, or crashSettle.
	var listed map[string][]string // inbox → message ids, in list order
	var listErrs []string
	settled := waitFor(crashSettle, func() bool {
		listed, listErrs = listMessages(final, key, inboxes)
		return len(listErrs) == 0 && len(hooks.missing(listed, inboxes[0])) == 0 && sub.heard(sentinels) == len(sentinels)
	})
	cancel()
	for _, err := range listErrs {
		t.Errorf("messages: listing: %s", err)
	}
	if !settled {
		t.Logf("not settled after %v; asserting on what is there", crashSettle)
	}

	checkMessages(t, led, listed)
	checkRaw(t, final, key, listed)
	hooks.check(t, listed, inboxes[0])
	if n := sub.heard(sentinels); n != len(sentinels) {
		t.Errorf("websocket: %d of %d sentinel mails on the final stack produced no event frame", len(sentinels)-n, len(sentinels))
	}
	t.Logf("websocket: %d event frames over %d connections; webhooks: %d attempts", sub.frames(), sub.connections(), hooks.attemptCount())
	if t.Failed() {
		h.logErrors()
	}
}

// crashSeed is PIGEON_CRASH_SEED, or a fresh seed; logged either way so a failure can be replayed.
func crashSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PIGEON_CRASH_SEED"); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("PIGEON_CRASH_SEED=%q: %v", v, err)
		}
	}
	t.Logf("seed %d (replay with PIGEON_CRASH_SEED=%d)", seed, seed)
	return seed
}

// buildCommand builds pigeon-local into dir with $GO (default go: go test puts its own
// toolchain first on PATH).
func buildCommand(t *testing.T, dir string) string {
	bin := filepath.Join(dir, "pigeon-local")
	out, err := exec.Command(cmp.Or(os.Getenv("GO"), "go"), "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashHarness runs the stack, one instance at a time, on one data directory.
type crashHarness struct {
	t       *testing.T
	bin     string
	dataDir string
	logDir  string

	mu      sync.Mutex
	cur     *instance     // nil while the stack is down
	changed chan struct{} // closed and replaced whenever cur changes
	all     []*instance
}

// instance is one start of the stack: its process and what it printed.
type instance struct {
	gen                           int
	cmd                           *exec.Cmd
	restURL, wsURL, smtpAddr, key string
	logPath                       string
	exited                        chan struct{} // closed once the process has exited
	err                           error         // its exit status, once exited is closed
	killed                        bool          // by the test, with SIGKILL
}

var (
	restLine = regexp.MustCompile(`REST API\s+(http://\S+)`)
	wsLine   = regexp.MustCompile(`WebSocket\s+(ws://[^?\s]+)`)
	smtpLine = regexp.MustCompile(`SMTP\s+(\S+:\d+)`)
	keyLine  = regexp.MustCompile(`API key\s+(\S+)`)
)

// start runs the stack on the data directory with every listener on a fresh port and waits for
// its banner; the new instance becomes current.
func (h *crashHarness) start() *instance {
	h.t.Helper()
	in := &instance{gen: len(h.all), exited: make(chan struct{})}
	in.logPath = filepath.Join(h.logDir, fmt.Sprintf("stack-%d.log", in.gen))
	logFile, err := os.Create(in.logPath)
	if err != nil {
		h.t.Fatal(err)
	}
	in.cmd = exec.Command(h.bin)
	in.cmd.Dir = h.logDir // nothing lands in the source tree, whatever the stack writes
	in.cmd.Env = append(cleanEnv(),
		"PIGEON_DATA_DIR="+h.dataDir,
		"PIGEON_HTTP_ADDR=127.0.0.1:0", "PIGEON_SMTP_ADDR=127.0.0.1:0", "PIGEON_SES_ADDR=127.0.0.1:0",
		"PIGEON_DYNAMODB_ADDR=127.0.0.1:0", "PIGEON_S3_ADDR=127.0.0.1:0",
		// Svix's retry schedule 1000 times faster, and queue visibility with it: a delivery
		// in flight at a kill is retried within a second of the restart, not six minutes.
		"PIGEON_LOCAL_RETRY_SCALE=0.001",
	)
	in.cmd.Stderr = logFile
	stdout, err := in.cmd.StdoutPipe()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := in.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.all = append(h.all, in)
	h.mu.Unlock()

	banner := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if in.parse(sc.Text()) {
				close(banner)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // the pipe must not fill up
		in.err = in.cmd.Wait()
		logFile.Close()
		close(in.exited)
	}()
	select {
	case <-banner:
	case <-in.exited:
		h.t.Fatalf("start %d exited before printing its addresses: %v\n%s", in.gen, in.err, tail(in.logPath, 30))
	case <-time.After(crashStartWait):
		h.t.Fatalf("start %d printed no banner within %v\n%s", in.gen, crashStartWait, tail(in.logPath, 30))
	}
	h.set(in)
	return in
}

// parse reads one banner line, reporting whether the four values the test needs are known.
func (in *instance) parse(line string) bool {
	for re, dst := range map[*regexp.Regexp]*string{restLine: &in.restURL, wsLine: &in.wsURL, smtpLine: &in.smtpAddr, keyLine: &in.key} {
		if m := re.FindStringSubmatch(line); m != nil && *dst == "" {
			*dst = m[1]
		}
	}
	return in.restURL != "" && in.wsURL != "" && in.smtpAddr != "" && in.key != ""
}

func (h *crashHarness) set(in *instance) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cur = in
	close(h.changed)
	h.changed = make(chan struct{})
}

func (h *crashHarness) current() *instance {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.cur
}

// running blocks until an instance is up (nil when ctx ends first).
func (h *crashHarness) running(ctx context.Context) *instance {
	for {
		h.mu.Lock()
		cur, changed := h.cur, h.changed
		h.mu.Unlock()
		if cur != nil {
			return cur
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil
		}
	}
}

// kill SIGKILLs in: no shutdown code runs, as in a power cut or an OOM kill.
func (h *crashHarness) kill(in *instance) {
	h.set(nil) // first, so nobody picks up a dying instance
	in.killed = true
	_ = in.cmd.Process.Kill()
	<-in.exited
}

// terminate stops in with SIGTERM, which must end it cleanly (exit 0).
func (h *crashHarness) terminate(in *instance) {
	h.t.Helper()
	h.set(nil)
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.exited:
		if in.err != nil {
			h.t.Errorf("start %d: exit after SIGTERM: %v\n%s", in.gen, in.err, tail(in.logPath, 30))
		}
	case <-time.After(40 * time.Second): // Close drains WebSockets for up to 30 s, then 5 s more
		h.t.Errorf("start %d still running 40 s after SIGTERM", in.gen)
		in.killed = true
		_ = in.cmd.Process.Kill()
		<-in.exited
	}
}

// shutdown (a cleanup) stops whatever still runs.
func (h *crashHarness) shutdown() {
	if in := h.current(); in != nil {
		h.terminate(in)
	}
}

// logErrors logs each start's ERROR lines (the first few) and how it ended, after a failure.
func (h *crashHarness) logErrors() {
	for _, in := range h.all {
		data, _ := os.ReadFile(in.logPath)
		var errs []string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "level=ERROR") {
				errs = append(errs, l)
			}
		}
		how := "running"
		select {
		case <-in.exited:
			how = fmt.Sprintf("exited (%v, killed by the test: %v)", in.err, in.killed)
		default:
		}
		h.t.Logf("start %d: %s, %d ERROR lines", in.gen, how, len(errs))
		for _, l := range errs[:min(len(errs), 3)] {
			h.t.Logf("    %s", l)
		}
	}
}

// snapshot is what must survive the restarts: the inboxes and webhooks, one JSON line each.
func (h *crashHarness) snapshot(in *instance, key string, inboxes []string) []string {
	h.t.Helper()
	var out []string
	for _, l := range []struct{ path, field string }{
		{"/v0/inboxes", "inboxes"},
		{"/v0/webhooks", "webhooks"},
		{"/v0/inboxes/" + url.PathEscape(inboxes[0]) + "/webhooks", "webhooks"},
	} {
		items, err := listAll(in, key, l.path, l.field)
		if err != nil {
			out = append(out, l.path+": "+err.Error())
			continue
		}
		for _, it := range items {
			out = append(out, l.path+": "+string(it))
		}
	}
	return out
}

// call sends one REST request and decodes a 200 answer into out (when not nil).
func (in *instance) call(method, path, key string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, in.restURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := restClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(data))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(data, out)
}

var restClient = &http.Client{Timeout: 10 * time.Second}

// listAll follows a list's page tokens and returns the items under field.
func listAll(in *instance, key, path, field string) ([]json.RawMessage, error) {
	var items []json.RawMessage
	token := ""
	for range 10000 {
		q := "?limit=100"
		if token != "" {
			q += "&page_token=" + url.QueryEscape(token)
		}
		var page map[string]json.RawMessage
		if err := in.call("GET", path+q, key, nil, &page); err != nil {
			return nil, err
		}
		var got []json.RawMessage
		if err := json.Unmarshal(page[field], &got); err != nil {
			return nil, fmt.Errorf("GET %s: %q is not a list: %s", path, field, page[field])
		}
		items = append(items, got...)
		token = ""
		if t, ok := page["next_page_token"]; ok {
			_ = json.Unmarshal(t, &token)
		}
		if token == "" {
			return items, nil
		}
	}
	return nil, fmt.Errorf("GET %s: more than 10,000 pages", path)
}

// listMessages lists each inbox's message ids. An inbox that cannot be listed (a lost inbox
// answers 404) has no entry in the map but one in errs, so the other assertions still run.
func listMessages(in *instance, key string, inboxes []string) (listed map[string][]string, errs []string) {
	listed = map[string][]string{}
	for _, inbox := range inboxes {
		items, err := listAll(in, key, "/v0/inboxes/"+url.PathEscape(inbox)+"/messages", "messages")
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, it := range items {
			var m wire.MessageItem
			if err := json.Unmarshal(it, &m); err != nil {
				errs = append(errs, fmt.Sprintf("%s: message %s: %v", inbox, it, err))
				continue
			}
			listed[inbox] = append(listed[inbox], m.MessageID)
		}
	}
	return listed, errs
}

// ledger is what the senders tried and what the stack acknowledged (250 to DATA), by Message-ID.
type ledger struct {
	mu    sync.Mutex
	sent  map[string][]string // every mail tried → its recipients
	acked map[string][]string // the ones that got 250
}

func (l *ledger) record(id string, to []string, acked bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent[id] = to
	if acked {
		l.acked[id] = to
	}
}

// sendLoop sends mail over one SMTP session at a time until ctx ends, reconnecting to whichever
// stack runs after an error. A mail without a 250 is not acknowledged and is not counted, even
// if the stack stored it before it died: the sender would send it again, and Pigeon dedupes on
// the Message-ID.
func (h *crashHarness) sendLoop(ctx context.Context, sender int, rng *rand.Rand, seed uint64, inboxes []string, led *ledger) {
	var c *smtp.Client
	var conn net.Conn
	defer func() {
		if c != nil {
			c.Close()
		}
	}()
	for n := 0; ctx.Err() == nil; {
		if c == nil {
			in := h.running(ctx)
			if in == nil {
				return
			}
			var err error
			if conn, c, err = dialSMTP(in.smtpAddr); err != nil {
				time.Sleep(20 * time.Millisecond) // the stack died under us; wait for the next one
				continue
			}
		}
		id := fmt.Sprintf("<crash-%d-%d-%d@sender.example>", seed, sender, n)
		n++
		to := []string{inboxes[rng.IntN(len(inboxes))]}
		if rng.IntN(5) == 0 { // some mail goes to two inboxes: one message in each
			if other := inboxes[rng.IntN(len(inboxes))]; other != to[0] {
				to = append(to, other)
			}
		}
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		err := transact(c, crashMail(id, fmt.Sprint(sender), to))
		led.record(id, to, err == nil)
		if err != nil {
			c.Close()
			c = nil
			time.Sleep(20 * time.Millisecond)
			continue
		}
		time.Sleep(time.Duration(5+rng.IntN(20)) * time.Millisecond) // bounds the volume to check
	}
}

// outgoing is one mail: envelope and content.
type outgoing struct {
	from string
	to   []string
	data []byte
}

// crashMail is a ~2 KB text mail with Message-ID id (unique in the run).
func crashMail(id, sender string, to []string) outgoing {
	from := "sender-" + sender + "@sender.example"
	var b strings.Builder
	fmt.Fprintf(&b, "From: Crash Sender <%s>\r\nTo: %s\r\nSubject: crash %s\r\nMessage-ID: %s\r\nDate: %s\r\n", from, strings.Join(to, ", "), id, id, time.Now().UTC().Format(time.RFC1123Z))
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")
	for i := range 30 {
		fmt.Fprintf(&b, "Line %02d of a mail that must survive a crash once it has been acknowledged.\r\n", i)
	}
	return outgoing{from: from, to: to, data: []byte(b.String())}
}

func dialSMTP(addr string) (net.Conn, *smtp.Client, error) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	c, err := smtp.NewClient(conn, "127.0.0.1")
	if err == nil {
		err = c.Hello("crash-test.sender.example")
	}
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, c, nil
}

// transact is one MAIL…DATA transaction; nil only when the end of DATA got 250.
func transact(c *smtp.Client, m outgoing) error {
	if err := c.Mail(m.from); err != nil {
		return err
	}
	for _, r := range m.to {
		if err := c.Rcpt(r); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(m.data); err != nil {
		return err
	}
	return w.Close() // reads the reply to the final dot
}

// sendMail sends one mail in its own session.
func sendMail(addr string, m outgoing) error {
	_, c, err := dialSMTP(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := transact(c, m); err != nil {
		return err
	}
	return c.Quit()
}

// hookRecorder is the webhook receiver: it records every attempt by webhook (URL path), and
// fails the first attempt of about a quarter of the events, so that some deliveries are in
// backoff when a kill comes and retries have to keep their svix-id across restarts.
type hookRecorder struct {
	mu       sync.Mutex
	secrets  map[string]string                       // path → the webhook's signing secret
	ids      map[string]map[string]map[string]bool   // path → event id → svix-ids it came under
	events   map[string]map[string]map[string]string // path → inbox → message id → event id
	eventOf  map[string]map[string]string            // path → svix-id → event id
	attempts map[string]int                          // path + event id → attempts so far
	bad      []string                                // attempts that were malformed or badly signed
	total    int
}

func newHookRecorder() *hookRecorder {
	return &hookRecorder{
		secrets: map[string]string{}, ids: map[string]map[string]map[string]bool{},
		events: map[string]map[string]map[string]string{}, eventOf: map[string]map[string]string{},
		attempts: map[string]int{},
	}
}

func (r *hookRecorder) setSecret(path, secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.secrets[path] = secret
}

func (r *hookRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return // cut off by a kill: not a delivery, and the sender retries it
	}
	path, svixID := req.URL.Path, req.Header.Get("svix-id")
	var ev wire.Event
	err = json.Unmarshal(body, &ev)

	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	if err == nil {
		err = webhook.Verify(r.secrets[path], req.Header, body, time.Now())
	}
	if err != nil || ev.EventType != wire.EventMessageReceived || ev.Message == nil || ev.EventID == "" || svixID == "" {
		r.bad = append(r.bad, fmt.Sprintf("%s svix-id %q: %v: %.200s", path, svixID, err, body))
		w.WriteHeader(http.StatusOK) // retrying would not make it better
		return
	}
	addTo(r.ids, path, ev.EventID)[svixID] = true
	addTo(r.events, path, ev.Message.InboxID)[ev.Message.MessageID] = ev.EventID
	if r.eventOf[path] == nil {
		r.eventOf[path] = map[string]string{}
	}
	if prev, ok := r.eventOf[path][svixID]; ok && prev != ev.EventID {
		r.bad = append(r.bad, fmt.Sprintf("%s svix-id %s carried events %s and %s", path, svixID, prev, ev.EventID))
	}
	r.eventOf[path][svixID] = ev.EventID
	r.attempts[path+" "+ev.EventID]++
	if r.attempts[path+" "+ev.EventID] == 1 && failFirst(ev.EventID) {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// failFirst picks the events whose first attempt fails (a hash, so the choice needs no state).
func failFirst(eventID string) bool {
	f := fnv.New32a()
	f.Write([]byte(eventID))
	return f.Sum32()%4 == 0
}

// addTo returns m[a][b], creating the maps on the way.
func addTo[V any](m map[string]map[string]map[string]V, a, b string) map[string]V {
	if m[a] == nil {
		m[a] = map[string]map[string]V{}
	}
	if m[a][b] == nil {
		m[a][b] = map[string]V{}
	}
	return m[a][b]
}

// missing lists, by webhook path, the listed messages whose message.received event has not
// reached that webhook: every one for the organisation's webhook, the first inbox's for the
// inbox webhook.
func (r *hookRecorder) missing(listed map[string][]string, hookedInbox string) map[string][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]string{}
	for inbox, ids := range listed {
		for _, id := range ids {
			for _, path := range []string{"/hook/org", "/hook/inbox"} {
				if path == "/hook/inbox" && inbox != hookedInbox {
					continue
				}
				if _, ok := r.events[path][inbox][id]; !ok {
					out[path] = append(out[path], inbox+" "+id)
				}
			}
		}
	}
	return out
}

// check asserts the webhook half: every listed message's event arrived at each webhook in scope,
// each event under one svix-id, every attempt well-formed and signed.
func (r *hookRecorder) check(t *testing.T, listed map[string][]string, hookedInbox string) {
	t.Helper()
	for path, ids := range r.missing(listed, hookedInbox) {
		t.Errorf("webhook %s: %d listed messages whose message.received never arrived, e.g. %s", path, len(ids), examples(ids))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for path, byEvent := range r.ids {
		var split []string
		for ev, ids := range byEvent {
			if len(ids) != 1 {
				split = append(split, fmt.Sprintf("%s under %d svix-ids", ev, len(ids)))
			}
		}
		if len(split) > 0 {
			t.Errorf("webhook %s: %d events arrived under more than one svix-id, e.g. %s", path, len(split), examples(split))
		}
	}
	if len(r.bad) > 0 {
		t.Errorf("webhooks: %d malformed or badly signed deliveries, e.g. %s", len(r.bad), examples(r.bad))
	}
}

func (r *hookRecorder) attemptCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// subscriber is the WebSocket client: it connects to whichever stack runs, subscribes to the
// inboxes, and records the message.received frames it hears.
type subscriber struct {
	mu    sync.Mutex
	gen   int // the start it is subscribed on; -1 while not subscribed
	err   error
	seen  map[string]int // inbox + " " + message id → frames
	nconn int
	nfrm  int
}

func (s *subscriber) run(ctx context.Context, h *crashHarness, inboxes []string) {
	for ctx.Err() == nil {
		in := h.running(ctx)
		if in == nil {
			return
		}
		err := s.session(ctx, in, inboxes)
		s.mu.Lock()
		s.gen, s.err = -1, err
		s.mu.Unlock()
		time.Sleep(200 * time.Millisecond) // then reconnect, to the next stack if this one died
	}
}

// session is one connection: subscribe, then read frames until the connection breaks.
func (s *subscriber) session(ctx context.Context, in *instance, inboxes []string) error {
	dialCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(dialCtx, in.wsURL+"?api_key="+url.QueryEscape(in.key), nil)
	if err != nil {
		return fmt.Errorf("start %d: dial: %w", in.gen, err)
	}
	defer c.CloseNow()
	s.mu.Lock()
	s.nconn++
	s.mu.Unlock()
	frame, _ := json.Marshal(map[string]any{"type": "subscribe", "inbox_ids": inboxes, "event_types": []string{"message.received"}})
	if err := c.Write(dialCtx, websocket.MessageText, frame); err != nil {
		return fmt.Errorf("start %d: subscribe: %w", in.gen, err)
	}
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			return fmt.Errorf("start %d: read: %w", in.gen, err)
		}
		var f struct{ Type string }
		if err := json.Unmarshal(data, &f); err != nil {
			return fmt.Errorf("start %d: frame %.200s: %w", in.gen, data, err)
		}
		var ev wire.Event
		switch f.Type {
		case "error": // its "message" is a string, not an event's message
			return fmt.Errorf("start %d: subscribe refused: %s", in.gen, data)
		case "event":
			if err := json.Unmarshal(data, &ev); err != nil || ev.Message == nil {
				return fmt.Errorf("start %d: event frame %.200s: %v", in.gen, data, err)
			}
		}
		s.mu.Lock()
		if f.Type == "subscribed" {
			s.gen = in.gen
		}
		if ev.Message != nil {
			s.seen[ev.Message.InboxID+" "+ev.Message.MessageID]++
			s.nfrm++
		}
		s.mu.Unlock()
	}
}

func (s *subscriber) on() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

func (s *subscriber) lastErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// heard counts the mails (Message-ID → inbox) whose event frame arrived.
func (s *subscriber) heard(mails map[string]string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, inbox := range mails {
		if s.seen[inbox+" "+id] > 0 {
			n++
		}
	}
	return n
}

func (s *subscriber) frames() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nfrm
}

func (s *subscriber) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nconn
}

// checkMessages asserts that every acknowledged mail is listed exactly once in each inbox it was
// addressed to, and that nothing is listed that was never sent.
func checkMessages(t *testing.T, led *ledger, listed map[string][]string) {
	t.Helper()
	count := map[string]int{} // inbox + " " + message id → times listed
	var unknown []string
	unacked := 0
	for inbox, ids := range listed {
		for _, id := range ids {
			count[inbox+" "+id]++
			switch to, ok := led.sent[id]; {
			case !ok || !slices.Contains(to, inbox):
				unknown = append(unknown, inbox+" "+id)
			case led.acked[id] == nil:
				unacked++
			}
		}
	}
	var lost, twice []string
	acked := 0
	for id, to := range led.acked {
		for _, inbox := range to {
			acked++
			switch n := count[inbox+" "+id]; {
			case n == 0:
				lost = append(lost, inbox+" "+id)
			case n > 1:
				twice = append(twice, fmt.Sprintf("%s %s (%d times)", inbox, id, n))
			}
		}
	}
	t.Logf("messages: %d acknowledged deliveries; %d listed that were stored but never acknowledged", acked, unacked)
	if len(lost) > 0 {
		t.Errorf("messages: %d of %d acknowledged deliveries are not listed, e.g. %s", len(lost), acked, examples(lost))
	}
	if len(twice) > 0 {
		t.Errorf("messages: %d acknowledged deliveries are listed more than once, e.g. %s", len(twice), examples(twice))
	}
	if len(unknown) > 0 {
		t.Errorf("messages: %d listed messages were never sent to that inbox, e.g. %s", len(unknown), examples(unknown))
	}
}

// checkRaw asserts that every listed message's raw mail downloads and is that mail.
func checkRaw(t *testing.T, in *instance, key string, listed map[string][]string) {
	t.Helper()
	type job struct{ inbox, id string }
	jobs := make(chan job)
	var mu sync.Mutex
	var bad []string
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for j := range jobs {
				if err := fetchRaw(in, key, j.inbox, j.id); err != nil {
					mu.Lock()
					bad = append(bad, err.Error())
					mu.Unlock()
				}
			}
		})
	}
	n := 0
	for inbox, ids := range listed {
		for _, id := range ids {
			jobs <- job{inbox, id}
			n++
		}
	}
	close(jobs)
	wg.Wait()
	if len(bad) > 0 {
		t.Errorf("raw mail: %d of %d listed messages have no raw mail to download, e.g. %s", len(bad), n, examples(bad))
	}
}

func fetchRaw(in *instance, key, inbox, id string) error {
	var raw wire.RawMessageResponse
	if err := in.call("GET", "/v0/inboxes/"+url.PathEscape(inbox)+"/messages/"+url.PathEscape(id)+"/raw", key, nil, &raw); err != nil {
		return err
	}
	resp, err := restClient.Get(raw.DownloadURL)
	if err != nil {
		return fmt.Errorf("%s: download: %w", id, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	switch {
	case err != nil:
		return fmt.Errorf("%s: download: %w", id, err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("%s: download: %d %.200s", id, resp.StatusCode, body)
	case !bytes.Contains(body, []byte("\r\nMessage-ID: "+id+"\r\n")):
		return fmt.Errorf("%s: the downloaded raw mail (%d bytes) is another mail or truncated", id, len(body))
	}
	return nil
}

// waitFor polls cond every 100 ms until it holds (true) or timeout passes (false).
func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// diff is what only a has and what only b has.
func diff(a, b []string) (onlyA, onlyB []string) {
	for _, x := range a {
		if !slices.Contains(b, x) {
			onlyA = append(onlyA, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			onlyB = append(onlyB, x)
		}
	}
	return onlyA, onlyB
}

// examples is the first few items, sorted, for an error message.
func examples(items []string) string {
	items = slices.Sorted(slices.Values(items))
	if len(items) > 5 {
		return strings.Join(items[:5], "; ") + fmt.Sprintf("; … (%d more)", len(items)-5)
	}
	return strings.Join(items, "; ")
}

// tail is the last n lines of the file at path, for a failure message.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
