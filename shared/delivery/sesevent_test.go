package delivery

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// Every sample SNS notification in events/ parses into the notification the lifecycle expects.
func TestParseSampleSESEvents(t *testing.T) {
	cases := []struct {
		file    string
		kind    Kind
		rcpts   int
		typ     string
		subType string
		idFrom  string // "feedback" when the dedupe id must be SES's feedbackId
	}{
		{"sns-ses-send.json", KindSend, 0, "", "", ""},
		{"sns-ses-delivery.json", KindDelivery, 1, "", "", ""},
		{"sns-ses-bounce.json", KindBounce, 1, "Permanent", "General", "feedback"},
		{"sns-ses-complaint.json", KindComplaint, 1, "abuse", "", "feedback"},
		{"sns-ses-reject.json", KindReject, 0, "", "", ""},
		{"sns-ses-deliverydelay.json", KindDeliveryDelay, 1, "TransientCommunicationFailure", "", ""},
		{"sns-ses-renderingfailure.json", KindRenderingFailure, 0, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "events", c.file))
			if err != nil {
				t.Fatal(err)
			}
			var ev events.SNSEvent
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			rec := ev.Records[0].SNS
			sesID, n, err := ParseSESEvent([]byte(rec.Message), rec.MessageID)
			if err != nil {
				t.Fatal(err)
			}
			if sesID != "010001927b4f1d2a-6c1e2f3a-8b9c-4d5e-a6f7-0123456789ab-000000" {
				t.Errorf("ses id %q", sesID)
			}
			if n.Kind != c.kind || len(n.Recipients) != c.rcpts || n.Type != c.typ || n.SubType != c.subType {
				t.Errorf("got %+v", n)
			}
			if c.idFrom == "feedback" && n.ID == rec.MessageID {
				t.Errorf("dedupe id is the SNS id, want the feedbackId")
			}
			if c.idFrom == "" && n.ID != rec.MessageID {
				t.Errorf("dedupe id %q, want the SNS MessageId", n.ID)
			}
			if n.Timestamp.IsZero() || n.Timestamp.Location().String() != "UTC" {
				t.Errorf("timestamp %v", n.Timestamp)
			}
		})
	}
}

func TestParseSESEventRejectsJunk(t *testing.T) {
	if _, _, err := ParseSESEvent([]byte("not json"), "x"); err == nil {
		t.Error("junk accepted")
	}
	if _, _, err := ParseSESEvent([]byte(`{"eventType":"Send","mail":{}}`), "x"); err == nil {
		t.Error("event without a message id accepted")
	}
	if _, _, err := ParseSESEvent([]byte(`{"eventType":"Bounce","mail":{"messageId":"m"}}`), "x"); err == nil {
		t.Error("bounce without its object accepted")
	}
	_, _, err := ParseSESEvent([]byte(`{"eventType":"Open","mail":{"messageId":"m"},"open":{}}`), "x")
	if !errors.Is(err, ErrNotLifecycle) {
		t.Errorf("Open: %v, want ErrNotLifecycle", err)
	}
}
