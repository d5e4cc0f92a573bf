package sqsemu

import (
	"context"
	"errors"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

func setup(t testing.TB, scale float64) (*Server, *sqs.Client, string, string) {
	t.Helper()
	return setupIn(t, t.TempDir(), scale)
}

// setupIn opens a server on dir behind an HTTP server (a new port each time, as a restarted
// stack has) with the queues q (maxReceiveCount 2) and dlq, and a real client pointed at it.
func setupIn(t testing.TB, dir string, scale float64) (*Server, *sqs.Client, string, string) {
	t.Helper()
	s, err := Open(dir, "", scale)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		srv.Close()
		_ = s.Close()
	})
	s.BaseURL = srv.URL
	dlq := s.CreateQueue("dlq", time.Minute, 0, "")
	q := s.CreateQueue("q", time.Minute, 2, "dlq")
	client := sqs.New(sqs.Options{
		Region: Region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
	return s, client, q, dlq
}

func TestRealClient(t *testing.T) {
	s, client, q, dlq := setup(t, 0.001)
	ctx := context.Background()
	out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("0"), MessageBody: aws.String("one")}, {Id: aws.String("1"), MessageBody: aws.String("two")},
	}})
	if err != nil || len(out.Successful) != 2 || len(out.Failed) != 0 {
		t.Fatalf("batch = %+v %v", out, err)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("three")}); err != nil {
		t.Fatal(err)
	}
	recv, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q), MaxNumberOfMessages: 10})
	if err != nil || len(recv.Messages) != 3 || aws.ToString(recv.Messages[0].Body) != "one" {
		t.Fatalf("receive = %+v %v", recv, err)
	}
	// Invisible now; a visibility change makes one come back (scaled: 10 s → 10 ms).
	first := recv.Messages[0]
	if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 10}); err != nil {
		t.Fatal(err)
	}
	for _, m := range recv.Messages[1:] {
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: m.ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	again, err := s.Poll(pctx, q, 10)
	if err != nil || len(again) != 1 || again[0].Body != "one" || again[0].Attributes["ApproximateReceiveCount"] != "2" || again[0].EventSourceARN != ARN("q") {
		t.Fatalf("poll = %+v %v", again, err)
	}
	// The old receipt is dead.
	_, err = client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0})
	if err == nil {
		t.Fatal("stale receipt accepted")
	}
	// Received twice (maxReceiveCount 2): the next receive moves it to the dead-letter queue.
	if _, err := client.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q), ReceiptHandle: aws.String(again[0].ReceiptHandle), VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	recv, err = client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q)})
	if err != nil || len(recv.Messages) != 0 {
		t.Fatalf("receive past the limit = %+v %v", recv.Messages, err)
	}
	if got := s.Bodies(dlq); len(got) != 1 || got[0] != "one" {
		t.Fatalf("dead letters = %v", got)
	}

	var missing *types.QueueDoesNotExist
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q + "-nope"), MessageBody: aws.String("x")}); !errors.As(err, &missing) {
		t.Fatalf("unknown queue: %v", err)
	}
	var entries []types.SendMessageBatchRequestEntry
	for i := range 11 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String("x")})
	}
	if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(q), Entries: entries}); err == nil {
		t.Fatal("11 entries accepted")
	}
}
