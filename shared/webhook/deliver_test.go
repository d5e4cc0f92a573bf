package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func task(url string) Task {
	return Task{
		WebhookID: "ep_1", EventID: "evt_1", Attempt: 1, URL: url, Secret: vectorSecret,
		Headers: map[string]string{"Authorization": "Bearer receiver-token", "X-Tenant": "t1"},
		Body:    json.RawMessage(`{"type":"event","event_type":"message.sent","event_id":"evt_1"}`),
	}
}

// receiver records requests and answers with status.
type receiver struct {
	mu     sync.Mutex
	status int
	delay  time.Duration
	got    []*http.Request
	bodies [][]byte
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.got, rc.bodies = append(rc.got, r), append(rc.bodies, body)
	status, delay := rc.status, rc.delay
	rc.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
		}
	}
	if status == http.StatusFound {
		w.Header().Set("Location", "http://example.com/elsewhere")
	}
	w.WriteHeader(status)
}

func TestDeliverSignsAndSends(t *testing.T) {
	rc := &receiver{status: http.StatusOK}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	d := NewDeliverer(false)
	tk := task(srv.URL + "/hook")
	for range 2 { // a retry carries the same id
		if r := d.Deliver(context.Background(), tk); r.Outcome != Delivered || r.Status != 200 || r.Err != nil {
			t.Fatalf("result %+v", r)
		}
		tk.Attempt++
	}
	if len(rc.got) != 2 {
		t.Fatalf("%d requests", len(rc.got))
	}
	for i, r := range rc.got {
		if r.Method != http.MethodPost || r.URL.Path != "/hook" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		if string(rc.bodies[i]) != string(tk.Body) {
			t.Errorf("body %s", rc.bodies[i])
		}
		h := r.Header
		if h.Get("Content-Type") != "application/json" || h.Get("Authorization") != "Bearer receiver-token" || h.Get("X-Tenant") != "t1" {
			t.Errorf("headers %v", h)
		}
		if h.Get("svix-id") != MessageID("evt_1", "ep_1") || h.Get("webhook-id") != h.Get("svix-id") {
			t.Errorf("ids %q %q", h.Get("svix-id"), h.Get("webhook-id"))
		}
		if h.Get("webhook-signature") != h.Get("svix-signature") || h.Get("webhook-timestamp") != h.Get("svix-timestamp") {
			t.Error("svix-* and webhook-* headers differ")
		}
		if err := Verify(vectorSecret, h, rc.bodies[i], time.Now()); err != nil {
			t.Errorf("receiver cannot verify: %v", err)
		}
		h.Del("webhook-id") // Verify falls back to the svix-* headers
		if err := Verify(vectorSecret, h, rc.bodies[i], time.Now()); err != nil {
			t.Errorf("svix headers: %v", err)
		}
	}
}

func TestDeliverClassifiesAnswers(t *testing.T) {
	tests := []struct {
		status int
		want   Outcome
	}{
		{200, Delivered}, {202, Delivered}, {204, Delivered},
		{http.StatusFound, Retry}, // redirects are not followed
		{400, Retry}, {401, Retry}, {404, Retry}, {429, Retry},
		{410, Failed},
		{500, Retry}, {502, Retry}, {503, Retry},
	}
	rc := &receiver{}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	d := NewDeliverer(false)
	for _, tt := range tests {
		rc.mu.Lock()
		rc.status = tt.status
		rc.mu.Unlock()
		r := d.Deliver(context.Background(), task(srv.URL))
		if r.Outcome != tt.want || r.Status != tt.status {
			t.Errorf("status %d: %v (%d), want %v", tt.status, r.Outcome, r.Status, tt.want)
		}
		if (r.Err == nil) != (tt.want == Delivered) {
			t.Errorf("status %d: err %v", tt.status, r.Err)
		}
	}
}

func TestDeliverTimeout(t *testing.T) {
	rc := &receiver{status: 200, delay: 2 * time.Second}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	d := NewDeliverer(false)
	d.Timeout = 100 * time.Millisecond
	r := d.Deliver(context.Background(), task(srv.URL))
	if r.Outcome != Retry || !errors.Is(r.Err, ErrTimeout) || r.Status != 0 {
		t.Fatalf("result %+v", r)
	}
	if r.Duration > time.Second {
		t.Errorf("took %s", r.Duration)
	}
}

func TestDeliverNetworkFailureRetries(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	r := NewDeliverer(false).Deliver(context.Background(), task(url))
	if r.Outcome != Retry || r.Err == nil || errors.Is(r.Err, ErrTimeout) {
		t.Fatalf("result %+v", r)
	}
}

func TestDeliverRefusesPrivateAddressesWhenDeployed(t *testing.T) {
	rc := &receiver{status: 200}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":"):]

	targets := []string{
		srv.URL,                              // 127.0.0.1
		"http://localhost" + port,            // a name that resolves to loopback
		"http://[::1]" + port,                // IPv6 loopback
		"http://10.0.0.1:9/",                 // RFC 1918
		"http://169.254.169.254/latest/meta", // instance metadata
		"http://[fd00:ec2::254]/",            // instance metadata over IPv6
	}
	deployed := NewDeliverer(true)
	for _, u := range targets {
		r := deployed.Deliver(context.Background(), task(u))
		if r.Outcome != Failed || !errors.Is(r.Err, ErrBlockedAddress) {
			t.Errorf("deployed %s: %+v", u, r)
		}
	}
	if len(rc.got) != 0 {
		t.Fatalf("the receiver got %d requests", len(rc.got))
	}
	if r := NewDeliverer(false).Deliver(context.Background(), task(srv.URL)); r.Outcome != Delivered {
		t.Fatalf("local mode: %+v", r)
	}
}

func TestDeliverBadSecretFails(t *testing.T) {
	tk := task("http://example.com/")
	tk.Secret = "whsec_!!"
	if r := NewDeliverer(false).Deliver(context.Background(), tk); r.Outcome != Failed || r.Err == nil {
		t.Fatalf("result %+v", r)
	}
}
