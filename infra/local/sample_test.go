package local

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"testing"
	"time"
)

// sampleEvent is the repository's sample of the event SES receiving publishes through SNS.
const sampleEvent = "../../events/sns-ses-receipt.json"

// The local SES produces events of the same shape as the sample in events/: the same fields at
// every level, inside the Message string included, for a message with the same headers.
func TestEventMatchesSample(t *testing.T) {
	sample, err := os.ReadFile(sampleEvent)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 1, 2, 10, 0, 1, 512e6, time.UTC)
	original := []byte("From: Alice Example <alice@example.com>\r\n" +
		"To: Agent <agent@pigeon.local>\r\n" +
		"Cc: ops@pigeon.local\r\n" +
		"Subject: Quarterly numbers\r\n" +
		"Date: Thu, 02 Jan 2025 10:00:00 +0000\r\n" +
		"Message-ID: <CAF=q1w2e3r4t5y6@mail.example.com>\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: text/plain\r\n" +
		"\r\n" +
		"Numbers.\r\n")
	env := Envelope{
		MessageID:  NewSESMessageID(),
		From:       "alice@example.com",
		Recipients: []string{"agent@pigeon.local", "ops@pigeon.local", "audit@pigeon.local"},
		Helo:       "mail.example.com",
		RemoteIP:   "127.0.0.1",
		Received:   at,
	}
	auth := Authenticate(env, original, nil)
	stored := append(SESHeaders(env, "us-east-1", auth, original), original...)
	n := NewNotification(env, auth.Verdicts, TopicARN, "pigeon", RawPrefix, stored, 612*time.Millisecond)
	generated, err := WrapSNS(n, TopicARN, "us-east-1", at.Add(128*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jsonPaths(t, generated), jsonPaths(t, sample); !reflect.DeepEqual(got, want) {
		t.Errorf("generated event fields differ from %s:\n got %v\nwant %v", sampleEvent, got, want)
	}
}

// jsonPaths lists the object keys of a JSON document as dotted paths, descending into the SNS
// Message string.
func jsonPaths(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				seen[prefix+k] = true
				if s, ok := child.(string); ok && k == "Message" {
					var inner any
					if json.Unmarshal([]byte(s), &inner) == nil {
						walk(prefix+k+".", inner)
					}
				}
				walk(prefix+k+".", child)
			}
		case []any:
			for _, child := range v {
				walk(prefix+"[].", child)
			}
		}
	}
	walk("", v)
	paths := make([]string, 0, len(seen))
	for p := range seen {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}
