package faults_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/deps/faults"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// lifecycleEvent is a sent message to a recipient who gets it and one whose address bounces
// (a permanent bounce: a suppression entry), and SES's notifications about it (Send,
// Delivery, Bounce) in one SNS event, retried whole while the handler fails.
func lifecycleEvent(t *testing.T, inj *faults.Injector) faults.Run {
	w := newWorld(t, inj)
	inbox := w.inbox("agent@pigeon.local")
	const sesID = "0100018c2f3a4b5c-1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d-000000"
	rcpts := []string{"carol@example.com", "bounce@" + sesevents.SimulatorDomain}
	at := time.Now().UTC().Truncate(time.Millisecond)
	st, _ := delivery.Apply(delivery.New(rcpts), delivery.Notification{Kind: delivery.KindSend, Timestamp: at})
	raw := []byte("From: agent@pigeon.local\r\nTo: carol@example.com\r\nSubject: Hello\r\n\r\nhi\r\n")
	_, _, err := w.st.RecordOutbound(context.Background(), store.Outbound{
		Inbox: inbox,
		Message: wire.Message{MessageID: "<" + sesID + "@email.amazonses.com>", Labels: []string{wire.LabelSent}, Timestamp: at,
			From: inbox.InboxID, To: rcpts, Subject: "Hello", Text: "hi", Size: int64(len(raw)), UpdatedAt: at, CreatedAt: at},
		Raw: raw, SESMessageID: sesID, Delivery: st, Recipients: rcpts,
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SNSEvent
	for _, e := range sesevents.Simulate(sesevents.Mail{SESMessageID: sesID, Source: inbox.InboxID, Destination: rcpts, Raw: raw,
		Tags: map[string]string{sesevents.InboxTag: "agent_pigeon_local"}, Timestamp: at}, sesevents.Topic{}) {
		ev.Records = append(ev.Records, e.Records...)
	}
	h := &sesevents.Handler{Store: w.st, Log: slog.New(slog.DiscardHandler)}
	return faults.Run{
		Invoke: func(ctx context.Context) bool { return h.HandleSNS(ctx, ev) != nil },
		State:  w.state,
	}
}

func TestSESEventFaults(t *testing.T) { faults.Enumerate(t, faults.Scenario{Setup: lifecycleEvent}) }
