package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// echo answers what the handler saw of the request.
type seen struct {
	Method, Path, RawPath, Inbox, Message string
	Query                                 map[string][]string
	Body                                  string
	Auth, ContentType, Host               string
}

func echoHandler() http.Handler {
	mux := http.NewServeMux()
	h := func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seen{
			Method: r.Method, Path: r.URL.Path, RawPath: r.URL.RawPath,
			Inbox: r.PathValue("inbox_id"), Message: r.PathValue("message_id"),
			Query: r.URL.Query(), Body: string(body),
			Auth: r.Header.Get("Authorization"), ContentType: r.Header.Get("Content-Type"), Host: r.Host,
		})
	}
	mux.HandleFunc("/v0/inboxes/{inbox_id}/messages/{message_id}", h)
	mux.HandleFunc("/v0/inboxes/{inbox_id}/messages", h)
	mux.HandleFunc("/v0/inboxes/{inbox_id}", h)
	mux.HandleFunc("/v0/inboxes", h)
	mux.HandleFunc("/v0/threads", h)
	return mux
}

func loadEvent(t *testing.T, name string) events.APIGatewayProxyRequest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func invoke(t *testing.T, h http.Handler, ev events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, seen) {
	t.Helper()
	resp, err := Handler(h)(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var s seen
	if resp.StatusCode == 200 {
		if resp.IsBase64Encoded {
			t.Fatalf("JSON response was base64-encoded")
		}
		if err := json.Unmarshal([]byte(resp.Body), &s); err != nil {
			t.Fatalf("body %q: %v", resp.Body, err)
		}
	}
	return resp, s
}

func TestSampleEvents(t *testing.T) {
	h := echoHandler()
	tests := []struct {
		event string
		check func(t *testing.T, s seen)
	}{
		{"apigw-get-message.json", func(t *testing.T, s seen) {
			if s.Inbox != "agent@pigeon.local" || s.Message != "<abc@host.example>" {
				t.Errorf("path values = %q, %q", s.Inbox, s.Message)
			}
			if s.Auth == "" || s.Method != "GET" || s.Host != "abc123defg.execute-api.us-east-1.amazonaws.com" {
				t.Errorf("request = %+v", s)
			}
		}},
		{"apigw-list-messages.json", func(t *testing.T, s seen) {
			want := map[string][]string{"limit": {"10"}, "labels": {`["unread","important"]`}, "ascending": {"true"}, "after": {"2025-01-02T03:04:05.000Z"}}
			if !reflect.DeepEqual(s.Query, want) {
				t.Errorf("query = %v, want %v", s.Query, want)
			}
		}},
		{"apigw-list-threads-repeated.json", func(t *testing.T, s seen) {
			if got := s.Query["labels"]; !reflect.DeepEqual(got, []string{"unread", "important"}) {
				t.Errorf("labels = %v", got)
			}
		}},
		{"apigw-create-inbox.json", func(t *testing.T, s seen) {
			if s.Method != "POST" || s.ContentType != "application/json" || s.Body == "" || s.Body[0] != '{' {
				t.Errorf("request = %+v", s)
			}
		}},
		{"apigw-create-inbox-base64.json", func(t *testing.T, s seen) {
			if s.Body != `{"username": "agent-b64"}` {
				t.Errorf("body = %q", s.Body)
			}
		}},
		{"apigw-custom-domain-base-path.json", func(t *testing.T, s seen) {
			if s.Path != "/v0/inboxes/agent@pigeon.local" || s.Inbox != "agent@pigeon.local" {
				t.Errorf("path = %q inbox = %q", s.Path, s.Inbox)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			resp, s := invoke(t, h, loadEvent(t, tt.event))
			if resp.StatusCode != 200 {
				t.Fatalf("status %d body %s", resp.StatusCode, resp.Body)
			}
			if got := resp.MultiValueHeaders["Content-Type"]; !reflect.DeepEqual(got, []string{"application/json"}) {
				t.Errorf("Content-Type = %v", got)
			}
			tt.check(t, s)
		})
	}
}

func TestEncodedPaths(t *testing.T) {
	h := echoHandler()
	tests := []struct {
		path, stage    string
		inbox, message string
	}{
		{path: "/v0/inboxes/a%40b.c/messages/%3Cabc%40host%3E", inbox: "a@b.c", message: "<abc@host>"},
		{path: "/v0/inboxes/a%40b.c/messages/a%2Fb%40host", inbox: "a@b.c", message: "a/b@host"},
		{path: "/v0/inboxes/a%40b.c/messages/a%2540b", inbox: "a@b.c", message: "a%40b"},
		{path: "/v0/inboxes/a@b.c/messages/<raw@host>", inbox: "a@b.c", message: "<raw@host>"}, // a decoded path is re-escaped
		{path: "/v0/inboxes/a@b.c/messages/100%", inbox: "a@b.c", message: "100%"},
		{path: "/prod/v0/inboxes/a%40b.c", stage: "prod", inbox: "a@b.c"},
		{path: "/mail/v0/inboxes/a%40b.c", stage: "prod", inbox: "a@b.c"},
		{path: "/v0/inboxes/x%20y%40b.c", inbox: "x y@b.c"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			ev := events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: tt.path, RequestContext: events.APIGatewayProxyRequestContext{Stage: tt.stage}}
			resp, s := invoke(t, h, ev)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d body %s", resp.StatusCode, resp.Body)
			}
			if s.Inbox != tt.inbox || s.Message != tt.message {
				t.Errorf("inbox_id = %q, message_id = %q; want %q, %q", s.Inbox, s.Message, tt.inbox, tt.message)
			}
		})
	}
}

func TestBinaryResponse(t *testing.T) {
	data := []byte{0x89, 'P', 'N', 'G', 0, 1, 2, 0xff}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(data)
	})
	resp, err := Handler(h)(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/v0/x"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 201 || !resp.IsBase64Encoded {
		t.Fatalf("status %d base64 %v", resp.StatusCode, resp.IsBase64Encoded)
	}
	got, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil || string(got) != string(data) {
		t.Errorf("body = %v, %v", got, err)
	}
	if !reflect.DeepEqual(resp.MultiValueHeaders["Set-Cookie"], []string{"a=1", "b=2"}) {
		t.Errorf("Set-Cookie = %v", resp.MultiValueHeaders["Set-Cookie"])
	}
}

func TestTextResponses(t *testing.T) {
	for _, ct := range []string{"application/json", "text/plain; charset=utf-8", "application/problem+json", ""} {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			if ct != "" {
				_, _ = w.Write([]byte(`{"a":1}`))
			} else {
				w.WriteHeader(http.StatusNoContent)
			}
		})
		resp, _ := Handler(h)(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "GET", Path: "/v0/x"})
		if resp.IsBase64Encoded {
			t.Errorf("%q: base64-encoded", ct)
		}
		if ct == "" && (resp.StatusCode != 204 || resp.Body != "") {
			t.Errorf("void: %d %q", resp.StatusCode, resp.Body)
		}
		if ct != "" && resp.Body != `{"a":1}` {
			t.Errorf("%q: body %q", ct, resp.Body)
		}
	}
}

func TestBadBase64Body(t *testing.T) {
	resp, err := Handler(echoHandler())(context.Background(), events.APIGatewayProxyRequest{
		HTTPMethod: "POST", Path: "/v0/inboxes", Body: "!!!not base64", IsBase64Encoded: true,
	})
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("status %d err %v", resp.StatusCode, err)
	}
}

func TestSingleValueMapsOnly(t *testing.T) {
	ev := events.APIGatewayProxyRequest{
		HTTPMethod: "GET", Path: "/v0/threads",
		Headers:               map[string]string{"authorization": "Bearer k"},
		QueryStringParameters: map[string]string{"limit": "3"},
	}
	_, s := invoke(t, echoHandler(), ev)
	if s.Auth != "Bearer k" || !reflect.DeepEqual(s.Query["limit"], []string{"3"}) {
		t.Errorf("seen = %+v", s)
	}
}
