package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
	"github.com/pigeon-mail/pigeon/shared/wsproto"
)

func wsRequest(route, conn string) awsevents.APIGatewayWebsocketProxyRequest {
	return awsevents.APIGatewayWebsocketProxyRequest{RequestContext: awsevents.APIGatewayWebsocketProxyRequestContext{RouteKey: route, ConnectionID: conn}}
}

func TestSessions(t *testing.T) {
	st := newStore(t)
	ctx := context.Background()
	if _, _, err := st.CreateInbox(ctx, testOrg, wire.Inbox{Email: "a@x.org"}); err != nil {
		t.Fatal(err)
	}
	secret := putKey(t, st, "k1", "", "", nil)
	noRead := putKey(t, st, "k2", "", "", map[string]bool{"inbox_read": true})
	s := &Sessions{Store: st, Log: slog.New(slog.DiscardHandler)}
	call := func(req awsevents.APIGatewayWebsocketProxyRequest) awsevents.APIGatewayProxyResponse {
		t.Helper()
		resp, err := s.HandleWebSocket(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	connect := func(conn string, query, headers map[string]string) int {
		req := wsRequest("$connect", conn)
		req.QueryStringParameters, req.Headers = query, headers
		return call(req).StatusCode
	}
	for name, c := range map[string]struct {
		query, headers map[string]string
		status         int
	}{
		"no key":               {nil, nil, 401},
		"unknown key":          {map[string]string{"api_key": "am_nope"}, nil, 401},
		"other scheme":         {nil, map[string]string{"authorization": "Basic x"}, 401},
		"without message_read": {map[string]string{"api_key": noRead}, nil, 403},
		"query":                {map[string]string{"api_key": secret}, nil, 200},
		"header":               {nil, map[string]string{"Authorization": "Bearer " + secret}, 200},
	} {
		if got := connect(name, c.query, c.headers); got != c.status {
			t.Errorf("%s: $connect = %d, want %d", name, got, c.status)
		}
	}
	if _, err := st.GetConnection(ctx, "unknown key"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("a refused connection was stored")
	}

	send := func(conn, body string) map[string]any {
		t.Helper()
		req := wsRequest("$default", conn)
		req.Body = body
		var frame map[string]any
		if err := json.Unmarshal([]byte(call(req).Body), &frame); err != nil {
			t.Fatal(err)
		}
		return frame
	}
	ack := send("query", `{"type":"subscribe","inbox_ids":["A@x.org"],"event_types":["message.received"]}`)
	if ack["type"] != wsproto.TypeSubscribed || ack["inbox_ids"].([]any)[0] != "a@x.org" {
		t.Fatalf("ack = %v", ack)
	}
	c, err := st.GetConnection(ctx, "query")
	if err != nil || c.Subscription == nil || !slices.Equal(c.Subscription.InboxIDs, []string{"a@x.org"}) || c.APIKeyID != "k1" {
		t.Fatalf("stored = %+v %v", c, err)
	}
	if f := send("query", `{"type":"subscribe","inbox_ids":["nobody@x.org"]}`); f["type"] != wsproto.TypeError || f["name"] != wsproto.NotFoundError {
		t.Fatalf("unknown inbox = %v", f)
	}
	if f := send("stranger", `{"type":"subscribe"}`); f["type"] != wsproto.TypeError {
		t.Fatalf("unknown connection = %v", f)
	}
	if err := st.DeleteAPIKey(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	if f := send("header", `{"type":"subscribe"}`); f["type"] != wsproto.TypeError || f["name"] != wsproto.ForbiddenError {
		t.Fatalf("deleted key = %v", f)
	}

	call(wsRequest("$disconnect", "query"))
	if _, err := st.GetConnection(ctx, "query"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after $disconnect: %v", err)
	}
	if subs, _ := st.Subscribers(ctx, store.Target{Kind: "inbox", ID: "a@x.org"}); len(subs) != 0 {
		t.Fatalf("index left: %+v", subs)
	}
}
