package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Timeout is how long one attempt may take, connection and response included: Svix's 15 s is
// longer than receivers are told to take (answer 2xx at once, work later); 10 s leaves a
// webhooks Lambda room for a batch.
const Timeout = 10 * time.Second

// userAgent identifies Pigeon's deliveries to receivers.
const userAgent = "Pigeon-Webhooks/1.0"

// Outcome classifies an attempt.
type Outcome int

const (
	// Delivered: the receiver answered 2xx.
	Delivered Outcome = iota
	// Retry: any other answer, a timeout or a network failure; try again after Backoff.
	Retry
	// Failed: retrying cannot help, dead-letter the task now. That is 410 Gone (the receiver
	// says the endpoint is gone for good), a blocked address, or a task that cannot be signed.
	//
	// 410 does not disable the webhook: AgentMail's v0 API has no way to enable a webhook again
	// (its update body has no "enabled"), so one stray 410 from a proxy would break it for good.
	// The owner deletes webhooks they no longer want.
	Failed
)

func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	}
	return "failed"
}

// ErrTimeout marks an attempt that took longer than the Deliverer's timeout.
var ErrTimeout = errors.New("webhook: receiver did not answer in time")

// Result is the outcome of one attempt.
type Result struct {
	Outcome  Outcome
	Status   int           // the receiver's HTTP status; 0 when there was no answer
	Err      error         // why the event was not delivered; nil when Delivered
	Duration time.Duration // from sending to the end of the answer
}

// Deliverer POSTs tasks to their webhooks.
type Deliverer struct {
	Client  *http.Client     // how requests are sent; NewDeliverer builds the guarded one
	Timeout time.Duration    // per attempt; Timeout when zero
	Now     func() time.Time // the clock behind svix-timestamp; time.Now when nil
}

// NewDeliverer returns a Deliverer with its own HTTP client. In deployed mode the client refuses
// to connect to blocked addresses (Blocked), judged on each address actually dialled so that a
// name resolving, or re-resolving, into a private network is caught; it also ignores proxy
// environment variables, which would hide the real destination from that check. Redirects are
// never followed (a 3xx is a failed attempt, as with Svix).
func NewDeliverer(deployed bool) *Deliverer {
	dialer := &net.Dialer{Timeout: Timeout, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   Timeout,
		ResponseHeaderTimeout: Timeout,
	}
	if deployed {
		dialer.Control = refuseBlocked
	} else {
		transport.Proxy = http.ProxyFromEnvironment
	}
	return &Deliverer{Client: &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Deliver makes one attempt to POST t.Body to t.URL, signed, with t's custom headers, and
// classifies the answer. It never returns an error: everything is in the Result.
func (d *Deliverer) Deliver(ctx context.Context, t Task) Result {
	start := time.Now()
	r := d.attempt(ctx, t)
	r.Duration = time.Since(start)
	return r
}

func (d *Deliverer) attempt(ctx context.Context, t Task) Result {
	timeout := d.Timeout
	if timeout <= 0 {
		timeout = Timeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, ErrTimeout)
	defer cancel()

	req, err := d.request(ctx, t)
	if err != nil {
		return Result{Outcome: Failed, Err: err}
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		switch {
		case errors.Is(err, ErrBlockedAddress):
			return Result{Outcome: Failed, Err: err}
		case errors.Is(context.Cause(ctx), ErrTimeout):
			return Result{Outcome: Retry, Err: fmt.Errorf("%w (%s)", ErrTimeout, timeout)}
		}
		return Result{Outcome: Retry, Err: fmt.Errorf("webhook: %w", err)}
	}
	defer resp.Body.Close()
	// Read (a bounded part of) the answer so the connection can be reused; a receiver that
	// answers 2xx and then stalls the body has still answered.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return Result{Outcome: Delivered, Status: resp.StatusCode}
	case resp.StatusCode == http.StatusGone:
		return Result{Outcome: Failed, Status: resp.StatusCode, Err: errors.New("webhook: receiver answered 410 Gone")}
	}
	return Result{Outcome: Retry, Status: resp.StatusCode, Err: fmt.Errorf("webhook: receiver answered %d", resp.StatusCode)}
}

// request builds the signed POST for t.
func (d *Deliverer) request(ctx context.Context, t Task) (*http.Request, error) {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	ts := now()
	msgID := MessageID(t.EventID, t.WebhookID)
	sig, err := Sign(t.Secret, msgID, ts, t.Body)
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", t.WebhookID, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(t.Body))
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", t.WebhookID, err)
	}
	for name, value := range t.Headers {
		req.Header.Set(name, value)
	}
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	for _, prefix := range []string{"svix-", "webhook-"} {
		req.Header.Set(prefix+"id", msgID)
		req.Header.Set(prefix+"timestamp", stamp)
		req.Header.Set(prefix+"signature", sig)
	}
	return req, nil
}
