package blob

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
)

func TestStore(t *testing.T) {
	srv, err := embedded.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	b := New(srv.S3(), "pigeon", "")

	if err := b.Put(ctx, "att/a@x.org/h/att_1", "text/csv", []byte("a,b\n1,2\n")); err != nil {
		t.Fatal(err)
	}
	if data, err := b.Get(ctx, "att/a@x.org/h/att_1"); err != nil || string(data) != "a,b\n1,2\n" {
		t.Fatalf("Get = %q %v", data, err)
	}
	if data, err := b.GetRange(ctx, "att/a@x.org/h/att_1", 2, 3); err != nil || string(data) != "b\n1" {
		t.Fatalf("GetRange = %q %v", data, err)
	}
	if n, err := b.Size(ctx, "att/a@x.org/h/att_1"); err != nil || n != 8 {
		t.Fatalf("Size = %d %v", n, err)
	}
	for name, err := range map[string]error{
		"get":   func() error { _, err := b.Get(ctx, "nope"); return err }(),
		"size":  func() error { _, err := b.Size(ctx, "nope"); return err }(),
		"range": func() error { _, err := b.GetRange(ctx, "nope", 0, 10); return err }(),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a missing object: %v, want ErrNotFound", name, err)
		}
	}

	url, expires, err := b.PresignGet(ctx, "att/a@x.org/h/att_1", time.Minute, "text/csv", "Q4 numbers é.csv")
	if err != nil || time.Until(expires) > time.Minute || time.Until(expires) < 50*time.Second {
		t.Fatalf("PresignGet = %q %v %v", url, expires, err)
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(data) != "a,b\n1,2\n" {
		t.Fatalf("presigned GET = %d %q", resp.StatusCode, data)
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "Q4") {
		t.Errorf("Content-Disposition = %q", cd)
	}

	public := New(srv.S3(), "pigeon", "http://files.example.test:9000")
	url, _, err = public.PresignGet(ctx, "k", time.Minute, "", "")
	if err != nil || !strings.HasPrefix(url, "http://files.example.test:9000/pigeon/k?") {
		t.Fatalf("presign with public endpoint = %q %v", url, err)
	}
}
