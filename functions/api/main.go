// Command api is the REST API Lambda behind API Gateway (REST, Lambda proxy integration).
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pigeon-mail/pigeon/shared/apigw"
	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/deps"
	"github.com/pigeon-mail/pigeon/shared/httpapi"
	"github.com/pigeon-mail/pigeon/shared/sesevents"
)

func main() {
	ctx := context.Background()
	d, err := deps.Load(ctx)
	if err != nil {
		log.Fatal(err)
	}
	secret, err := d.BootstrapSecret(ctx)
	if err != nil {
		log.Fatal(err)
	}
	blobs := d.Blobs()
	st := d.Store(blobs, d.TokenKey(secret))
	if err := auth.Bootstrap(ctx, st, d.Config.OrgID, secret); err != nil {
		log.Fatal(err)
	}
	out := d.Outbound(st, &sesevents.Handler{Store: st})
	lambda.Start(apigw.Handler(httpapi.New(httpapi.Deps{Store: st, Blobs: blobs, Config: d.Config, Outbound: out})))
}
