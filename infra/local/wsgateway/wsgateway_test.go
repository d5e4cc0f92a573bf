package wsgateway

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi"
	"github.com/aws/aws-sdk-go-v2/service/apigatewaymanagementapi/types"
	"github.com/coder/websocket"
)

// fn is a scriptable ws function that records every event it gets.
type fn struct {
	mu           sync.Mutex
	got          []events.APIGatewayWebsocketProxyRequest
	connect      func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)
	message      func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)
	disconnected chan events.APIGatewayWebsocketProxyRequest
}

func (f *fn) invoke(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
	f.mu.Lock()
	f.got = append(f.got, ev)
	f.mu.Unlock()
	switch ev.RequestContext.RouteKey {
	case "$connect":
		if f.connect != nil {
			return f.connect(ctx, ev)
		}
	case "$default":
		if f.message != nil {
			return f.message(ctx, ev)
		}
	case "$disconnect":
		f.disconnected <- ev
	}
	return events.APIGatewayProxyResponse{StatusCode: 200}, nil
}

func (f *fn) events(route string) []events.APIGatewayWebsocketProxyRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []events.APIGatewayWebsocketProxyRequest
	for _, ev := range f.got {
		if ev.RequestContext.RouteKey == route {
			out = append(out, ev)
		}
	}
	return out
}

func (f *fn) waitDisconnect(t *testing.T) events.APIGatewayWebsocketProxyRequest {
	t.Helper()
	select {
	case ev := <-f.disconnected:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no $disconnect")
	}
	return events.APIGatewayWebsocketProxyRequest{}
}

type stack struct {
	f      *fn
	g      *Gateway
	wsURL  string
	client *apigatewaymanagementapi.Client
}

// start serves a Gateway as the local stack does: /v0 for WebSocket, /@connections/ for the
// management API, and returns the real SDK client pointed at it (with a stage in the endpoint).
func start(t *testing.T, configure func(*fn, *Gateway)) *stack {
	t.Helper()
	f := &fn{disconnected: make(chan events.APIGatewayWebsocketProxyRequest, 8)}
	g := &Gateway{Invoke: f.invoke, Log: slog.New(slog.DiscardHandler)}
	if configure != nil {
		configure(f, g)
	}
	mux := http.NewServeMux()
	mux.Handle("/v0", g)
	mux.Handle("/", g.Connections())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { g.Close(); srv.Close() })
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")}
	client := apigatewaymanagementapi.NewFromConfig(cfg, func(o *apigatewaymanagementapi.Options) {
		o.BaseEndpoint = aws.String(srv.URL + "/" + Stage)
	})
	return &stack{f: f, g: g, wsURL: "ws" + strings.TrimPrefix(srv.URL, "http") + "/v0", client: client}
}

func (s *stack) dial(t *testing.T) (*websocket.Conn, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, s.wsURL+"?api_key=am_test", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer am_test"}, "User-Agent": {"agentmail-test"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	connects := s.f.events("$connect")
	id := connects[len(connects)-1].RequestContext.ConnectionID
	// The client may see the handshake's answer before the server has registered the connection.
	for deadline := time.Now().Add(5 * time.Second); s.g.lookup(id) == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("connection never registered")
		}
	}
	return c, id
}

func read(t *testing.T, c *websocket.Conn) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err == nil && typ != websocket.MessageText {
		t.Errorf("got a %v message, want text", typ)
	}
	return string(data), err
}

func TestSession(t *testing.T) {
	s := start(t, func(f *fn, _ *Gateway) {
		f.message = func(_ context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 200, Body: `{"type":"subscribed"}`}, nil
		}
	})
	c, id := s.dial(t)
	ctx := context.Background()

	connect := s.f.events("$connect")[0]
	rc := connect.RequestContext
	if rc.EventType != "CONNECT" || rc.Stage != Stage || rc.ConnectedAt == 0 || rc.RequestID == "" || rc.Identity.SourceIP != "127.0.0.1" || rc.Identity.UserAgent != "agentmail-test" {
		t.Errorf("$connect context %+v", rc)
	}
	if !strings.HasSuffix(id, "=") || len(id) != 16 {
		t.Errorf("connection id %q does not look like API Gateway's", id)
	}
	if connect.Headers["Authorization"] != "Bearer am_test" || connect.QueryStringParameters["api_key"] != "am_test" ||
		connect.MultiValueQueryStringParameters["api_key"][0] != "am_test" || connect.Headers["Host"] == "" {
		t.Errorf("$connect headers %v query %v", connect.Headers, connect.QueryStringParameters)
	}

	// $default: the frame goes to the function, its response body comes back.
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"subscribe"}`)); err != nil {
		t.Fatal(err)
	}
	if got, err := read(t, c); err != nil || got != `{"type":"subscribed"}` {
		t.Fatalf("route response %q, %v", got, err)
	}
	msg := s.f.events("$default")[0]
	if msg.Body != `{"type":"subscribe"}` || msg.RequestContext.EventType != "MESSAGE" || msg.RequestContext.ConnectionID != id || msg.RequestContext.MessageID == nil {
		t.Errorf("$default event %+v", msg)
	}

	// PostToConnection through the real SDK client.
	if _, err := s.client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{
		ConnectionId: aws.String(id), Data: []byte(`{"type":"event"}`),
	}); err != nil {
		t.Fatal(err)
	}
	if got, err := read(t, c); err != nil || got != `{"type":"event"}` {
		t.Fatalf("posted frame %q, %v", got, err)
	}

	info, err := s.client.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	if info.ConnectedAt == nil || time.Since(*info.ConnectedAt) > time.Minute || info.LastActiveAt == nil || info.LastActiveAt.Before(*info.ConnectedAt) ||
		info.Identity == nil || aws.ToString(info.Identity.SourceIp) != "127.0.0.1" || aws.ToString(info.Identity.UserAgent) != "agentmail-test" {
		t.Errorf("GetConnection %+v %+v", info, info.Identity)
	}

	// The client leaves: $disconnect carries its close code, and the connection is gone.
	if err := c.Close(websocket.StatusNormalClosure, "bye"); err != nil {
		t.Fatal(err)
	}
	dis := s.f.waitDisconnect(t)
	if dis.RequestContext.EventType != "DISCONNECT" || dis.RequestContext.ConnectionID != id ||
		dis.RequestContext.DisconnectStatusCode != 1000 || aws.ToString(dis.RequestContext.DisconnectReason) != "bye" {
		t.Errorf("$disconnect %+v", dis.RequestContext)
	}
	_, err = s.client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")})
	var gone *types.GoneException
	if !errors.As(err, &gone) {
		t.Fatalf("post after disconnect: %v, want GoneException", err)
	}
	if _, err := s.client.GetConnection(ctx, &apigatewaymanagementapi.GetConnectionInput{ConnectionId: aws.String(id)}); !errors.As(err, &gone) {
		t.Fatalf("get after disconnect: %v", err)
	}
}

func TestConnectRefused(t *testing.T) {
	s := start(t, func(f *fn, _ *Gateway) {
		f.connect = func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{StatusCode: 401, Headers: map[string]string{"Content-Type": "application/json"},
				Body: `{"name":"UnauthorizedError","message":"unknown_api_key"}`}, nil
		}
	})
	_, resp, err := websocket.Dial(context.Background(), s.wsURL+"?api_key=bad", nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("dial: %v, %v", err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "unknown_api_key") || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("refusal %q %v", body, resp.Header)
	}
	if len(s.f.events("$disconnect")) != 0 {
		t.Error("$disconnect ran for a refused connection")
	}
}

func TestConnectFunctionErrorIs502(t *testing.T) {
	s := start(t, func(f *fn, _ *Gateway) {
		f.connect = func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("boom")
		}
	})
	_, resp, err := websocket.Dial(context.Background(), s.wsURL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("dial: %v, %v", err, resp)
	}
}

func TestPostDuringConnectIsGone(t *testing.T) {
	var s *stack
	var postErr error
	s = start(t, func(f *fn, _ *Gateway) {
		f.connect = func(ctx context.Context, ev events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			_, postErr = s.client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{
				ConnectionId: aws.String(ev.RequestContext.ConnectionID), Data: []byte("early"),
			})
			return events.APIGatewayProxyResponse{StatusCode: 200}, nil
		}
	})
	s.dial(t)
	var gone *types.GoneException
	if !errors.As(postErr, &gone) {
		t.Fatalf("post inside $connect: %v, want GoneException", postErr)
	}
}

func TestDefaultFunctionError(t *testing.T) {
	s := start(t, func(f *fn, _ *Gateway) {
		f.message = func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error) {
			return events.APIGatewayProxyResponse{}, errors.New("boom")
		}
	})
	c, id := s.dial(t)
	if err := c.Write(context.Background(), websocket.MessageText, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	got, err := read(t, c)
	if err != nil || !strings.Contains(got, `"message":"Internal server error"`) || !strings.Contains(got, id) {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestPayloadLimit(t *testing.T) {
	s := start(t, nil)
	c, id := s.dial(t)
	ctx := context.Background()
	big := strings.Repeat("a", MaxPayload)
	if _, err := s.client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(big)}); err != nil {
		t.Fatalf("128 KiB post: %v", err)
	}
	if got, err := read(t, c); err != nil || len(got) != MaxPayload {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	_, err := s.client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte(big + "a")})
	var tooLarge *types.PayloadTooLargeException
	if !errors.As(err, &tooLarge) {
		t.Fatalf("oversized post: %v, want PayloadTooLargeException", err)
	}

	// A client message over the limit closes the connection with 1009.
	_ = c.Write(ctx, websocket.MessageText, []byte(big+"a"))
	if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("read after oversized message: %v", err)
	}
	if dis := s.f.waitDisconnect(t); dis.RequestContext.DisconnectStatusCode != 1009 {
		t.Errorf("$disconnect code %d", dis.RequestContext.DisconnectStatusCode)
	}
}

func TestDeleteConnection(t *testing.T) {
	s := start(t, nil)
	c, id := s.dial(t)
	ctx := context.Background()
	if _, err := s.client.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	var gone *types.GoneException
	if _, err := s.client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("x")}); !errors.As(err, &gone) {
		t.Errorf("post after delete: %v", err)
	}
	if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("client saw %v, want a 1000 close", err)
	}
	if dis := s.f.waitDisconnect(t); dis.RequestContext.DisconnectStatusCode != 1000 {
		t.Errorf("$disconnect code %d", dis.RequestContext.DisconnectStatusCode)
	}
	if _, err := s.client.DeleteConnection(ctx, &apigatewaymanagementapi.DeleteConnectionInput{ConnectionId: aws.String(id)}); !errors.As(err, &gone) {
		t.Errorf("second delete: %v", err)
	}
}

func TestBinaryFrameCloses1003(t *testing.T) {
	s := start(t, nil)
	c, _ := s.dial(t)
	_ = c.Write(context.Background(), websocket.MessageBinary, []byte{1, 2, 3})
	if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
		t.Errorf("client saw %v, want a 1003 close", err)
	}
	if dis := s.f.waitDisconnect(t); dis.RequestContext.DisconnectStatusCode != 1003 {
		t.Errorf("$disconnect code %d", dis.RequestContext.DisconnectStatusCode)
	}
	if len(s.f.events("$default")) != 0 {
		t.Error("a binary frame reached $default")
	}
}

func TestIdleTimeout(t *testing.T) {
	s := start(t, func(_ *fn, g *Gateway) { g.IdleTimeout = 300 * time.Millisecond })
	c, id := s.dial(t)
	ctx := context.Background()
	// Activity either way keeps the connection open past the idle timeout.
	for range 3 {
		time.Sleep(150 * time.Millisecond)
		if _, err := s.client.PostToConnection(ctx, &apigatewaymanagementapi.PostToConnectionInput{ConnectionId: aws.String(id), Data: []byte("ping")}); err != nil {
			t.Fatal(err)
		}
		if _, err := read(t, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("client saw %v, want a 1001 close", err)
	}
	if dis := s.f.waitDisconnect(t); dis.RequestContext.DisconnectStatusCode != 1001 || aws.ToString(dis.RequestContext.DisconnectReason) != "Going away" {
		t.Errorf("$disconnect %d %q", dis.RequestContext.DisconnectStatusCode, aws.ToString(dis.RequestContext.DisconnectReason))
	}
}

func TestMaxDuration(t *testing.T) {
	s := start(t, func(_ *fn, g *Gateway) { g.MaxDuration = 200 * time.Millisecond })
	c, _ := s.dial(t)
	if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("client saw %v, want a 1001 close", err)
	}
	s.f.waitDisconnect(t)
}

func TestCloseEndsEveryConnection(t *testing.T) {
	s := start(t, nil)
	c1, _ := s.dial(t)
	c2, _ := s.dial(t)
	s.g.Close()
	for _, c := range []*websocket.Conn{c1, c2} {
		if _, err := read(t, c); websocket.CloseStatus(err) != websocket.StatusGoingAway {
			t.Errorf("client saw %v", err)
		}
	}
	s.f.waitDisconnect(t)
	s.f.waitDisconnect(t)
}

func TestPlainRequests(t *testing.T) {
	s := start(t, nil)
	base := "http" + strings.TrimPrefix(strings.TrimSuffix(s.wsURL, "/v0"), "ws")
	resp, err := http.Get(base + "/v0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("GET /v0 without upgrade: %d", resp.StatusCode)
	}
	if len(s.f.events("$connect")) != 0 {
		t.Error("$connect ran for a plain request")
	}
	req, _ := http.NewRequest(http.MethodPut, base+"/@connections/abc", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
}
