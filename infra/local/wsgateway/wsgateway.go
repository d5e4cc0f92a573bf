// Package wsgateway stands in for an API Gateway WebSocket API in the local stack. It accepts
// WebSocket connections and runs the ws function for their $connect, $default and $disconnect
// routes with the events API Gateway sends, and it serves the management ("@connections") API
// that fanout posts events through, so the same function code and the same SDK client work
// locally and on AWS (documented API Gateway quotas).
//
// What it reproduces:
//   - $connect runs before the upgrade completes; a non-2xx response refuses the connection with
//     that status, headers and body, and a function error refuses it with 502. Posting to the
//     connection from inside $connect answers 410, as on AWS: it is not connected yet.
//   - Every text message invokes $default (route selection by an "action" key is not
//     reproduced: Pigeon's only route is $default). The function's response body, when not
//     empty, is sent back to the client, as API Gateway does for a route with a route response
//     (CDK: returnResponse true). A function error sends
//     {"message": "Internal server error", "connectionId": …, "requestId": …}.
//   - Binary frames close the connection with 1003; messages over 128 KiB with 1009.
//   - Idle connections (no message either way for 10 minutes) and connections older than 2 hours
//     are closed with 1001 Going away; both can be shortened for tests.
//   - $disconnect runs after the connection is gone, with its close code and reason.
//   - POST/GET/DELETE /@connections/{id} answer as API Gateway does, including the
//     GoneException (410) and PayloadTooLargeException (413) errors the SDK decodes by their
//     X-Amzn-ErrorType header. No SigV4 check: any credentials are accepted.
//
// Handshake details left to github.com/coder/websocket: no subprotocol unless $connect returns a
// Sec-WebSocket-Protocol header, no compression, and no Origin check (API Gateway does none).
package wsgateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/coder/websocket"
)

// Func is the Lambda entry point of the ws function: what lambda.Start receives.
type Func func(context.Context, events.APIGatewayWebsocketProxyRequest) (events.APIGatewayProxyResponse, error)

// Limits of API Gateway WebSocket APIs (documented API Gateway quotas).
const (
	MaxPayload         = 128 << 10 // largest message either way
	DefaultIdleTimeout = 10 * time.Minute
	DefaultMaxDuration = 2 * time.Hour
)

// Stage is the stage the local WebSocket API claims to be, CDK's default like the REST gateway's.
const Stage = "prod"

// invokeTimeout bounds a $disconnect invocation, which outlives the connection's request.
const invokeTimeout = 30 * time.Second

// postTimeout bounds a write to a client; a client that does not read for that long is gone.
const postTimeout = 5 * time.Second

// Gateway is the local WebSocket API. Its zero value with Invoke set is ready to use; serve
// ServeHTTP on the WebSocket URL (the local stack routes /v0 upgrade requests to it) and
// Connections() on the management endpoint.
type Gateway struct {
	Invoke      Func
	Log         *slog.Logger     // slog.Default() when nil
	IdleTimeout time.Duration    // DefaultIdleTimeout when zero; negative: never
	MaxDuration time.Duration    // DefaultMaxDuration when zero; negative: never
	Now         func() time.Time // time.Now when nil

	mu     sync.Mutex
	conns  map[string]*conn
	closed bool // Close was called: connections that finish their handshake now are closed at once
}

// IsUpgrade reports whether r asks for a WebSocket upgrade, so that a server sharing one address
// between REST and WebSocket can tell them apart on /v0.
func IsUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet &&
		headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// ServeHTTP is the WebSocket endpoint: it runs $connect, upgrades, then relays messages until
// the connection ends and runs $disconnect.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !IsUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		writeJSON(w, http.StatusUpgradeRequired, map[string]string{"message": "Upgrade Required"})
		return
	}
	now := g.now()
	c := &conn{
		id: newID(11), connectedAt: now, domain: r.Host, sourceIP: sourceIP(r), userAgent: r.UserAgent(),
		activity: make(chan struct{}, 1), done: make(chan struct{}),
	}
	c.lastActive.Store(now.UnixNano())

	ev := g.event(c, "$connect", "CONNECT")
	ev.Headers, ev.MultiValueHeaders = connectHeaders(r)
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = queryParams(r.URL.RawQuery)
	resp, err := g.Invoke(r.Context(), ev)
	if err != nil {
		g.log().Error("ws $connect failed", "connection_id", c.id, "err", err)
		writeJSON(w, http.StatusBadGateway, map[string]string{"message": "Internal server error"})
		return
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		g.log().Info("ws connection refused", "connection_id", c.id, "status", resp.StatusCode)
		refuse(w, resp)
		return
	}

	opts := &websocket.AcceptOptions{InsecureSkipVerify: true}
	for name, value := range responseHeaders(resp) {
		if strings.EqualFold(name, "Sec-WebSocket-Protocol") {
			opts.Subprotocols = []string{value}
			continue
		}
		w.Header().Set(name, value)
	}
	ws, err := websocket.Accept(w, r, opts)
	if err != nil {
		g.log().Info("ws upgrade failed", "connection_id", c.id, "err", err)
		return
	}
	ws.SetReadLimit(MaxPayload)
	c.ws = ws
	g.register(c)
	g.log().Info("ws connected", "connection_id", c.id, "source_ip", c.sourceIP)

	go g.watch(c)
	code, reason := g.relay(r.Context(), c)
	_ = ws.CloseNow() // already closed by now; this releases the connection whatever the path

	g.unregister(c)
	close(c.done)
	ev = g.event(c, "$disconnect", "DISCONNECT")
	ev.Headers, ev.MultiValueHeaders = connectHeaders(r)
	ev.RequestContext.DisconnectStatusCode = int64(code)
	ev.RequestContext.DisconnectReason = &reason
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), invokeTimeout)
	defer cancel()
	if _, err := g.Invoke(ctx, ev); err != nil {
		g.log().Error("ws $disconnect failed", "connection_id", c.id, "err", err)
	}
	g.log().Info("ws disconnected", "connection_id", c.id, "code", code, "reason", reason)
}

// relay reads the client's messages and runs $default for each until the connection ends; it
// returns the close code and reason $disconnect reports.
func (g *Gateway) relay(ctx context.Context, c *conn) (websocket.StatusCode, string) {
	for {
		typ, data, err := c.ws.Read(ctx)
		if err != nil {
			if code, reason, ok := c.closedBy(); ok {
				return code, reason
			}
			var ce websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code, ce.Reason
			}
			if errors.Is(err, websocket.ErrMessageTooBig) {
				return websocket.StatusMessageTooBig, "Message too big"
			}
			return websocket.StatusAbnormalClosure, "Connection closed abnormally"
		}
		c.touch(g.now())
		if typ != websocket.MessageText {
			c.close(websocket.StatusUnsupportedData, "Binary frames are not supported")
			continue // the next Read reports the close
		}
		g.message(ctx, c, data)
	}
}

// message runs $default for one text message and sends the route response back.
func (g *Gateway) message(ctx context.Context, c *conn, data []byte) {
	ev := g.event(c, "$default", "MESSAGE")
	ev.Body = string(data)
	ev.RequestContext.MessageID = newID(11)
	resp, err := g.Invoke(ctx, ev)
	var reply []byte
	switch {
	case err != nil:
		g.log().Error("ws $default failed", "connection_id", c.id, "err", err)
		reply, _ = json.Marshal(map[string]string{
			"message": "Internal server error", "connectionId": c.id, "requestId": ev.RequestContext.RequestID,
		})
	case resp.Body != "":
		reply = []byte(resp.Body)
		if resp.IsBase64Encoded {
			if reply, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
				g.log().Error("ws $default returned invalid base64", "connection_id", c.id)
				return
			}
		}
	default:
		return
	}
	if err := g.send(ctx, c, reply); err != nil {
		g.log().Info("ws route response not delivered", "connection_id", c.id, "err", err)
	}
}

// send writes one text message to c.
func (g *Gateway) send(ctx context.Context, c *conn, data []byte) error {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, data); err != nil {
		return err
	}
	c.touch(g.now())
	return nil
}

// watch closes c when it has been idle, or open, too long.
func (g *Gateway) watch(c *conn) {
	idle := timer(g.IdleTimeout, DefaultIdleTimeout)
	maxAge := timer(g.MaxDuration, DefaultMaxDuration)
	defer stop(idle)
	defer stop(maxAge)
	for {
		select {
		case <-c.activity:
			if idle != nil {
				idle.Reset(duration(g.IdleTimeout, DefaultIdleTimeout))
			}
		case <-channel(idle):
			c.close(websocket.StatusGoingAway, "Going away")
			return
		case <-channel(maxAge):
			c.close(websocket.StatusGoingAway, "Going away")
			return
		case <-c.done:
			return
		}
	}
}

// duration is d, or def when d is zero.
func duration(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// timer starts a timer for duration(d, def), or returns nil when that is negative (never).
func timer(d, def time.Duration) *time.Timer {
	if d = duration(d, def); d < 0 {
		return nil
	}
	return time.NewTimer(d)
}

// channel is t's channel; nil (never ready) for a nil timer.
func channel(t *time.Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C
}

func stop(t *time.Timer) {
	if t != nil {
		t.Stop()
	}
}

// Close closes every connection with 1001 Going away, as when a stage is redeployed; their
// $disconnect runs as each ends.
func (g *Gateway) Close() {
	g.mu.Lock()
	g.closed = true
	conns := make([]*conn, 0, len(g.conns))
	for _, c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.close(websocket.StatusGoingAway, "Going away")
	}
}

func (g *Gateway) register(c *conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		c.close(websocket.StatusGoingAway, "Going away")
		return
	}
	if g.conns == nil {
		g.conns = map[string]*conn{}
	}
	g.conns[c.id] = c
}

func (g *Gateway) unregister(c *conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.conns[c.id] == c {
		delete(g.conns, c.id)
	}
}

func (g *Gateway) lookup(id string) *conn {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.conns[id]
}

// event is the skeleton of every event for c; $connect and $disconnect add the headers.
func (g *Gateway) event(c *conn, route, eventType string) events.APIGatewayWebsocketProxyRequest {
	now := g.now()
	return events.APIGatewayWebsocketProxyRequest{
		RequestContext: events.APIGatewayWebsocketProxyRequestContext{
			RouteKey:          route,
			EventType:         eventType,
			ExtendedRequestID: newID(6),
			RequestTime:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			MessageDirection:  "IN",
			Stage:             Stage,
			ConnectedAt:       c.connectedAt.UnixMilli(),
			RequestTimeEpoch:  now.UnixMilli(),
			Identity:          events.APIGatewayRequestIdentity{SourceIP: c.sourceIP, UserAgent: c.userAgent},
			RequestID:         newID(6),
			DomainName:        c.domain,
			ConnectionID:      c.id,
			APIID:             "local",
		},
	}
}

func (g *Gateway) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

func (g *Gateway) log() *slog.Logger {
	if g.Log != nil {
		return g.Log
	}
	return slog.Default()
}

// conn is one open WebSocket connection.
type conn struct {
	id          string
	ws          *websocket.Conn
	connectedAt time.Time
	domain      string // the Host the client connected to
	sourceIP    string
	userAgent   string
	activity    chan struct{} // poked on every message either way; resets the idle timer
	done        chan struct{} // closed when the connection has ended

	lastActive atomic.Int64 // unix nanoseconds of the last message either way

	mu          sync.Mutex
	closeCode   websocket.StatusCode
	closeReason string
	closing     bool
}

// touch records activity at t.
func (c *conn) touch(t time.Time) {
	c.lastActive.Store(t.UnixNano())
	select {
	case c.activity <- struct{}{}:
	default:
	}
}

// close starts a server-side close with code and reason; later calls do nothing.
func (c *conn) close(code websocket.StatusCode, reason string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing, c.closeCode, c.closeReason = true, code, reason
	c.mu.Unlock()
	go func() { _ = c.ws.Close(code, reason) }() // waits for the client's close frame; don't block the caller
}

// closedBy returns the code and reason of a server-side close, if there was one.
func (c *conn) closedBy() (websocket.StatusCode, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode, c.closeReason, c.closing
}

// newID returns n random bytes in padded URL-safe base64, the shape of API Gateway's ids
// (connection ids look like "JC1dgf9yoAMCK-g=", with a '=' the SDK escapes in the path).
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.URLEncoding.EncodeToString(b)
}

func sourceIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// connectHeaders are the upgrade request's headers as API Gateway passes them, with the
// X-Forwarded-* headers of its front end.
func connectHeaders(r *http.Request) (map[string]string, map[string][]string) {
	multi := map[string][]string{}
	for name, values := range r.Header {
		multi[name] = append([]string(nil), values...)
	}
	multi["Host"] = []string{r.Host}
	multi["X-Forwarded-For"] = []string{sourceIP(r)}
	multi["X-Forwarded-Proto"] = []string{"http"}
	if r.TLS != nil {
		multi["X-Forwarded-Proto"] = []string{"https"}
	}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		multi["X-Forwarded-Port"] = []string{port}
	}
	single := make(map[string]string, len(multi))
	for name, values := range multi {
		single[name] = values[len(values)-1]
	}
	return single, multi
}

// queryParams decodes the query string into both maps, nil when there is none.
func queryParams(raw string) (map[string]string, map[string][]string) {
	values, _ := url.ParseQuery(raw) // keeps what parses, as API Gateway passes what it can
	if len(values) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(values))
	for k, vs := range values {
		single[k] = vs[len(vs)-1]
	}
	return single, values
}

// responseHeaders merges a proxy response's headers; multi-value entries win, as in API Gateway.
func responseHeaders(resp events.APIGatewayProxyResponse) map[string]string {
	h := map[string]string{}
	for k, v := range resp.Headers {
		h[k] = v
	}
	for k, vs := range resp.MultiValueHeaders {
		if len(vs) > 0 {
			h[k] = strings.Join(vs, ", ")
		}
	}
	return h
}

// refuse answers a handshake that $connect turned down with the function's response.
func refuse(w http.ResponseWriter, resp events.APIGatewayProxyResponse) {
	for name, value := range responseHeaders(resp) {
		w.Header().Set(name, value)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		if b, err := base64.StdEncoding.DecodeString(resp.Body); err == nil {
			body = b
		}
	}
	status := resp.StatusCode
	if status < 100 || status > 599 {
		status = http.StatusBadGateway
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
