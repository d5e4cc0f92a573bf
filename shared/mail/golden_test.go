package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

var update = flag.Bool("update", false, "rewrite testdata/mail/*.golden.json from the parser's output")

// goldenMessage is a Message as recorded in a golden file: attachments carry the SHA-256 of
// their content instead of the content.
type goldenMessage struct {
	MessageID     string             `json:"message_id"`
	From          string             `json:"from"`
	ReplyTo       []string           `json:"reply_to"`
	To            []string           `json:"to"`
	Cc            []string           `json:"cc"`
	Bcc           []string           `json:"bcc"`
	Subject       string             `json:"subject"`
	Text          string             `json:"text"`
	HTML          string             `json:"html"`
	ExtractedText string             `json:"extracted_text"`
	ExtractedHTML string             `json:"extracted_html"`
	Preview       string             `json:"preview"`
	Attachments   []goldenAttachment `json:"attachments"`
	InReplyTo     string             `json:"in_reply_to"`
	References    []string           `json:"references"`
	Headers       map[string]string  `json:"headers"`
	Size          int64              `json:"size"`
	Date          time.Time          `json:"date"`
	Timestamp     time.Time          `json:"timestamp"`
	Problems      []string           `json:"problems"`
}

type goldenAttachment struct {
	wire.Attachment
	SHA256 string `json:"sha256"`
}

func toGolden(m *Message) goldenMessage {
	g := goldenMessage{
		MessageID: m.MessageID, From: m.From, ReplyTo: m.ReplyTo, To: m.To, Cc: m.Cc, Bcc: m.Bcc,
		Subject: m.Subject, Text: m.Text, HTML: m.HTML, ExtractedText: m.ExtractedText,
		ExtractedHTML: m.ExtractedHTML, Preview: m.Preview, InReplyTo: m.InReplyTo,
		References: m.References, Headers: m.Headers, Size: m.Size, Date: m.Date,
		Timestamp: m.Timestamp, Problems: m.Problems, Attachments: []goldenAttachment{},
	}
	for _, a := range m.Attachments {
		sum := sha256.Sum256(a.Content)
		g.Attachments = append(g.Attachments, goldenAttachment{Attachment: a.Attachment, SHA256: hex.EncodeToString(sum[:])})
	}
	return g
}

// TestGolden parses every testdata/mail/*.eml and compares the result with its .golden.json.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testdataDir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 40 {
		t.Fatalf("%d test messages in %s, want at least 40", len(files), testdataDir)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".eml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(toGolden(Parse(raw, testReceived)), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			goldenPath := strings.TrimSuffix(f, ".eml") + ".golden.json"
			if *update {
				if err := os.WriteFile(goldenPath, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenPath)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update and review the diff):\n%s", goldenPath, got)
			}
		})
	}
}
