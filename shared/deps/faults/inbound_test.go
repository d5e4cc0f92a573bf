package faults_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/deps/faults"
	"github.com/pigeon-mail/pigeon/shared/inbound"
)

// receiptEvent is the sample SES receipt notification (SNS event) for the object key in
// bucket, to the recipients.
func receiptEvent(t *testing.T, bucket, key string, recipients ...string) json.RawMessage {
	t.Helper()
	data, err := os.ReadFile("../../../events/sns-ses-receipt.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	var n map[string]any
	if err := json.Unmarshal([]byte(ev.Records[0].SNS.Message), &n); err != nil {
		t.Fatal(err)
	}
	r := n["receipt"].(map[string]any)
	r["recipients"] = recipients
	action := r["action"].(map[string]any)
	action["bucketName"], action["objectKey"] = bucket, key
	msg, _ := json.Marshal(n)
	ev.Records[0].SNS.Message = string(msg)
	out, _ := json.Marshal(ev)
	return out
}

// receiveOne is one received mail (with an attachment) for one inbox, as SES delivers it:
// the raw mail in the bucket, then the notification, at least once.
func receiveOne(t *testing.T, inj *faults.Injector) faults.Run {
	w := newWorld(t, inj)
	w.inbox("agent@pigeon.local")
	raw, err := os.ReadFile("../../inbound/testdata/quarterly.eml")
	if err != nil {
		t.Fatal(err)
	}
	const key = "raw/quarterly"
	if err := w.blobs.Put(context.Background(), key, "message/rfc822", raw); err != nil {
		t.Fatal(err)
	}
	h := &inbound.Handler{Store: w.st, Blobs: w.blobs, Config: w.cfg, Log: slog.New(slog.DiscardHandler)}
	ev := receiptEvent(t, w.name, key, "agent@pigeon.local")
	return faults.Run{
		Invoke: func(ctx context.Context) bool { return h.HandleEvent(ctx, ev) != nil },
		State:  w.state,
	}
}

func TestInboundFaults(t *testing.T) {
	faults.Enumerate(t, faults.Scenario{Setup: receiveOne})
}
