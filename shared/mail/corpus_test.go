package mail

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset"
)

// The real-mail corpus lives outside the repository, beside it (../shared/corpus from the
// module root); tests that use it skip when it is absent.
const corpusDir = "../../../shared/corpus/real-mail"

// corpusBodyFloor is how many corpus files yielded body text (text or HTML) when last
// measured. Parsing must not get worse. Most of the other 40 have no body to find: header-only
// files, attachment-only messages, multiparts with no parts or whose only text is an attachment.
const corpusBodyFloor = 274

// corpusFiles returns the corpus's .eml files, skipping tb when the corpus is absent.
func corpusFiles(tb testing.TB) []string {
	tb.Helper()
	if _, err := os.Stat(corpusDir); err != nil {
		tb.Skipf("corpus not present: %v", err)
	}
	var files []string
	err := filepath.WalkDir(corpusDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".eml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	withBody, refused, degraded := 0, 0, 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := Parse(raw, testReceived)
		if first, _, _ := bytes.Cut(raw, []byte("\n")); len(m.Headers) == 0 && isFieldLine(trimLineEnd(first)) {
			t.Errorf("%s: no headers", f)
		}
		if m.Size != int64(len(raw)) {
			t.Errorf("%s: size %d, want %d", f, m.Size, len(raw))
		}
		if strings.TrimSpace(m.Text) != "" || strings.TrimSpace(m.HTML) != "" {
			withBody++
		}
		switch err := goMessageAlone(raw); {
		case err == nil:
		case message.IsUnknownCharset(err) || message.IsUnknownEncoding(err):
			degraded++
		default:
			refused++
		}
	}
	t.Logf("corpus: %d files, %d with body text; go-message alone refuses %d and cannot decode %d more",
		len(files), withBody, refused, degraded)
	if withBody < corpusBodyFloor {
		t.Errorf("%d files with body text, want at least %d", withBody, corpusBodyFloor)
	}
}

// goMessageAlone reads raw with plain go-message, every part's body included, and returns the
// first error it meets.
func goMessageAlone(raw []byte) error {
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return err
	}
	first := err
	walkErr := e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil && first == nil {
			first = err
		}
		if part == nil || part.MultipartReader() != nil {
			return nil
		}
		if _, err := io.Copy(io.Discard, part.Body); err != nil {
			return err
		}
		return nil
	})
	return errors.Join(first, walkErr)
}
