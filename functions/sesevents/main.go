// Command sesevents is the Lambda subscribed to the SNS topic of SES's configuration set: it
// moves sent messages through their delivery lifecycle (Send, Delivery, Bounce, Complaint,
// Reject, DeliveryDelay, Rendering Failure). See package sesevents.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pigeon-mail/pigeon/shared/deps"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
)

func main() {
	d := deps.MustLoad()
	h := &sesevents.Handler{Store: d.Store(d.Blobs(), []byte(d.Config.TokenSecret)), Log: d.Log}
	lambda.Start(h.HandleSNS)
}
