package local

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// recorder is an api function that records the events it gets and answers with resp.
type recorder struct {
	mu     sync.Mutex
	events []events.APIGatewayProxyRequest
	resp   events.APIGatewayProxyResponse
}

func (r *recorder) invoke(_ context.Context, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
	return r.resp, nil
}

func (r *recorder) last(t *testing.T) events.APIGatewayProxyRequest {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.events) == 0 {
		t.Fatal("the function was not invoked")
	}
	return r.events[len(r.events)-1]
}

func newGateway(t *testing.T, resp events.APIGatewayProxyResponse) (*recorder, *httptest.Server) {
	rec := &recorder{resp: resp}
	srv := httptest.NewServer(&Gateway{Invoke: rec.invoke, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(srv.Close)
	return rec, srv
}

// The event carries the path as the client sent it and decoded proxy parameters and query
// values, as a REST API does.
func TestGatewayRequestEvent(t *testing.T) {
	rec, srv := newGateway(t, events.APIGatewayProxyResponse{StatusCode: 200, Body: "{}"})
	path := "/v0/inboxes/a%40pigeon.local/messages/%3Cx%2By%40h%3E"
	req, _ := http.NewRequest("GET", srv.URL+path+"?limit=10&labels=a&labels=b%2Cc&q=a+b", nil)
	req.Header.Add("Authorization", "Bearer k")
	req.Header.Add("X-Multi", "1")
	req.Header.Add("X-Multi", "2")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ev := rec.last(t)

	checks := []struct {
		name      string
		got, want any
	}{
		{"resource", ev.Resource, "/{proxy+}"},
		{"path", ev.Path, path},
		{"method", ev.HTTPMethod, "GET"},
		{"proxy", ev.PathParameters["proxy"], "v0/inboxes/a@pigeon.local/messages/<x+y@h>"},
		{"limit", ev.QueryStringParameters["limit"], "10"},
		{"labels", ev.MultiValueQueryStringParameters["labels"], []string{"a", "b,c"}},
		{"labels single", ev.QueryStringParameters["labels"], "b,c"},
		{"q", ev.QueryStringParameters["q"], "a b"},
		{"authorization", ev.Headers["Authorization"], "Bearer k"},
		{"multi header", ev.MultiValueHeaders["X-Multi"], []string{"1", "2"}},
		{"single header", ev.Headers["X-Multi"], "2"},
		{"host", ev.Headers["Host"], strings.TrimPrefix(srv.URL, "http://")},
		{"stage", ev.RequestContext.Stage, Stage},
		{"context path", ev.RequestContext.Path, "/" + Stage + path},
		{"source ip", ev.RequestContext.Identity.SourceIP, "127.0.0.1"},
		{"api id", ev.RequestContext.APIID, "local"},
		{"body", ev.Body, ""},
		{"base64", ev.IsBase64Encoded, false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if len(ev.RequestContext.RequestID) != 36 {
		t.Errorf("request id %q is not a UUID", ev.RequestContext.RequestID)
	}
}

// Without a query string both query maps are null, as in API Gateway's events; the root path
// is its own resource.
func TestGatewayRootAndNoQuery(t *testing.T) {
	rec, srv := newGateway(t, events.APIGatewayProxyResponse{StatusCode: 404, Body: `{"name":"NotFoundError","message":"x"}`})
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ev := rec.last(t)
	if ev.Resource != "/" || ev.PathParameters != nil || ev.QueryStringParameters != nil || ev.MultiValueQueryStringParameters != nil {
		t.Errorf("root event: resource %q, path params %v, query %v / %v", ev.Resource, ev.PathParameters, ev.QueryStringParameters, ev.MultiValueQueryStringParameters)
	}
	if resp.StatusCode != 404 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// Text bodies travel as strings, others base64-encoded.
func TestGatewayRequestBodies(t *testing.T) {
	rec, srv := newGateway(t, events.APIGatewayProxyResponse{StatusCode: 200})
	binary := []byte{0, 1, 2, 0xff, 0xfe, 'x'}
	tests := []struct {
		contentType string
		body        []byte
		wantBody    string
		wantB64     bool
	}{
		{"application/json", []byte(`{"a":"é"}`), `{"a":"é"}`, false},
		{"", []byte(`{}`), `{}`, false},
		{"text/plain; charset=utf-8", []byte("hi"), "hi", false},
		{"application/octet-stream", binary, base64.StdEncoding.EncodeToString(binary), true},
		{"image/png", binary, base64.StdEncoding.EncodeToString(binary), true},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("POST", srv.URL+"/v0/x", bytes.NewReader(tt.body))
		if tt.contentType != "" {
			req.Header.Set("Content-Type", tt.contentType)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ev := rec.last(t)
		if ev.Body != tt.wantBody || ev.IsBase64Encoded != tt.wantB64 {
			t.Errorf("%q: body %q base64 %v, want %q %v", tt.contentType, ev.Body, ev.IsBase64Encoded, tt.wantBody, tt.wantB64)
		}
	}
}

// Responses: base64 bodies decoded, single- and multi-value headers merged with the multi-value
// entry winning.
func TestGatewayResponse(t *testing.T) {
	payload := []byte{0x89, 'P', 'N', 'G', 0, 1, 2}
	_, srv := newGateway(t, events.APIGatewayProxyResponse{
		StatusCode:        201,
		Headers:           map[string]string{"Content-Type": "image/png", "X-One": "single", "X-Both": "single"},
		MultiValueHeaders: map[string][]string{"X-Both": {"m1", "m2"}},
		Body:              base64.StdEncoding.EncodeToString(payload),
		IsBase64Encoded:   true,
	})
	resp, err := http.Get(srv.URL + "/v0/file")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 201 || !bytes.Equal(body, payload) {
		t.Errorf("status %d body %v", resp.StatusCode, body)
	}
	if got := resp.Header.Values("X-Both"); !reflect.DeepEqual(got, []string{"m1", "m2"}) {
		t.Errorf("X-Both = %v", got)
	}
	if resp.Header.Get("X-One") != "single" || resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("headers %v", resp.Header)
	}
}

// Over Lambda's 6 MB the gateway answers 413 in the API's error shape without invoking.
func TestGatewayPayloadTooLarge(t *testing.T) {
	rec, srv := newGateway(t, events.APIGatewayProxyResponse{StatusCode: 200})
	for _, size := range []int{maxPayload + 1, maxPayload - 100} { // the second fits as a body, not as an event
		resp, err := http.Post(srv.URL+"/v0/x", "application/json", bytes.NewReader(bytes.Repeat([]byte(`"`), size)))
		if err != nil {
			t.Fatal(err)
		}
		var e struct{ Name, Message string }
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 413 || err != nil || e.Name != "PayloadTooLargeError" || e.Message == "" ||
			resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("size %d: status %d, body %+v (%v), type %q", size, resp.StatusCode, e, err, resp.Header.Get("Content-Type"))
		}
	}
	if len(rec.events) != 0 {
		t.Errorf("function invoked %d times", len(rec.events))
	}
}

// A function error is API Gateway's 502.
func TestGatewayFunctionError(t *testing.T) {
	srv := httptest.NewServer(&Gateway{Invoke: func(context.Context, events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
		return events.APIGatewayProxyResponse{}, io.ErrUnexpectedEOF
	}, Log: slog.New(slog.DiscardHandler)})
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/v0/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d", resp.StatusCode)
	}
}
