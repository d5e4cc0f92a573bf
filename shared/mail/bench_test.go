package mail

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func BenchmarkParse(b *testing.B) {
	small, err := os.ReadFile(filepath.Join(testdataDir, "reply-outlook.eml"))
	if err != nil {
		b.Fatal(err)
	}
	for _, bm := range []struct {
		name string
		raw  []byte
	}{
		{"small", small},                    // ≈2 KB reply, text and HTML
		{"typical", largeMessage(36 << 10)}, // ≈50 KB with a base64 attachment
		{"10MB", largeMessage(10 << 20)},    // a 10 MB attachment
	} {
		b.Run(bm.name, func(b *testing.B) {
			b.SetBytes(int64(len(bm.raw)))
			b.ReportAllocs()
			for b.Loop() {
				Parse(bm.raw, testReceived)
			}
		})
	}
}

// loadCorpus reads the real-mail corpus into memory, skipping b when it is absent.
func loadCorpus(b *testing.B) (msgs [][]byte, total int64) {
	for _, f := range corpusFiles(b) {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, raw)
		total += int64(len(raw))
	}
	return msgs, total
}

// BenchmarkCorpus parses the corpus with Parse; compare with BenchmarkCorpusStdlib. Each round
// is followed, off the clock, by a round of stdlibParse over the same files, so that the metric
// x-stdlib (Parse's speed as a multiple of the plain standard-library parse's; the target is at
// least 0.75) compares the two under the same machine load even when the machine is noisy.
func BenchmarkCorpus(b *testing.B) {
	msgs, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	var stdlib time.Duration
	for b.Loop() {
		for _, raw := range msgs {
			Parse(raw, testReceived)
		}
		b.StopTimer()
		start := time.Now()
		for _, raw := range msgs {
			stdlibParse(raw)
		}
		stdlib += time.Since(start)
		b.StartTimer()
	}
	b.ReportMetric(float64(stdlib)/float64(b.Elapsed()), "x-stdlib")
}

// BenchmarkCorpusStdlib parses the corpus the plain standard-library way: net/mail for the
// header and addresses, mime/multipart walking the parts, every body read and its transfer
// encoding undone. It does less than Parse (no charsets, no extraction, no fallbacks) and
// gives up on what it cannot read.
func BenchmarkCorpusStdlib(b *testing.B) {
	msgs, total := loadCorpus(b)
	b.SetBytes(total)
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range msgs {
			stdlibParse(raw)
		}
	}
}

func stdlibParse(raw []byte) {
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return
	}
	dec := new(mime.WordDecoder)
	_, _ = dec.DecodeHeader(msg.Header.Get("Subject"))
	_, _ = msg.Header.AddressList("From")
	_, _ = msg.Header.AddressList("To")
	_, _ = msg.Header.Date()
	stdlibPart(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
}

func stdlibPart(contentType, cte string, body io.Reader, depth int) {
	mt, params, _ := mime.ParseMediaType(contentType)
	if strings.HasPrefix(mt, "multipart/") && depth < maxDepth {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart() // undoes quoted-printable itself
			if err != nil {
				return
			}
			stdlibPart(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
		}
	}
	if strings.EqualFold(strings.TrimSpace(cte), "base64") {
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	_, _ = io.ReadAll(body)
}
