package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/apigw"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// TestThroughAPIGateway runs the API behind the Lambda adapter, as deployed: a base64 body
// (binary media type) and a percent-encoded inbox id in the path.
func TestThroughAPIGateway(t *testing.T) {
	e := newEnv(t)
	invoke := apigw.Handler(e.h)
	auth := map[string][]string{"Authorization": {"Bearer " + e.key}}
	resp, err := invoke(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/v0/inboxes", MultiValueHeaders: auth,
		Body: base64.StdEncoding.EncodeToString([]byte(`{"username":"gw"}`)), IsBase64Encoded: true,
	})
	if err != nil || resp.StatusCode != 200 || resp.IsBase64Encoded {
		t.Fatalf("create = %+v, %v", resp, err)
	}
	resp, err = invoke(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Path: "/prod/v0/inboxes/gw%40pigeon.test", MultiValueHeaders: auth,
		RequestContext: events.APIGatewayProxyRequestContext{Stage: "prod"},
	})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("get = %+v, %v", resp, err)
	}
	var in wire.Inbox
	if err := json.Unmarshal([]byte(resp.Body), &in); err != nil || in.InboxID != "gw@pigeon.test" {
		t.Fatalf("inbox %s: %v", resp.Body, err)
	}
	if ct := resp.MultiValueHeaders["Content-Type"]; len(ct) != 1 || ct[0] != "application/json" {
		t.Fatalf("Content-Type %v", ct)
	}
	resp, _ = invoke(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "DELETE", Path: "/v0/inboxes/gw%40pigeon.test", MultiValueHeaders: auth})
	if resp.StatusCode != 204 || resp.Body != "" {
		t.Fatalf("delete = %+v", resp)
	}
}
