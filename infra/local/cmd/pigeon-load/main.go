// Command pigeon-load measures real-time delivery on the local stack (`make bench`): it starts
// a stack on loopback, connects WebSocket clients (100, then 1,000), half subscribed to the whole
// organisation and half to one inbox each, sends mail over SMTP at a steady rate and reports,
// per round, the latency from the start of each SMTP transaction to each message.received frame
// (p50, p99, max) and the frames lost (expected and never received; must be 0).
//
// The clock starts when the SMTP transaction starts because the local SMTP listener answers 250
// only after inbound has stored the message (SES answers before its Lambda runs), so this is
// the honest "accepted" point: the figure includes parsing and storing the message, the stream,
// fanout and the post. Everything stays on loopback; a round sends a bounded number of messages
// and gives up waiting after -drain.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/smtp"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/pigeon-mail/pigeon/infra/local"
)

func main() {
	clients := flag.String("clients", "100,1000", "comma-separated client counts, one round each")
	rate := flag.Float64("rate", 10, "messages per second")
	messages := flag.Int("messages", 50, "messages per round")
	inboxes := flag.Int("inboxes", 10, "inboxes the messages are spread over")
	drain := flag.Duration("drain", 15*time.Second, "how long to wait for the last frames of a round")
	flag.Parse()
	var counts []int
	for _, c := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 2 {
			fmt.Fprintln(os.Stderr, "pigeon-load: -clients must list numbers ≥ 2")
			os.Exit(2)
		}
		counts = append(counts, n)
	}
	if err := run(counts, *rate, *messages, *inboxes, *drain); err != nil {
		fmt.Fprintln(os.Stderr, "pigeon-load:", err)
		os.Exit(1)
	}
}

func run(counts []int, rate float64, messages, inboxCount int, drain time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := local.Start(ctx, local.Settings{
		HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", Domain: "pigeon.local",
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err != nil {
		return err
	}
	defer st.Close()

	var inboxes []string
	for i := range inboxCount {
		id, err := createInbox(st.RESTURL, st.APIKey, fmt.Sprintf("load%d", i))
		if err != nil {
			return err
		}
		inboxes = append(inboxes, id)
	}
	fmt.Printf("pigeon-load: %d messages per round at %.0f/s over %d inboxes; half the clients org-wide, half on one inbox\n", messages, rate, inboxCount)
	fmt.Printf("%8s %9s %10s %10s %10s %10s %6s\n", "clients", "frames", "p50", "p99", "max", "elapsed", "lost")
	for round, n := range counts {
		r, err := runRound(st, round, n, inboxes, rate, messages, drain)
		if err != nil {
			return err
		}
		fmt.Printf("%8d %9d %10s %10s %10s %10s %6d\n", n, r.frames, r.p(0.50), r.p(0.99), r.p(1), r.elapsed.Round(time.Millisecond), r.lost)
		if r.lost > 0 {
			defer os.Exit(1)
		}
	}
	return nil
}

type result struct {
	frames    int
	latencies []time.Duration
	lost      int
	elapsed   time.Duration
}

func (r result) p(q float64) string {
	if len(r.latencies) == 0 {
		return "-"
	}
	i := int(q*float64(len(r.latencies))+0.5) - 1
	i = max(0, min(i, len(r.latencies)-1))
	return r.latencies[i].Round(100 * time.Microsecond).String()
}

// client is one WebSocket subscriber and what it got.
type client struct {
	conn  *websocket.Conn
	inbox string // "" = whole organisation
	mu    sync.Mutex
	got   map[string]time.Duration // subject → latency
	dups  int
}

func runRound(st *local.Stack, round, n int, inboxes []string, rate float64, messages int, drain time.Duration) (result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var sentAt sync.Map // subject → time.Time
	clients := make([]*client, n)
	var g errgroup.Group
	g.SetLimit(64)
	for i := range clients {
		c := &client{got: map[string]time.Duration{}}
		if i%2 == 1 {
			c.inbox = inboxes[(i/2)%len(inboxes)]
		}
		clients[i] = c
		g.Go(func() error { return c.connect(ctx, st) })
	}
	if err := g.Wait(); err != nil {
		return result{}, err
	}
	for _, c := range clients {
		go c.read(ctx, &sentAt)
	}
	defer func() {
		for _, c := range clients {
			_ = c.conn.Close(websocket.StatusNormalClosure, "")
		}
	}()

	start := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	var sends errgroup.Group
	var sent atomic.Int64
	for j := range messages {
		<-tick.C
		subject := fmt.Sprintf("load r%d m%d", round, j)
		to := inboxes[j%len(inboxes)]
		sends.Go(func() error {
			sentAt.Store(subject, time.Now())
			msg := "From: Load <load@sender.example>\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" +
				strings.ReplaceAll(subject, " ", ".") + "@sender.example>\r\nContent-Type: text/plain\r\n\r\nload\r\n"
			if err := smtp.SendMail(st.SMTPAddr, nil, "load@sender.example", []string{to}, []byte(msg)); err != nil {
				return err
			}
			sent.Add(1)
			return nil
		})
	}
	tick.Stop()
	if err := sends.Wait(); err != nil {
		return result{}, fmt.Errorf("smtp: %w", err)
	}

	expected := func(c *client) int {
		if c.inbox == "" {
			return messages
		}
		count := 0
		for j := range messages {
			if inboxes[j%len(inboxes)] == c.inbox {
				count++
			}
		}
		return count
	}
	deadline := time.Now().Add(drain)
	for time.Now().Before(deadline) {
		missing := 0
		for _, c := range clients {
			c.mu.Lock()
			missing += expected(c) - len(c.got)
			c.mu.Unlock()
		}
		if missing == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	var r result
	r.elapsed = time.Since(start)
	for _, c := range clients {
		c.mu.Lock()
		r.lost += expected(c) - len(c.got) + c.dups
		for _, l := range c.got {
			r.latencies = append(r.latencies, l)
		}
		c.mu.Unlock()
	}
	r.frames = len(r.latencies)
	slices.Sort(r.latencies)
	return r, nil
}

func (c *client) connect(ctx context.Context, st *local.Stack) error {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dctx, st.WebSocketURL+"?api_key="+url.QueryEscape(st.APIKey), nil)
	if err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	conn.SetReadLimit(1 << 20)
	c.conn = conn
	sub := `{"type":"subscribe","event_types":["message.received"]}`
	if c.inbox != "" {
		sub = `{"type":"subscribe","event_types":["message.received"],"inbox_ids":["` + c.inbox + `"]}`
	}
	if err := conn.Write(dctx, websocket.MessageText, []byte(sub)); err != nil {
		return err
	}
	_, data, err := conn.Read(dctx)
	if err != nil {
		return err
	}
	if !bytes.Contains(data, []byte(`"subscribed"`)) {
		return fmt.Errorf("subscribe refused: %s", data)
	}
	return nil
}

func (c *client) read(ctx context.Context, sentAt *sync.Map) {
	for {
		_, data, err := c.conn.Read(ctx)
		if err != nil {
			return
		}
		now := time.Now()
		var ev struct {
			Message struct {
				Subject string `json:"subject"`
			} `json:"message"`
		}
		if json.Unmarshal(data, &ev) != nil {
			continue
		}
		t, ok := sentAt.Load(ev.Message.Subject)
		if !ok {
			continue
		}
		c.mu.Lock()
		if _, dup := c.got[ev.Message.Subject]; dup {
			c.dups++
		} else {
			c.got[ev.Message.Subject] = now.Sub(t.(time.Time))
		}
		c.mu.Unlock()
	}
}

func createInbox(base, key, username string) (string, error) {
	body, _ := json.Marshal(map[string]string{"username": username})
	req, err := http.NewRequest(http.MethodPost, base+"/v0/inboxes", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var in struct {
		InboxID string `json:"inbox_id"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &in) != nil {
		return "", errors.New("create inbox: " + resp.Status + " " + string(data))
	}
	return in.InboxID, nil
}
