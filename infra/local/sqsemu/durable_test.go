package sqsemu

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func send(t testing.TB, client *sqs.Client, q, body string) string {
	t.Helper()
	out, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(body)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

func receive(t *testing.T, client *sqs.Client, q string, max int32) []types.Message {
	t.Helper()
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q), MaxNumberOfMessages: max,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func restart(t *testing.T, s *Server, dir string, scale float64) (*Server, *sqs.Client, string, string) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return setupIn(t, dir, scale)
}

func poll(t *testing.T, s *Server, q string, within time.Duration) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	msgs, err := s.Poll(ctx, q, 10)
	if err != nil && ctx.Err() == nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.MessageId+" "+m.Body+" "+m.Attributes["ApproximateReceiveCount"])
	}
	return out
}

// A message received but not deleted comes back after a restart, with the same id and body,
// at its recorded visibility deadline, its receive count carried on; a deleted one does not.
func TestRestartKeepsMessages(t *testing.T) {
	dir := t.TempDir()
	// The queue "plain" has no redrive; its 1 min visibility is 60 ms.
	reopen := func(s *Server) (*Server, *sqs.Client, string) {
		if s != nil {
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
		s, client, _, _ := setupIn(t, dir, 0.001)
		return s, client, s.CreateQueue("plain", time.Minute, 0, "")
	}
	s, client, q := reopen(nil)
	a := send(t, client, q, `{"event_id":"evt_a"}`)
	send(t, client, q, `{"event_id":"evt_b"}`)
	c := send(t, client, q, `{"event_id":"evt_c"}`)
	got := receive(t, client, q, 10)
	if len(got) != 3 {
		t.Fatalf("received %d", len(got))
	}
	// a: received, left in flight; b: received and deleted; c: put back with a 1000 s (1 s) wait.
	if _, err := client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: got[1].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: got[2].ReceiptHandle, VisibilityTimeout: 1000}); err != nil {
		t.Fatal(err)
	}
	sentAt := got[0].Attributes["SentTimestamp"]
	firstRecv := got[0].Attributes["ApproximateFirstReceiveTimestamp"]

	s, client, q = reopen(s)
	if n := s.Len(q); n != 2 {
		t.Fatalf("after the restart the queue holds %d messages, want 2", n)
	}
	if got := poll(t, s, q, 5*time.Second); len(got) != 1 || got[0] != a+` {"event_id":"evt_a"} 2` {
		t.Fatalf("after the restart: %v, want %s with receive count 2", got, a)
	}
	s, client, q = reopen(s)
	got = receive(t, client, q, 10) // a again once its 60 ms are over; c is still waiting
	for len(got) == 0 {
		time.Sleep(10 * time.Millisecond)
		got = receive(t, client, q, 10)
	}
	if len(got) != 1 || aws.ToString(got[0].MessageId) != a || got[0].Attributes["ApproximateReceiveCount"] != "3" ||
		got[0].Attributes["SentTimestamp"] != sentAt || got[0].Attributes["ApproximateFirstReceiveTimestamp"] != firstRecv {
		t.Fatalf("second restart: %+v (sent %s, first receive %s)", got, sentAt, firstRecv)
	}
	// A receipt handle survives a restart too.
	s, client, q = reopen(s)
	if _, err := client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: got[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	s, _, q = reopen(s)
	if n := s.Len(q); n != 1 {
		t.Fatalf("after deleting a: %d messages", n)
	}
	if got := poll(t, s, q, 10*time.Second); len(got) != 1 || got[0] != c+` {"event_id":"evt_c"} 2` {
		t.Fatalf("c after its wait: %v", got)
	}
}

// The redrive to the dead-letter queue goes on across restarts.
func TestRedriveAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s, client, q, dlq := setupIn(t, dir, 0.0001) // 1 min → 6 ms
	id := send(t, client, q, "task")
	if got := poll(t, s, q, 5*time.Second); len(got) != 1 || !strings.HasSuffix(got[0], " 1") {
		t.Fatalf("first receive: %v", got)
	}
	s, client, q, dlq = restart(t, s, dir, 0.0001)
	if got := poll(t, s, q, 5*time.Second); len(got) != 1 || got[0] != id+" task 2" {
		t.Fatalf("second receive, after a restart: %v", got)
	}
	// Received twice (maxReceiveCount 2): after another restart the next receive redrives it.
	s, client, q, dlq = restart(t, s, dir, 0.0001)
	time.Sleep(20 * time.Millisecond)
	if got := receive(t, client, q, 10); len(got) != 0 {
		t.Fatalf("received past the limit: %+v", got)
	}
	s, _, q, dlq = restart(t, s, dir, 0.0001)
	if got := s.Bodies(dlq); len(got) != 1 || got[0] != "task" {
		t.Fatalf("dead letters after a restart = %v", got)
	}
	if n := s.Len(q); n != 0 {
		t.Fatalf("the queue still holds %d", n)
	}
}

// A record cut short, or one whose checksum fails, ends the log: what precedes it is kept and
// the log goes on from there.
func TestTornTail(t *testing.T) {
	for _, damage := range []string{"cut", "garbage", "checksum"} {
		t.Run(damage, func(t *testing.T) {
			dir := t.TempDir()
			s, client, q, _ := setupIn(t, dir, 1)
			send(t, client, q, "one")
			send(t, client, q, "two")
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, logName)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rec := frame(nil, sendRecord("q", &message{id: "torn", body: "three"}))
			switch damage {
			case "cut":
				data = append(data, rec[:len(rec)-2]...)
			case "garbage":
				data = append(data, 0xff, 0xff, 0xff)
			case "checksum":
				rec[len(rec)-1] ^= 1
				data = append(data, rec...)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, client, q, _ = setupIn(t, dir, 1)
			if got := s.Bodies(q); len(got) != 2 || got[0] != "one" || got[1] != "two" {
				t.Fatalf("after the torn record: %v", got)
			}
			send(t, client, q, "four")
			s, _, q, _ = restart(t, s, dir, 1)
			if got := s.Bodies(q); len(got) != 3 || got[2] != "four" {
				t.Fatalf("appended after the torn record: %v", got)
			}
		})
	}
}

// Whatever prefix of the log a crash leaves, Open reads it: every whole record counts, the
// rest is dropped.
func TestEveryCut(t *testing.T) {
	dir := t.TempDir()
	s, client, q, _ := setupIn(t, dir, 1)
	const n = 4
	for i := range n {
		send(t, client, q, strings.Repeat(strconv.Itoa(i), 20+i))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	var ends []int // where each record ends
	off := len(logHeader)
	if _, err := records(data[off:], func(p []byte) error {
		off += recordHead + len(p)
		ends = append(ends, off)
		return nil
	}); err != nil || len(ends) != n {
		t.Fatalf("%d records, %v", len(ends), err)
	}
	for cut := len(logHeader); cut <= len(data); cut++ {
		cdir := t.TempDir()
		if err := os.WriteFile(filepath.Join(cdir, logName), data[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(cdir, "", 1)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		q := s.CreateQueue("q", time.Minute, 0, "")
		want := 0
		for _, e := range ends {
			if e <= cut {
				want++
			}
		}
		if got := s.Len(q); got != want {
			t.Fatalf("cut at %d: %d messages, want %d", cut, got, want)
		}
		_ = s.Close()
	}
}

// Without fsync the log is still written: a stopped server's messages are there on reopen.
func TestNoSync(t *testing.T) {
	dir := t.TempDir()
	s, client, q, _ := setupIn(t, dir, 1)
	s.NoSync = true
	send(t, client, q, "kept")
	s, _, q, _ = restart(t, s, dir, 1)
	if got := s.Bodies(q); len(got) != 1 || got[0] != "kept" {
		t.Fatalf("after a restart without fsync: %v", got)
	}
}

// The log is compacted while serving once most of it is deleted messages.
func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	s, client, q, _ := setupIn(t, dir, 1)
	big := strings.Repeat("x", 200<<10)
	for range 50 {
		send(t, client, q, big)
	}
	keep := send(t, client, q, "keep")
	for {
		got := receive(t, client, q, 10)
		var left []types.Message
		for _, m := range got {
			if aws.ToString(m.MessageId) == keep {
				continue
			}
			left = append(left, m)
		}
		if len(got) == 0 {
			break
		}
		for _, m := range left {
			if _, err := client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	fi, err := os.Stat(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() > compactMin {
		t.Fatalf("log is %d bytes after deleting all but one message", fi.Size())
	}
	s, _, q, _ = restart(t, s, dir, 1)
	if got := s.Bodies(q); len(got) != 1 || got[0] != "keep" {
		t.Fatalf("after compaction: %d messages", len(got))
	}
}

// A server killed (SIGKILL) at random moments loses no message it acknowledged. The child
// process is this test binary, sending until it is killed and printing each acknowledged id.
func TestKilledLosesNothingAcknowledged(t *testing.T) {
	if dir := os.Getenv("SQSEMU_CHILD_DIR"); dir != "" {
		childSender(t, dir)
		return
	}
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	for round := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledLosesNothingAcknowledged$", "-test.count=1")
		cmd.Env = append(os.Environ(), "SQSEMU_CHILD_DIR="+dir)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		kill := time.After(time.Duration(100+rand.IntN(300)) * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					break read
				}
				if id, ok := strings.CutPrefix(l, "acked "); ok {
					acked[id] = true
				}
			case <-kill:
				_ = cmd.Process.Kill()
				kill = nil
			}
		}
		_ = cmd.Wait()
		s, err := Open(dir, "", 1)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		q := s.CreateQueue("q", time.Minute, 0, "")
		have := map[string]bool{}
		for _, b := range s.Bodies(q) {
			have[b] = true
		}
		_ = s.Close()
		for id := range acked {
			if !have[id] {
				t.Fatalf("round %d: acknowledged message %s lost", round, id)
			}
		}
	}
	if len(acked) == 0 {
		t.Fatal("the child acknowledged nothing")
	}
	t.Logf("%d acknowledged messages kept", len(acked))
}

// childSender sends from four clients until killed, printing "acked <body>" after each 200.
func childSender(t *testing.T, dir string) {
	_, client, q, _ := setupIn(t, dir, 1)
	acks := make(chan string)
	for w := range 4 {
		go func() {
			for i := 0; ; i++ {
				body := fmt.Sprintf("%d-%d-%d", os.Getpid(), w, i)
				if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(body)}); err == nil {
					acks <- body
				}
			}
		}()
	}
	for b := range acks {
		fmt.Println("acked " + b)
	}
}

func BenchmarkSendMessage(b *testing.B) {
	body := strings.Repeat(`{"webhook_id":"wh_x","event_id":"evt_x","attempt":1,"body":{}}`, 30) // ~2 KB
	b.Run("serial", func(b *testing.B) {
		_, client, q, _ := setup(b, 1)
		b.ReportAllocs()
		for b.Loop() {
			send(b, client, q, body)
		}
	})
	// The queue alone, without HTTP and the SDK: append and fsync.
	b.Run("direct", func(b *testing.B) {
		s, _, q, _ := setup(b, 1)
		b.ReportAllocs()
		for b.Loop() {
			s.mu.Lock()
			s.send(s.lookup(q), body, 0)
			end := s.end()
			s.mu.Unlock()
			if err := s.commit(end); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nosync", func(b *testing.B) {
		s, client, q, _ := setup(b, 1)
		s.NoSync = true
		b.ReportAllocs()
		for b.Loop() {
			send(b, client, q, body)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		_, client, q, _ := setup(b, 1)
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				send(b, client, q, body)
			}
		})
	})
}
