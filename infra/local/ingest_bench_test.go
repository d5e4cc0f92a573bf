package local

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// BenchmarkIngest measures SMTP ingest (250 after the message is stored) on a durable stack
// (fsync on) with 0, 10,000 and 50,000 messages already stored in the receiving inbox: the
// cost of a write must not grow with what is stored. The preloaded messages go straight
// through the store's delivery transaction (the same items a received mail writes: message,
// thread, Message-ID index, delivery marker, event), 32 at a time; then b.N mails go over
// SMTP from four sessions. PIGEON_BENCH_STORED overrides the stored counts ("0,1000").
//
//	go test ./infra/local -run '^$' -bench Ingest -benchtime 1000x
func BenchmarkIngest(b *testing.B) {
	levels := []int{0, 10_000, 50_000}
	if v := os.Getenv("PIGEON_BENCH_STORED"); v != "" {
		levels = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				b.Fatalf("PIGEON_BENCH_STORED: %v", err)
			}
			levels = append(levels, n)
		}
	}
	for _, stored := range levels {
		b.Run(fmt.Sprintf("stored=%d", stored), func(b *testing.B) {
			f := ingestStack(b, stored)
			st, inbox := f.st, f.inbox
			var seq atomic.Int64
			b.ResetTimer()
			start := time.Now()
			if err := sendOverSMTP(st.SMTPAddr, inbox.InboxID, b.N, 4, &seq); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
			b.ReportMetric(float64(dirBytes(b, f.dir))/1e6, "MB-on-disk")
		})
	}
}

var ingestStacks = struct {
	sync.Mutex
	m map[int]ingestFixture
}{m: map[int]ingestFixture{}}

// ingestWarmUp is how many mails each level's stack receives over SMTP before it is timed.
const ingestWarmUp = 200

type ingestFixture struct {
	st    *Stack
	inbox store.InboxRecord
	dir   string
}

// dirBytes is the size of the files under dir.
func dirBytes(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if info, err := d.Info(); err == nil && !d.IsDir() {
			n += info.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// ingestStack is the stack with stored messages preloaded, made once per level for all the
// runs the benchmark makes of it (and closed when the benchmark binary's runs end).
func ingestStack(b *testing.B, stored int) ingestFixture {
	ingestStacks.Lock()
	defer ingestStacks.Unlock()
	if f, ok := ingestStacks.m[stored]; ok {
		return f
	}
	dir, err := os.MkdirTemp("", "pigeon-ingest-")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	st, err := Start(ctx, Settings{
		HTTPAddr: "127.0.0.1:0", SMTPAddr: "127.0.0.1:0", Domain: "pigeon.local", DataDir: dir,
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	in, _, err := st.Store.CreateInbox(ctx, st.Config.OrgID, wire.Inbox{InboxID: "bench@pigeon.local", Email: "bench@pigeon.local", PodID: store.DefaultPodID})
	if err != nil {
		b.Fatal(err)
	}
	rec, err := st.Store.GetInbox(ctx, in.InboxID)
	if err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	var g errgroup.Group
	g.SetLimit(32)
	for i := range stored {
		g.Go(func() error {
			raw := benchMail(rec.InboxID, "preload", i)
			_, _, _, err := st.Store.DeliverInbound(ctx, store.Delivery{
				Inbox: rec, SourceKey: "raw/preload-" + strconv.Itoa(i), Parsed: mail.Parse(raw, time.Now()),
				Labels: []string{"received", "unread"}, EventType: "message.received", ReceivedAt: time.Now(),
			})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
	// Fanout works through the preload's events (no one is subscribed) before the clock
	// starts, so the figure is ingest alone.
	for {
		behind, err := st.storage.embedded.DB.StreamBehind(streamConsumer, st.Config.Table)
		if err != nil {
			b.Fatal(err)
		}
		if behind == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if stored > 0 {
		b.Logf("preloaded %d messages in %s", stored, time.Since(began).Round(time.Millisecond))
	}
	// A warm-up over SMTP, so that every level's figure is of a stack that has run (pools,
	// the first memtable flushes), not of its first seconds.
	var warm atomic.Int64
	if err := sendOverSMTP(st.SMTPAddr, rec.InboxID, ingestWarmUp, 4, &warm); err != nil {
		b.Fatal(err)
	}
	f := ingestFixture{st, rec, dir}
	ingestStacks.m[stored] = f
	return f
}

// benchMail is a 2 KB mail with its own Message-ID and subject.
func benchMail(to, run string, i int) []byte {
	var sb strings.Builder
	fmt.Fprintf(&sb, "From: Sender <sender@example.com>\r\nTo: %s\r\nSubject: bench %s %d\r\nMessage-ID: <bench.%s.%d@example.com>\r\n", to, run, i, run, i)
	fmt.Fprintf(&sb, "Date: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n", time.Now().UTC().Format(time.RFC1123Z))
	for sb.Len() < 2048 {
		sb.WriteString("The quick brown fox jumps over the lazy dog, again and again.\r\n")
	}
	return []byte(sb.String())
}

// sendOverSMTP sends n mails to rcpt from c sessions, each session sending mail after mail.
func sendOverSMTP(addr, rcpt string, n, c int, seq *atomic.Int64) error {
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	var g errgroup.Group
	for range c {
		g.Go(func() error {
			cl, err := smtp.Dial(addr)
			if err != nil {
				return err
			}
			defer cl.Close()
			for {
				i := seq.Add(1)
				if i > int64(n) {
					return cl.Quit()
				}
				if err := cl.Mail("sender@example.com"); err != nil {
					return err
				}
				if err := cl.Rcpt(rcpt); err != nil {
					return err
				}
				w, err := cl.Data()
				if err != nil {
					return err
				}
				if _, err := w.Write(benchMail(rcpt, run, int(i))); err != nil {
					return err
				}
				if err := w.Close(); err != nil {
					return err
				}
			}
		})
	}
	return g.Wait()
}
