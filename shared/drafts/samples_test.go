package drafts

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// The sample EventBridge "Scheduled Event" of events/ invokes the scheduler as the Lambda
// runtime would: decoded into the events.CloudWatchEvent that functions/scheduler/main.go
// passes to lambda.Start, whose handler runs SendDue at the current time (the event only
// wakes it up).
func TestSampleScheduledEvent(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "events", "eventbridge-scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.CloudWatchEvent
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatal(err)
	}
	if ev.Version != "0" || ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.Time.IsZero() || ev.AccountID == "" || ev.Region == "" ||
		len(ev.Resources) != 1 || !strings.HasPrefix(ev.Resources[0], "arn:aws:events:"+ev.Region+":"+ev.AccountID+":rule/") || string(ev.Detail) != "{}" {
		t.Fatalf("sample = %+v", ev)
	}

	r := newRig(t)
	now := time.Now().UTC()
	due := r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Subject: "Due", Text: "now"}, now.Add(-time.Minute))
	later := r.draft(t, wire.Draft{To: []string{"bob@example.com"}, Subject: "Later", Text: "later"}, now.Add(time.Hour))

	// The handler of functions/scheduler/main.go, invoked through aws-lambda-go's decoding.
	var got events.CloudWatchEvent
	var sent int
	handler := lambda.NewHandler(func(ctx context.Context, e events.CloudWatchEvent) error {
		got = e
		n, err := r.s.SendDue(ctx, time.Now())
		sent += n
		return err
	})
	if _, err := handler.Invoke(context.Background(), data); err != nil {
		t.Fatal(err)
	}
	if got.ID != ev.ID || !got.Time.Equal(ev.Time) {
		t.Fatalf("handler got %+v", got)
	}
	if sent != 1 || len(r.emu.Outbox()) != 1 || r.emu.Outbox()[0].Subject != "Due" {
		t.Fatalf("sent %d, outbox %+v", sent, r.emu.Outbox())
	}
	if _, ok := r.get(t, due.DraftID); ok {
		t.Fatal("the due draft is still there")
	}
	if d, ok := r.get(t, later.DraftID); !ok || d.SendStatus != wire.DraftScheduled {
		t.Fatalf("later = %+v", d.Draft)
	}

	// The next minute's event finds nothing due.
	if _, err := handler.Invoke(context.Background(), data); err != nil || sent != 1 || len(r.emu.Outbox()) != 1 {
		t.Fatalf("second run: sent %d, outbox %d, %v", sent, len(r.emu.Outbox()), err)
	}
}
