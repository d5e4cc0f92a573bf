package sesevents

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/delivery"
	"github.com/pigeon-mail/pigeon/shared/ses"
)

func TestOutcomeOf(t *testing.T) {
	for addr, want := range map[string]Outcome{
		"success@simulator.amazonses.com":          Delivered,
		"bounce@simulator.amazonses.com":           HardBounce,
		"Bounce+Label1@Simulator.AmazonSES.com":    HardBounce,
		"Ops <bounce+x@simulator.amazonses.com>":   HardBounce,
		"suppressionlist@simulator.amazonses.com":  SuppressionBounce,
		"complaint+a+b@simulator.amazonses.com":    Complaint,
		"ooto@simulator.amazonses.com":             Delivered,
		"bounce@example.com":                       Delivered,
		"someone@example.com":                      Delivered,
		"bounce@simulator.amazonses.com.evil.test": Delivered,
		"unknown-local@simulator.amazonses.com":    Delivered,
		"not an address":                           Delivered,
	} {
		if got := OutcomeOf(addr); got != want {
			t.Errorf("OutcomeOf(%q) = %q, want %q", addr, got, want)
		}
	}
}

var raw = []byte("From: Agent <agent@pigeon.example>\r\nTo: a@example.com, \"B, Bee\" <complaint@simulator.amazonses.com>\r\n" +
	"Subject: =?utf-8?q?H=C3=A9llo?=\r\nMessage-ID: <orig@pigeon.example>\r\nReferences:\r\n <r1@x>\r\n\r\nbody\r\n")

func TestSimulate(t *testing.T) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	rcpts := []string{"a@example.com", "bounce+1@simulator.amazonses.com", "complaint@simulator.amazonses.com", "suppressionlist@simulator.amazonses.com", "ooto@simulator.amazonses.com"}
	evs := Simulate(Mail{
		SESMessageID: "0100-sim-000000", Source: "agent@pigeon.example", Destination: rcpts, Raw: raw,
		Tags: map[string]string{InboxTag: "agent_pigeon_example"}, ConfigurationSet: "pigeon", Timestamp: at,
	}, Topic{Region: "eu-west-1", AccountID: "123456789012"})

	var got []string
	for _, ev := range evs {
		if len(ev.Records) != 1 {
			t.Fatalf("%d records", len(ev.Records))
		}
		r := ev.Records[0]
		if r.EventSource != "aws:sns" || r.SNS.Type != "Notification" || r.SNS.TopicArn != "arn:aws:sns:eu-west-1:123456789012:pigeon-ses-events" || r.SNS.MessageID == "" {
			t.Errorf("envelope %+v", r)
		}
		id, n, err := delivery.ParseSESEvent([]byte(r.SNS.Message), r.SNS.MessageID)
		if err != nil || id != "0100-sim-000000" {
			t.Fatalf("parse: %q %v", id, err)
		}
		got = append(got, fmt.Sprintf("%s %s/%s %v", n.Kind, n.Type, n.SubType, n.Recipients))
	}
	want := []string{
		"Send / []",
		"Delivery / [a@example.com]",
		"Bounce Permanent/General [bounce+1@simulator.amazonses.com]",
		"Delivery / [complaint@simulator.amazonses.com]",
		"Bounce Permanent/OnAccountSuppressionList [suppressionlist@simulator.amazonses.com]",
		"Delivery / [ooto@simulator.amazonses.com]",
		"Complaint abuse/ [complaint@simulator.amazonses.com]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}

	var send struct {
		Mail sesMail `json:"mail"`
	}
	if err := json.Unmarshal([]byte(evs[0].Records[0].SNS.Message), &send); err != nil {
		t.Fatal(err)
	}
	m := send.Mail
	if m.SourceArn != "arn:aws:ses:eu-west-1:123456789012:identity/pigeon.example" || !slices.Equal(m.Destination, rcpts) ||
		m.CommonHeaders.MessageID != "<orig@pigeon.example>" || m.CommonHeaders.Subject != "Héllo" ||
		!slices.Equal(m.CommonHeaders.To, []string{"a@example.com", "B, Bee <complaint@simulator.amazonses.com>"}) ||
		!slices.Equal(m.CommonHeaders.From, []string{"Agent <agent@pigeon.example>"}) ||
		m.Tags[InboxTag][0] != "agent_pigeon_example" || m.Tags["ses:configuration-set"][0] != "pigeon" ||
		len(m.Headers) != 5 || m.Headers[4] != (Header{Name: "References", Value: " <r1@x>"}) {
		t.Errorf("mail object %+v", m)
	}
}

// The simulated records have the shape of the samples in events/ (taken from SES's
// documentation): the same keys at every level.
func TestSimulatedShapesMatchSamples(t *testing.T) {
	evs := Simulate(Mail{
		SESMessageID: "id", Source: "agent@pigeon.example", Raw: raw, ConfigurationSet: "pigeon", Timestamp: time.Now(),
		Destination: []string{"success@simulator.amazonses.com", "bounce@simulator.amazonses.com", "complaint@simulator.amazonses.com"},
	}, Topic{})
	byType := map[string]string{}
	for _, ev := range evs {
		var top struct {
			EventType string `json:"eventType"`
		}
		_ = json.Unmarshal([]byte(ev.Records[0].SNS.Message), &top)
		byType[strings.ToLower(top.EventType)] = ev.Records[0].SNS.Message
	}
	for _, typ := range []string{"send", "delivery", "bounce", "complaint"} {
		sample := readSample(t, "../../events/sns-ses-"+typ+".json").Records[0].SNS.Message
		if a, b := keyPaths(t, sample), keyPaths(t, byType[typ]); !slices.Equal(a, b) {
			t.Errorf("%s: keys differ from the sample\nsample    %v\nsimulated %v", typ, a, b)
		}
	}
}

// keyPaths lists every object key path of a JSON document (array elements merged, tag names
// left out: they are data).
func keyPaths(t *testing.T, doc string) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			if prefix == ".mail.tags" {
				return
			}
			for k, x := range v {
				seen[prefix+"."+k] = true
				walk(prefix+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(prefix+"[]", x)
			}
		}
	}
	walk("", v)
	out := make([]string, 0, len(seen))
	for k := range seen {
		// commonHeaders lists only the headers a message has.
		if !strings.HasPrefix(k, ".mail.commonHeaders.") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestDryRun(t *testing.T) {
	f := newFixture(t)
	d := &DryRun{Handler: f.h, ConfigurationSet: "pigeon"}
	ctx := context.Background()
	in := ses.SendInput{
		From: f.inbox.InboxID, Raw: raw, Tags: map[string]string{InboxTag: f.inbox.InboxID},
		Recipients: []string{"someone@example.com", "bounce@simulator.amazonses.com", "complaint@simulator.amazonses.com"},
	}
	id, err := d.Send(ctx, in)
	if err != nil || !strings.HasPrefix(id, DryRunIDPrefix) {
		t.Fatalf("Send: %q %v", id, err)
	}
	msg := f.sent(id, time.Now().UTC().Truncate(time.Millisecond), in.Recipients...)
	if err := d.Settle(ctx, id, in); err != nil {
		t.Fatal(err)
	}
	m := f.message(msg.MessageID)
	var rcpts []string
	for _, r := range m.Message.Delivery {
		rcpts = append(rcpts, r.Address+"="+r.Status)
	}
	if m.Status != "complained" || !slices.Equal(rcpts, []string{"someone@example.com=delivered", "bounce@simulator.amazonses.com=bounced", "complaint@simulator.amazonses.com=complained"}) {
		t.Errorf("status %q recipients %v", m.Status, rcpts)
	}
	if got := f.eventTypes(); got["message.delivered"] != 2 || got["message.bounced"] != 1 || got["message.complained"] != 1 || got["message.sent"] != 1 {
		t.Errorf("events %v", got)
	}

	if _, err := d.Send(ctx, ses.SendInput{From: f.inbox.InboxID, Raw: raw}); err == nil {
		t.Error("a dry run without recipients was accepted")
	}
}
