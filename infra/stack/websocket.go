package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// webSocketStage is the WebSocket API's stage. AgentMail SDKs connect to
// environment.websockets + "/v0", so with WebSocketUrl = wss://{id}.execute-api.{region}.amazonaws.com
// the stage they reach must be named v0.
const webSocketStage = "v0"

// webSocket is the WebSocket API: the URL SDKs take as environment.websockets and the management
// endpoint fanout posts to.
type webSocket struct {
	api      awsapigatewayv2.WebSocketApi
	url      *string // wss://{id}.execute-api.{region}.amazonaws.com (the SDK appends /v0)
	callback *string // https://{id}.execute-api.{region}.amazonaws.com/v0 (PIGEON_WS_ENDPOINT)
}

// newWebSocketAPI routes $connect, $disconnect and $default to ws. $default returns ws's response
// to the client (the "subscribed"/"error" reply), so ws needs no @connections permission; only
// fanout posts to connections.
func newWebSocketAPI(s awscdk.Stack, cfg Config, ws awslambda.Function) webSocket {
	route := func(id string, reply bool) *awsapigatewayv2.WebSocketRouteOptions {
		return &awsapigatewayv2.WebSocketRouteOptions{
			Integration:    awsapigatewayv2integrations.NewWebSocketLambdaIntegration(jsii.String(id), ws, nil),
			ReturnResponse: jsii.Bool(reply),
		}
	}
	api := awsapigatewayv2.NewWebSocketApi(s, jsii.String("WebSocket"), &awsapigatewayv2.WebSocketApiProps{
		ApiName:                jsii.String(cfg.StackName + "-ws"),
		Description:            jsii.String("Pigeon WebSocket API (AgentMail v0 compatible)"),
		ConnectRouteOptions:    route("ConnectIntegration", false),
		DisconnectRouteOptions: route("DisconnectIntegration", false),
		DefaultRouteOptions:    route("DefaultIntegration", true),
	})
	stage := awsapigatewayv2.NewWebSocketStage(s, jsii.String("WebSocketStage"), &awsapigatewayv2.WebSocketStageProps{
		WebSocketApi: api,
		StageName:    jsii.String(webSocketStage),
		AutoDeploy:   jsii.Bool(true),
		Throttle: &awsapigatewayv2.ThrottleSettings{
			RateLimit:  jsii.Number(float64(cfg.APIRateLimit)),
			BurstLimit: jsii.Number(float64(cfg.APIBurstLimit)),
		},
	})
	return webSocket{api: api, url: api.ApiEndpoint(), callback: stage.CallbackUrl()}
}

// grantPostAndDelete lets fn call PostToConnection (POST) and DeleteConnection (DELETE) on the
// connections of the v0 stage, and nothing else: CDK's GrantManageConnections would allow every
// stage and method (<api>/*/*/@connections/*).
func (w webSocket) grantPostAndDelete(fn awslambda.Function) {
	arn := func(method string) *string {
		return awscdk.Fn_Join(jsii.String(""), &[]*string{
			jsii.String("arn:"), awscdk.Aws_PARTITION(), jsii.String(":execute-api:"), awscdk.Aws_REGION(), jsii.String(":"),
			awscdk.Aws_ACCOUNT_ID(), jsii.String(":"), w.api.ApiId(), jsii.String("/" + webSocketStage + "/" + method + "/@connections/*"),
		})
	}
	allow(fn, []string{"execute-api:ManageConnections"}, arn("POST"), arn("DELETE"))
}
