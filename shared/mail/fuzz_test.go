package mail

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse checks that Parse never panics and that its result always holds the invariants of
// checkInvariants. The seed corpus is testdata/mail and, when present, the real-mail corpus.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(testdataDir, "*.eml"))
	if _, err := os.Stat(corpusDir); err == nil {
		seeds = append(seeds, corpusFiles(f)...)
	}
	for _, path := range seeds {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkInvariants(t, raw, Parse(raw, testReceived))
	})
}
