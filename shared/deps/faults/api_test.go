package faults_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/pigeon-mail/pigeon/infra/local/sesemu"
	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/deps/faults"
	"github.com/pigeon-mail/pigeon/shared/drafts"
	"github.com/pigeon-mail/pigeon/shared/httpapi"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/ses"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

const apiSecret = "am_faultsBootstrapSecret0000000000000000000000"

// api is the REST API on a world, sending through a local SES (sesemu) whose client goes
// through the injector. SES's notifications are collected, and handed to the sesevents
// handler by settle, as the configuration set's topic would.
type api struct {
	*world
	h         http.Handler
	emu       *sesemu.Server
	out       *outbound.Service
	lifecycle *sesevents.Handler

	mu        sync.Mutex
	published []events.SNSEvent
}

func newAPI(t *testing.T, inj *faults.Injector) *api {
	t.Helper()
	w := newWorld(t, inj)
	if err := auth.Bootstrap(context.Background(), w.st, w.cfg.OrgID, apiSecret); err != nil {
		t.Fatal(err)
	}
	a := &api{world: w}
	a.emu = &sesemu.Server{PublishDelay: time.Microsecond, Log: slog.New(slog.DiscardHandler), Publish: func(_ context.Context, ev events.SNSEvent) {
		a.mu.Lock()
		defer a.mu.Unlock()
		a.published = append(a.published, ev)
	}}
	srv := httptest.NewServer(a.emu)
	t.Cleanup(srv.Close)
	client := inj.SES(sesv2.New(sesv2.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Retryer: aws.NopRetryer{},
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	}))
	a.lifecycle = &sesevents.Handler{Store: w.st, Log: slog.New(slog.DiscardHandler)}
	a.out = &outbound.Service{Store: w.st, Sender: &ses.Sender{Client: client}, Log: slog.New(slog.DiscardHandler)}
	a.h = httpapi.New(httpapi.Deps{Store: w.st, Blobs: w.blobs, Config: w.cfg, Outbound: a.out, Log: slog.New(slog.DiscardHandler)})
	// The key's first use writes its used_at (at most once a minute): done here, so the runs
	// measure requests of a key in use.
	a.must("GET", "/v0/organizations", nil, nil)
	return a
}

// do sends one request with the organisation key; header holds extra headers.
func (a *api) do(method, path string, body any, header ...string) (int, []byte) {
	a.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			a.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Header.Set("Authorization", "Bearer "+apiSecret)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, r)
	return rec.Code, rec.Body.Bytes()
}

// must is do for a request that has to succeed (set-up).
func (a *api) must(method, path string, body, v any) {
	a.t.Helper()
	status, resp := a.do(method, path, body)
	if status != http.StatusOK && status != http.StatusNoContent {
		a.t.Fatalf("%s %s = %d %s", method, path, status, resp)
	}
	if v != nil {
		if err := json.Unmarshal(resp, v); err != nil {
			a.t.Fatal(err)
		}
	}
}

// retried reports whether a client retries an answer: 5xx, and 409 or 425 (a send with the
// same Idempotency-Key in progress), as an SDK's retry policy for idempotent requests does.
func retried(status int) bool {
	return status >= 500 || status == http.StatusConflict || status == http.StatusTooEarly
}

// settle hands SES's notifications, once all are out, to the sesevents handler (each
// notification until it is applied, as SNS retries).
func (a *api) settle(ctx context.Context) {
	a.t.Helper()
	a.emu.Wait()
	a.mu.Lock()
	evs := a.published
	a.published = nil
	a.mu.Unlock()
	for _, ev := range evs {
		if err := a.lifecycle.HandleSNS(ctx, ev); err != nil {
			a.t.Errorf("sesevents: %v", err)
		}
	}
}

// state is the world's state and what SES sent (recipients, subject and raw content, each
// normalised).
func (a *api) state(ctx context.Context) faults.State {
	a.settle(ctx)
	s := a.world.state(ctx)
	for _, m := range a.emu.Outbox() {
		s.Add("ses", fmt.Sprintf("%s %v %s %s", m.From, m.Recipients, m.Subject, base64.StdEncoding.EncodeToString(m.Raw)))
	}
	return s
}

func inboxPath(addr string) string {
	return "/v0/inboxes/" + strings.ReplaceAll(url.PathEscape(addr), "@", "%40")
}

// sendOne is POST …/messages/send with an Idempotency-Key, retried by the client on 5xx and
// 409.
func sendOne(t *testing.T, inj *faults.Injector) faults.Run {
	a := newAPI(t, inj)
	a.inbox("agent@pigeon.local")
	body := map[string]any{"to": []string{"carol@example.com"}, "subject": "Hello", "text": "Hello, Carol."}
	return faults.Run{
		Invoke: func(context.Context) bool {
			status, _ := a.do("POST", inboxPath("agent@pigeon.local")+"/messages/send", body, "Idempotency-Key", "send-1")
			return retried(status)
		},
		State: a.state,
	}
}

// sesLost is why a send whose SES answer was lost ends unlike a clean one: the message keeps
// the Message-ID Pigeon composed (SES's is not known when it is recorded), so its message_id,
// raw object and MID# index differ; it is sent once, and settles to delivered with one
// message.sent and one message.delivered event (TestSendResponseLost checks those).
const sesLost = "SES took the mail, its answer was lost: the message keeps its composed Message-ID"

func TestSendFaults(t *testing.T) {
	faults.Enumerate(t, faults.Scenario{Setup: sendOne, Known: map[string]string{"after/5/SESv2.SendEmail": sesLost}})
}

// scheduledDraft is a draft whose send_at has come, sent by the scheduler's SendDue (run
// again a minute later while it fails, as EventBridge does).
func scheduledDraft(t *testing.T, inj *faults.Injector) faults.Run {
	a := newAPI(t, inj)
	a.inbox("agent@pigeon.local")
	at := time.Now().Add(time.Minute).UTC()
	a.must("POST", inboxPath("agent@pigeon.local")+"/drafts", map[string]any{
		"to": []string{"carol@example.com"}, "subject": "Later", "text": "Scheduled.", "send_at": at,
	}, nil)
	sender := &drafts.Sender{Store: a.st, Outbound: a.out}
	return faults.Run{
		Invoke: func(ctx context.Context) bool {
			_, err := sender.SendDue(ctx, at.Add(time.Second))
			return err != nil
		},
		State: a.state,
	}
}

func TestScheduledDraftFaults(t *testing.T) {
	faults.Enumerate(t, faults.Scenario{Setup: scheduledDraft, Known: map[string]string{
		"after/13/SESv2.SendEmail": sesLost,
		// Not fixed: the draft's send claim written with its answer lost holds the draft until
		// the claim goes stale (minutes), longer than the retries here.
		"after/9/DynamoDB.UpdateItem": "draft claim written, answer lost: the draft waits for the stale-claim timeout",
		// Not fixed: the mail was sent and recorded, but the draft's removal failed; the draft
		// stays, claimed, though its message exists.
		"before/16/DynamoDB.TransactWriteItems": "sent draft not removed when its finishing transaction fails",
	}})
}

// draftSend is POST …/drafts/{id}/send, retried by the client on 5xx and 409.
func draftSend(t *testing.T, inj *faults.Injector) faults.Run {
	a := newAPI(t, inj)
	a.inbox("agent@pigeon.local")
	var d struct {
		DraftID string `json:"draft_id"`
	}
	a.must("POST", inboxPath("agent@pigeon.local")+"/drafts", map[string]any{"to": []string{"carol@example.com"}, "subject": "Now", "text": "Draft."}, &d)
	return faults.Run{
		Invoke: func(context.Context) bool {
			status, _ := a.do("POST", inboxPath("agent@pigeon.local")+"/drafts/"+d.DraftID+"/send", nil)
			return retried(status)
		},
		State: a.state,
	}
}

func TestDraftSendFaults(t *testing.T) {
	faults.Enumerate(t, faults.Scenario{Setup: draftSend, Known: map[string]string{
		"after/7/SESv2.SendEmail":               sesLost,
		"after/4/DynamoDB.UpdateItem":           "draft claim written, answer lost: the draft waits for the stale-claim timeout",
		"before/10/DynamoDB.TransactWriteItems": "sent draft not removed when its finishing transaction fails",
	}})
}

// deleteInbox is DELETE of an inbox holding a sent message, retried by the client on 5xx (a
// retry finding it gone, 404, is done).
func deleteInbox(t *testing.T, inj *faults.Injector) faults.Run {
	a := newAPI(t, inj)
	a.inbox("agent@pigeon.local")
	a.must("POST", inboxPath("agent@pigeon.local")+"/messages/send", map[string]any{"to": []string{"carol@example.com"}, "subject": "Bye", "text": "Bye."}, nil)
	a.settle(context.Background())
	return faults.Run{
		Invoke: func(context.Context) bool {
			status, _ := a.do("DELETE", inboxPath("agent@pigeon.local"), nil)
			return status >= 500
		},
		State: a.state,
	}
}

func TestDeleteInboxFaults(t *testing.T) { faults.Enumerate(t, faults.Scenario{Setup: deleteInbox}) }

// deletePod is DELETE of an empty pod, retried by the client on 5xx.
func deletePod(t *testing.T, inj *faults.Injector) faults.Run {
	a := newAPI(t, inj)
	var p struct {
		PodID string `json:"pod_id"`
	}
	a.must("POST", "/v0/pods", map[string]any{"name": "Doomed"}, &p)
	return faults.Run{
		Invoke: func(context.Context) bool {
			status, _ := a.do("DELETE", "/v0/pods/"+p.PodID, nil)
			return status >= 500
		},
		State: a.state,
	}
}

func TestDeletePodFaults(t *testing.T) { faults.Enumerate(t, faults.Scenario{Setup: deletePod}) }

// TestSendResponseLost: SES takes the mail and its answer is lost. The send answers with the
// message, kept as sending; the client's retry with the same Idempotency-Key gets the same
// message and sends nothing; SES's notifications, found through the send's tag, settle it
// (delivered, one message.sent and one message.delivered event).
func TestSendResponseLost(t *testing.T) {
	inj := &faults.Injector{}
	a := newAPI(t, inj)
	a.inbox("agent@pigeon.local")
	body := map[string]any{"to": []string{"carol@example.com"}, "subject": "Once", "text": "Only once."}
	send := func() (int, string) {
		status, resp := a.do("POST", inboxPath("agent@pigeon.local")+"/messages/send", body, "Idempotency-Key", "lost-1")
		var r struct {
			MessageID string `json:"message_id"`
		}
		_ = json.Unmarshal(resp, &r)
		return status, r.MessageID
	}
	// The send's calls: find SendEmail's position in a clean run of the same scenario.
	_, calls := faults.Clean(t, faults.Scenario{Setup: sendOne})
	k := slices.IndexFunc(calls, func(c faults.Call) bool { return c.Operation == "SendEmail" }) + 1
	inj.Arm(k, faults.After)
	status, first := send()
	inj.Disarm()
	if !inj.Injected() || status != http.StatusOK || first == "" {
		t.Fatalf("send = %d %q (injected %v)", status, first, inj.Injected())
	}
	ctx := context.Background()
	if m, err := a.st.GetMessage(ctx, "agent@pigeon.local", first); err != nil || m.Status != "sending" {
		t.Fatalf("before SES reports: %+v %v", m.Status, err)
	}
	status, again := send()
	if status != http.StatusOK || again != first {
		t.Fatalf("retry = %d %q, want the first message %q", status, again, first)
	}
	a.settle(ctx)
	if n := len(a.emu.Outbox()); n != 1 {
		t.Fatalf("SES sent %d mails, want 1", n)
	}
	m, err := a.st.GetMessage(ctx, "agent@pigeon.local", first)
	if err != nil || m.Status != "delivered" {
		t.Fatalf("after SES reported: %q %v", m.Status, err)
	}
	evs, _, err := a.st.InboxEvents(ctx, "agent@pigeon.local", store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, ev := range evs {
		count[ev.EventType]++
	}
	if count[wire.EventMessageSent] != 1 || count[wire.EventMessageDelivered] != 1 {
		t.Fatalf("events = %v, want one message.sent and one message.delivered", count)
	}
}
