// Command ws is the Lambda behind the WebSocket API's $connect, $default and $disconnect
// routes. See realtime.Sessions.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/pigeon-mail/pigeon/shared/deps"
	"github.com/pigeon-mail/pigeon/shared/realtime"
)

func main() {
	d := deps.MustLoad()
	s := &realtime.Sessions{Store: d.Store(nil, []byte(d.Config.TokenSecret)), Log: d.Log}
	lambda.Start(s.HandleWebSocket)
}
