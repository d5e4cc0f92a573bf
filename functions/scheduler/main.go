// Command scheduler is the Lambda EventBridge runs every minute: it sends the drafts whose
// send_at has come (drafts.Sender.SendDue), through the same send path as the api function.
package main

import (
	"context"
	"log"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pigeon-mail/pigeon/shared/deps"
	"github.com/pigeon-mail/pigeon/shared/drafts"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
)

func main() {
	d, err := deps.Load(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	secret, err := d.BootstrapSecret(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	st := d.Store(d.Blobs(), d.TokenKey(secret))
	sender := &drafts.Sender{Store: st, Outbound: d.Outbound(st, &sesevents.Handler{Store: st})}
	lambda.Start(func(ctx context.Context, _ events.CloudWatchEvent) error {
		sent, err := sender.SendDue(ctx, time.Now())
		slog.InfoContext(ctx, "scheduler: due drafts", "sent", sent, "err", err)
		return err
	})
}
