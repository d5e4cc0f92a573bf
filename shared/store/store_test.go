package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/infra/local/embedded"
	"github.com/pigeon-mail/pigeon/shared/blob"
)

var servers *embedded.Servers

func TestMain(m *testing.M) { os.Exit(embedded.Run(m, &servers)) }

var tableSeq atomic.Int64

// clock is a test clock that moves forward a millisecond on every reading, so creation
// order is time order.
type clock struct{ t atomic.Int64 }

func newClock(start time.Time) *clock {
	c := &clock{}
	c.t.Store(start.UnixMilli())
	return c
}

func (c *clock) Now() time.Time { return time.UnixMilli(c.t.Add(1)).UTC() }

// newStore returns a Store on a fresh table of the embedded DynamoDB.
func newStore(t testing.TB) (*Store, *clock) {
	t.Helper()
	c := newClock(time.Date(2035, 1, 2, 3, 4, 5, 0, time.UTC))
	table := fmt.Sprintf("pigeon-%d", tableSeq.Add(1))
	s := New(servers.DynamoDB(), blob.New(servers.S3(), table, ""), table, []byte("test token key"), WithClock(c.Now))
	if err := s.EnsureTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.EnsureTable(context.Background()); err != nil {
		t.Fatalf("EnsureTable again: %v", err)
	}
	return s, c
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}
