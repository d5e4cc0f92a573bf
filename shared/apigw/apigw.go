// Package apigw runs a net/http Handler behind an API Gateway REST API with Lambda proxy
// integration: it turns each APIGatewayProxyRequest into an *http.Request and the handler's
// response back into an APIGatewayProxyResponse.
//
// Paths. REST APIs deliver `path` still percent-encoded (`/v0/inboxes/a%40b/messages/%3Cx%40h%3E`)
// while `pathParameters` are decoded; the adapter keeps the encoded form in URL.RawPath so that
// net/http's ServeMux decodes each segment on its own and an id containing `%2F` stays one
// segment. A path that arrives decoded (some proxies and emulators do that) is re-escaped where it
// holds characters that cannot appear in an encoded path (`<`, `>`, space, non-ASCII, a `%` not
// followed by two hex digits); a decoded `/` inside an id cannot be recovered and splits the segment.
//
// Stage and base path. On the default execute-api domain `path` comes without the stage
// (`requestContext.path` has it). Behind a custom domain with a base path mapping, `path` carries
// the base path (`/mail/v0/inboxes`). Every Pigeon route starts with /v0, so whatever precedes the
// first `/v0` segment is treated as a base path and stripped (and so is a leading `/<stage>`).
//
// Bodies. A request with isBase64Encoded has its body decoded. Response bodies whose Content-Type
// is text or JSON go back as strings; anything else (attachments, zone files) is base64 with
// isBase64Encoded set, which API Gateway turns back into bytes for the media types listed in the
// API's BinaryMediaTypes.
package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// apiPrefix is the first segment of every Pigeon route.
const apiPrefix = "/v0"

// Handler adapts h to the Lambda handler signature of an API Gateway REST proxy integration.
func Handler(h http.Handler) func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		r, err := Request(ctx, ev)
		if err != nil {
			return textResponse(http.StatusBadRequest, err.Error()), nil
		}
		w := &responseWriter{header: http.Header{}}
		h.ServeHTTP(w, r)
		if w.status == 0 {
			w.status = http.StatusOK
		}
		return Response(w.status, w.header, w.body.Bytes()), nil
	}
}

// Request builds the *http.Request an API Gateway REST proxy event describes.
func Request(ctx context.Context, ev events.APIGatewayProxyRequest) (*http.Request, error) {
	u := &url.URL{RawQuery: query(ev).Encode()}
	if err := setPath(u, stripBase(ev.Path, ev.RequestContext.Stage)); err != nil {
		return nil, err
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(ev.Body); err != nil {
			return nil, fmt.Errorf("apigw: request body is not valid base64: %w", err)
		}
	}
	method := ev.HTTPMethod
	if method == "" {
		method = http.MethodGet
	}
	r, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("apigw: %w", err)
	}
	r.URL = u // NewRequest re-parses; keep RawPath exactly as built
	r.RequestURI = u.RequestURI()
	for name, values := range headers(ev) {
		for _, v := range values {
			r.Header.Add(name, v)
		}
	}
	r.Host = r.Header.Get("Host")
	if r.Host == "" {
		r.Host = ev.RequestContext.DomainName
	}
	r.URL.Host = r.Host
	if r.Header.Get("X-Forwarded-Proto") != "" {
		r.URL.Scheme = r.Header.Get("X-Forwarded-Proto")
	}
	r.ContentLength = int64(len(body))
	if ev.RequestContext.Identity.SourceIP != "" {
		r.RemoteAddr = ev.RequestContext.Identity.SourceIP
	}
	return r, nil
}

// Response builds the proxy response for a status, headers and body. Text and JSON bodies are
// sent as strings, everything else base64-encoded.
func Response(status int, header http.Header, body []byte) events.APIGatewayProxyResponse {
	resp := events.APIGatewayProxyResponse{StatusCode: status, MultiValueHeaders: map[string][]string{}}
	for name, values := range header {
		resp.MultiValueHeaders[name] = append([]string(nil), values...)
	}
	if len(body) == 0 || isText(header.Get("Content-Type")) {
		resp.Body = string(body)
	} else {
		resp.Body = base64.StdEncoding.EncodeToString(body)
		resp.IsBase64Encoded = true
	}
	return resp
}

func textResponse(status int, msg string) events.APIGatewayProxyResponse {
	h := http.Header{"Content-Type": {"text/plain; charset=utf-8"}}
	return Response(status, h, []byte(msg))
}

// isText reports whether a body of this content type can travel as a JSON string unchanged.
func isText(contentType string) bool {
	if contentType == "" {
		return false
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") && !strings.EqualFold(cs, "us-ascii") {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", strings.HasSuffix(mt, "+json"),
		mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return true
	}
	return false
}

// stripBase removes a base path (custom-domain mapping or stage) in front of the first /v0
// segment. Paths without a /v0 segment are left alone so they still answer 404.
func stripBase(path, stage string) string {
	if path == "" {
		return "/"
	}
	if hasSegmentPrefix(path, apiPrefix) {
		return path
	}
	if stage != "" && hasSegmentPrefix(path, "/"+stage) {
		path = path[len(stage)+1:]
		if hasSegmentPrefix(path, apiPrefix) {
			return path
		}
	}
	if i := strings.Index(path, apiPrefix+"/"); i > 0 {
		return path[i:]
	}
	if strings.HasSuffix(path, apiPrefix) && len(path) > len(apiPrefix) {
		return apiPrefix
	}
	return path
}

func hasSegmentPrefix(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// setPath sets u.Path and u.RawPath from a path that is normally percent-encoded, escaping any
// byte that cannot appear literally in an encoded path.
func setPath(u *url.URL, p string) error {
	escaped := escapeLoose(p)
	decoded, err := url.PathUnescape(escaped)
	if err != nil {
		return fmt.Errorf("apigw: bad path %q: %w", p, err)
	}
	u.Path = decoded
	u.RawPath = escaped
	if u.EscapedPath() != escaped {
		// RawPath is only kept when it is a valid encoding of Path; if url rejects it, rely on
		// Path alone (only possible for unusual but equivalent encodings).
		u.RawPath = ""
	}
	return nil
}

// escapeLoose percent-encodes the bytes of p that are not allowed in an encoded path, keeping
// existing %XX escapes.
func escapeLoose(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]):
			b.WriteByte(c)
		case shouldEscape(c):
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// shouldEscape reports whether c must be escaped in a path (RFC 3986 pchar plus '/').
func shouldEscape(c byte) bool {
	if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
		return false
	}
	switch c {
	case '-', '.', '_', '~', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '/':
		return false
	}
	return true
}

// query merges the multi-value and single-value query maps (API Gateway fills both; the
// multi-value one wins) into url.Values. API Gateway has already decoded the values.
func query(ev events.APIGatewayProxyRequest) url.Values {
	q := url.Values{}
	for k, vs := range ev.MultiValueQueryStringParameters {
		q[k] = append([]string(nil), vs...)
	}
	for k, v := range ev.QueryStringParameters {
		if _, ok := q[k]; !ok {
			q[k] = []string{v}
		}
	}
	return q
}

// headers merges the multi-value and single-value header maps; the multi-value one wins.
func headers(ev events.APIGatewayProxyRequest) http.Header {
	h := http.Header{}
	for k, vs := range ev.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range ev.Headers {
		if _, ok := h[http.CanonicalHeaderKey(k)]; !ok {
			h.Set(k, v)
		}
	}
	return h
}

// responseWriter collects a handler's response in memory; a proxy response is one value.
type responseWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}
