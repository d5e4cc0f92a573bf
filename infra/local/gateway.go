package local

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Stage is the REST API stage the local gateway claims to be. It is CDK's default stage name
// (RestApi deployOptions.stageName), so the events match a default deployment. On the
// execute-api domain the stage is the first segment of the base URL and is not part of `path`;
// locally the base URL has no stage segment, which yields the same `path`.
const Stage = "prod"

// maxPayload is Lambda's limit on a synchronous invocation's request (the whole event) and
// response: 6 MB. API Gateway's own 10 MB cap never matters behind it.
const maxPayload = 6 << 20

// APIFunc is the Lambda entry point of the api function: what lambda.Start receives.
type APIFunc func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error)

// Gateway stands in for API Gateway's REST API with one `ANY /{proxy+}` resource (and `ANY /`)
// integrated as a Lambda proxy: it turns each HTTP request into the event API Gateway would send
// and the function's response back into HTTP.
type Gateway struct {
	Invoke APIFunc
	Log    *slog.Logger
	Now    func() time.Time
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	status, size := g.serve(w, r, requestID)
	g.log().Info("http",
		"method", r.Method, "path", rawPath(r), "status", status, "bytes", size,
		"duration_ms", time.Since(start).Milliseconds(), "request_id", requestID)
}

func (g *Gateway) serve(w http.ResponseWriter, r *http.Request, requestID string) (status, size int) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		return writeError(w, http.StatusBadRequest, "BadRequestError", "could not read the request body")
	}
	if len(body) > maxPayload {
		return tooLarge(w)
	}
	ev := ProxyRequest(r, body, requestID, g.now())
	if encoded, err := json.Marshal(ev); err != nil || len(encoded) > maxPayload {
		return tooLarge(w)
	}
	resp, err := g.Invoke(r.Context(), ev)
	if err != nil {
		// A function error: API Gateway answers 502 with this body and no detail.
		g.log().Error("api function failed", "request_id", requestID, "err", err)
		return writeRaw(w, http.StatusBadGateway, "application/json", []byte(`{"message": "Internal server error"}`))
	}
	return writeResponse(w, resp)
}

// ProxyRequest is the event API Gateway's REST API sends for r through a `{proxy+}` resource
// with Lambda proxy integration. body is the request body already read from r.
func ProxyRequest(r *http.Request, body []byte, requestID string, now time.Time) events.APIGatewayProxyRequest {
	path := rawPath(r)
	ev := events.APIGatewayProxyRequest{
		Resource:   "/{proxy+}",
		Path:       path,
		HTTPMethod: r.Method,
		RequestContext: events.APIGatewayProxyRequestContext{
			AccountID:        "000000000000",
			ResourceID:       "local",
			Stage:            Stage,
			DomainName:       r.Host,
			DomainPrefix:     strings.SplitN(r.Host, ".", 2)[0],
			RequestID:        requestID,
			Protocol:         r.Proto,
			Identity:         events.APIGatewayRequestIdentity{SourceIP: sourceIP(r), UserAgent: r.UserAgent()},
			ResourcePath:     "/{proxy+}",
			Path:             "/" + Stage + path,
			HTTPMethod:       r.Method,
			RequestTime:      now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			RequestTimeEpoch: now.UnixMilli(),
			APIID:            "local",
		},
	}
	// API Gateway decodes path parameters (and keeps `path` as sent).
	if path == "/" {
		ev.Resource, ev.RequestContext.ResourcePath = "/", "/"
	} else if proxy, err := url.PathUnescape(strings.TrimPrefix(path, "/")); err == nil {
		ev.PathParameters = map[string]string{"proxy": proxy}
	} else {
		ev.PathParameters = map[string]string{"proxy": strings.TrimPrefix(path, "/")}
	}
	ev.Headers, ev.MultiValueHeaders = proxyHeaders(r)
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = proxyQuery(r.URL.RawQuery)
	if len(body) > 0 {
		if isTextType(r.Header.Get("Content-Type")) {
			ev.Body = string(body)
		} else {
			ev.Body = base64.StdEncoding.EncodeToString(body)
			ev.IsBase64Encoded = true
		}
	}
	return ev
}

// rawPath is the path exactly as the client sent it, percent-encoding preserved: REST APIs pass
// `%40`, `%3C`, `%2F` through to `path` unchanged (HTTP APIs decode; REST APIs do not).
func rawPath(r *http.Request) string {
	p := r.RequestURI
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" || p[0] != '/' {
		// Absolute-form request target (proxies): fall back to the parsed URL.
		p = r.URL.EscapedPath()
	}
	if p == "" {
		p = "/"
	}
	return p
}

// proxyHeaders fills both header maps as API Gateway does: the single-value map holds the last
// value of each header, the multi-value map all of them. API Gateway also adds the
// X-Forwarded-* headers of its own front end.
func proxyHeaders(r *http.Request) (map[string]string, map[string][]string) {
	multi := map[string][]string{}
	for name, values := range r.Header {
		multi[name] = append([]string(nil), values...)
	}
	multi["Host"] = []string{r.Host}
	ip := sourceIP(r)
	if prior := r.Header.Values("X-Forwarded-For"); len(prior) > 0 {
		multi["X-Forwarded-For"] = []string{strings.Join(prior, ", ") + ", " + ip}
	} else {
		multi["X-Forwarded-For"] = []string{ip}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	multi["X-Forwarded-Proto"] = []string{scheme}
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		multi["X-Forwarded-Port"] = []string{port}
	}
	single := make(map[string]string, len(multi))
	for name, values := range multi {
		single[name] = values[len(values)-1]
	}
	return single, multi
}

// proxyQuery decodes the query string into both maps; both are null when there is none, as in
// API Gateway's events.
func proxyQuery(raw string) (map[string]string, map[string][]string) {
	if raw == "" {
		return nil, nil
	}
	multi := map[string][]string{}
	for _, pair := range strings.Split(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		multi[unescapeQuery(k)] = append(multi[unescapeQuery(k)], unescapeQuery(v))
	}
	if len(multi) == 0 {
		return nil, nil
	}
	single := make(map[string]string, len(multi))
	for k, vs := range multi {
		single[k] = vs[len(vs)-1]
	}
	return single, multi
}

// unescapeQuery decodes a query component; a malformed escape is passed through as sent
// rather than dropping the parameter (the function then decides it is invalid).
func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// isTextType reports whether a request body of this content type travels as a plain string.
// Other types arrive base64-encoded with isBase64Encoded, as they do when listed in the API's
// BinaryMediaTypes.
func isTextType(contentType string) bool {
	if contentType == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return strings.HasPrefix(mt, "text/") ||
		mt == "application/json" || strings.HasSuffix(mt, "+json") ||
		mt == "application/xml" || strings.HasSuffix(mt, "+xml") ||
		mt == "application/javascript" || mt == "application/x-www-form-urlencoded"
}

// writeResponse writes a proxy response the way API Gateway does: single- and multi-value
// headers merged (multi-value wins for a name in both), base64 bodies decoded.
func writeResponse(w http.ResponseWriter, resp events.APIGatewayProxyResponse) (int, int) {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return writeRaw(w, http.StatusBadGateway, "application/json", []byte(`{"message": "Internal server error"}`))
		}
	}
	if len(body) > maxPayload {
		return writeRaw(w, http.StatusBadGateway, "application/json", []byte(`{"message": "Internal server error"}`))
	}
	h := w.Header()
	for name, v := range resp.Headers {
		h.Set(name, v)
	}
	for name, values := range resp.MultiValueHeaders {
		h.Del(name)
		for _, v := range values {
			h.Add(name, v)
		}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status, len(body)
}

func tooLarge(w http.ResponseWriter) (int, int) {
	return writeError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeError",
		fmt.Sprintf("request is larger than the %d-byte limit", maxPayload))
}

// writeError answers in the API's error shape.
func writeError(w http.ResponseWriter, status int, name, message string) (int, int) {
	body, _ := json.Marshal(wire.Error{Name: name, Message: message})
	return writeRaw(w, status, "application/json", body)
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) (int, int) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status, len(body)
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// newRequestID is a random UUID (v4), the form of API Gateway's request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (g *Gateway) log() *slog.Logger {
	if g.Log == nil {
		return slog.Default()
	}
	return g.Log
}

func (g *Gateway) now() time.Time {
	if g.Now == nil {
		return time.Now()
	}
	return g.Now()
}
