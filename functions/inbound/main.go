// Command inbound is the Lambda that delivers received mail: SES receipt notifications (via
// SNS) and .eml files created under import/ in the mail bucket. See package inbound.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pigeon-mail/pigeon/shared/deps"
	"github.com/pigeon-mail/pigeon/shared/inbound"
)

func main() {
	d := deps.MustLoad()
	blobs := d.Blobs()
	st := d.Store(blobs, []byte(d.Config.TokenSecret))
	h := &inbound.Handler{Store: st, Blobs: blobs, Config: d.Config, Log: d.Log}
	lambda.Start(h.HandleEvent)
}
