package conformance

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/infra/local"
	"github.com/pigeon-mail/pigeon/shared/auth"
)

// domain is the local stack's mail domain in the suite.
const domain = "pigeon.local"

// retryScale shortens the local stack's webhook retry waits (Svix's 5 s, 5 min, …) so the
// delivery test sees three attempts in well under a second.
const retryScale = "0.001"

// nodeTimeout bounds the whole Node suite; it normally takes well under a minute.
const nodeTimeout = 4 * time.Minute

// TestSDK runs the Node suite (test/*.test.mjs) with AgentMail's SDK against a fresh local stack.
func TestSDK(t *testing.T) {
	if _, err := os.Stat(filepath.Join("node_modules", "agentmail", "package.json")); err != nil {
		missing(t, "conformance/node_modules is missing: run npm ci in conformance (make test does)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node is not installed (the conformance suite needs Node 20 or later)")
	}
	files, err := filepath.Glob(filepath.Join("test", "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files under conformance/test: %v", err)
	}
	sort.Strings(files)

	apiKey, _ := auth.NewSecret()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := local.Start(ctx, local.Settings{
		HTTPAddr: "127.0.0.1:0",
		SMTPAddr: "127.0.0.1:0",
		Domain:   domain,
		APIKey:   apiKey,
		Lookup:   lookup(map[string]string{"PIGEON_LOCAL_RETRY_SCALE": retryScale}),
		Log:      slog.New(slog.NewTextHandler(&logWriter{t: t, prefix: "stack: "}, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rest, err := url.Parse(st.RESTURL)
	if err != nil {
		t.Fatal(err)
	}

	runCtx, stop := context.WithTimeout(context.Background(), nodeTimeout)
	defer stop()
	args := append([]string{"--test", "--test-concurrency=1", "--test-reporter=spec"}, files...)
	cmd := exec.CommandContext(runCtx, node, args...)
	cmd.Env = append(os.Environ(),
		"PIGEON_URL="+st.RESTURL,
		"PIGEON_WS_URL=ws://"+rest.Host, // the WebSocket API shares the REST listener; the SDK appends /v0
		"PIGEON_API_KEY="+st.APIKey,
		"PIGEON_SMTP_ADDR="+st.SMTPAddr,
		"PIGEON_DOMAIN="+domain,
		"PIGEON_LOCAL_RETRY_SCALE="+retryScale,
		"PIGEON_OUTBOX_URL="+st.OutboxURL, // local SES: mail kept for other domains
		"NO_COLOR=1",
	)
	out := &logWriter{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	out.Flush()
	if runCtx.Err() != nil {
		t.Fatalf("node test suite did not finish within %s", nodeTimeout)
	}
	if err != nil {
		t.Fatalf("node test suite failed: %v", err)
	}
}

// missing skips the test on a developer machine and fails it in CI, where a missing
// prerequisite means the pipeline forgot a step.
func missing(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// lookup serves the stack's extra settings from vars and nothing from the environment, so a
// developer's PIGEON_* variables cannot change the suite.
func lookup(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// logWriter streams lines into the test log as they arrive.
type logWriter struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	buf    []byte
}

func (w *logWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.t.Log(w.prefix + string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// Flush logs a last line without a newline.
func (w *logWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.t.Log(w.prefix + string(w.buf))
		w.buf = nil
	}
}
