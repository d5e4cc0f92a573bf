package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
)

func TestArrayParam(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"labels=%5B%22unread%22%2C%22vip%22%5D", []string{"unread", "vip"}}, // TS SDK: one JSON array
		{"labels=unread&labels=vip", []string{"unread", "vip"}},              // older Python: repeated
		{"labels=unread,vip", []string{"unread", "vip"}},                     // Go SDK: comma-joined
		{"labels=unread,vip&labels=x", []string{"unread", "vip", "x"}},
		{"labels[]=a&labels[]=b", []string{"a", "b"}},
		{"labels=%5B%5D", nil},
		{"labels=", nil},
		{"", nil},
		{"labels=a,%20,b", []string{"a", "b"}},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.query)
		got, err := arrayParam(q, "labels")
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q = %#v, %v; want %#v", tt.query, got, err, tt.want)
		}
	}
	q, _ := url.ParseQuery("labels=%5Bnot-json")
	if _, err := arrayParam(q, "labels"); err == nil {
		t.Error("broken JSON array accepted")
	}
	q, _ = url.ParseQuery(`labels=[1,2]`)
	if _, err := arrayParam(q, "labels"); err == nil {
		t.Error("array of numbers accepted")
	}
}

func TestListPage(t *testing.T) {
	q, _ := url.ParseQuery("limit=7&page_token=abc&ascending=true&before=2025-01-02T03:04:05.000Z&after=2025-01-01&unknown=1")
	pg, err := listPage(q)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	after := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if pg.Limit != 7 || pg.Token != "abc" || !pg.Ascending || !pg.Before.Equal(before) || !pg.After.Equal(after) {
		t.Fatalf("page = %+v", pg)
	}
	pg, err = listPage(url.Values{})
	if err != nil || pg.Limit != defaultLimit || pg.Ascending || pg.Before != nil {
		t.Fatalf("defaults = %+v, %v", pg, err)
	}
	for _, bad := range []string{"limit=0", "limit=101", "limit=-1", "limit=ten", "limit=1.5", "ascending=yes", "before=yesterday", "after=2025-13-01", "before=1735787045"} {
		q, _ := url.ParseQuery(bad)
		if _, err := listPage(q); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestFilteredPageHidesClassifiedMail(t *testing.T) {
	all := auth.Principal{}
	q, _ := url.ParseQuery("labels=Unread")
	pg, err := filteredPage(q, all, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(pg.Labels, []string{"unread"}) || !reflect.DeepEqual(pg.ExcludeLabels, []string{"spam", "blocked", "unauthenticated", "trash"}) {
		t.Fatalf("page = %+v", pg)
	}
	q, _ = url.ParseQuery("include_spam=true&include_trash=true")
	pg, _ = filteredPage(q, all, nil)
	if !reflect.DeepEqual(pg.ExcludeLabels, []string{"blocked", "unauthenticated"}) {
		t.Fatalf("include_*: %v", pg.ExcludeLabels)
	}
	noSpam := auth.Principal{Permissions: map[string]bool{"message_read": true}}
	pg, _ = filteredPage(q, noSpam, nil)
	if len(pg.ExcludeLabels) != 4 {
		t.Fatalf("without label_*_read: %v", pg.ExcludeLabels)
	}
	q, _ = url.ParseQuery(`to=["Bob","x.test"]&from=alice&subject=` + strings.Repeat("s", maxSubstringFilter+1))
	if _, err := filteredPage(q, all, messageFilters); err == nil {
		t.Fatal("over-long substring filter accepted")
	}
	q, _ = url.ParseQuery(`to=["Bob","x.test"]&from=alice`)
	pg, err = filteredPage(q, all, messageFilters)
	want := []store.Substring{{Attributes: []string{"from"}, Value: "alice"},
		{Attributes: []string{"to", "cc", "bcc"}, Value: "Bob"}, {Attributes: []string{"to", "cc", "bcc"}, Value: "x.test"}}
	if err != nil || !reflect.DeepEqual(pg.Contains, want) {
		t.Fatalf("substring filters = %+v, %v", pg.Contains, err)
	}
}

func TestRoutingErrors(t *testing.T) {
	e := newEnv(t)
	resp := e.do("GET", "/v0/nothing", e.key, nil)
	e.wantError(resp, http.StatusNotFound, "NotFoundError")
	resp = e.do("PUT", "/v0/inboxes", e.key, nil)
	e.wantError(resp, http.StatusMethodNotAllowed, "MethodNotAllowedError")
	if allow := resp.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
	// A path ServeMux would redirect (cleaned) is a 404, not a redirect losing the stage prefix.
	resp = e.do("GET", "/v0//inboxes", e.key, nil)
	e.wantError(resp, http.StatusNotFound, "NotFoundError")
	if resp.header.Get("Location") != "" {
		t.Errorf("Location = %q", resp.header.Get("Location"))
	}
	// Literal segments beat {id}: /v0/inboxes/search is the search, not an inbox lookup.
	if resp := e.do("GET", "/v0/inboxes/search?q=ab", e.key, nil); resp.status != http.StatusOK {
		t.Errorf("GET /v0/inboxes/search?q=ab = %d, want the search's 200", resp.status)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	e := newEnv(t)
	srv := &server{st: e.st, log: slog.New(slog.NewTextHandler(e.logs, nil)), mux: http.NewServeMux(), now: time.Now}
	srv.handle("GET /v0/boom", "", func(http.ResponseWriter, *http.Request, auth.Principal) error { panic("boom") })
	r := httptest.NewRequest("GET", "/v0/boom", nil)
	r.Header.Set("Authorization", "Bearer "+e.key)
	w := httptest.NewRecorder()
	srv.serve(w, r)
	e.wantError(response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}, http.StatusInternalServerError, "InternalServerError")
	if !strings.Contains(e.logs.String(), "boom") {
		t.Errorf("panic not logged: %s", e.logs)
	}
}

// TestBadRequestsNever500 sends malformed input to every route: each must answer a 4xx with
// the error shape and application/json.
func TestBadRequestsNever500(t *testing.T) {
	e := newEnv(t)
	e.createInbox("/v0/inboxes", map[string]any{"username": "a"})
	const in = "/v0/inboxes/a%40pigeon.test"
	tests := []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/v0/inboxes", `{`, 400},
		{"POST", "/v0/inboxes", `{"username":`, 400},
		{"POST", "/v0/inboxes", `[]`, 400},
		{"POST", "/v0/inboxes", `"str"`, 400},
		{"POST", "/v0/inboxes", `42`, 400},
		{"POST", "/v0/inboxes", `{"a":1} {"b":2}`, 400},
		{"POST", "/v0/inboxes", `{"metadata":"x"}`, 400},
		{"POST", "/v0/inboxes", `{"display_name":["x"]}`, 400},
		{"POST", "/v0/inboxes", `{"username":"a","domain":"x\u0000y"}`, 400},
		{"POST", "/v0/inboxes", "\xff\xfe", 400},
		{"POST", "/v0/inboxes", `{"username":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
		{"POST", "/v0/pods", `{"name":{}}`, 400},
		{"POST", "/v0/pods", `nul`, 400},
		{"PATCH", in, `{"metadata":5}`, 400},
		{"PATCH", in, `{"display_name":null}`, 400},
		{"PATCH", in, ``, 400},
		{"GET", "/v0/inboxes?limit=abc", "", 400},
		{"GET", "/v0/inboxes?limit=1000", "", 400},
		{"GET", "/v0/inboxes?page_token=garbage", "", 400},
		{"GET", "/v0/inboxes?page_token=" + strings.Repeat("x", 3000), "", 400},
		{"GET", "/v0/inboxes?ascending=maybe", "", 400},
		{"GET", "/v0/pods?limit=0", "", 400},
		{"GET", "/v0/pods?page_token=a.b", "", 400},
		{"GET", in + "/messages?limit=-5", "", 400},
		{"GET", in + "/messages?before=notadate", "", 400},
		{"GET", in + "/messages?labels=%5B1", "", 400},
		{"GET", in + "/messages?page_token=eyJ9.eyJ9", "", 400},
		{"GET", in + "/messages?include_spam=2", "", 400},
		{"GET", in + "/messages/%3Cnope%40host%3E", "", 404},
		{"GET", in + "/messages/%3Cnope%40host%3E/raw", "", 404},
		{"GET", in + "/messages/x/attachments/y", "", 404},
		{"GET", in + "/threads?after=2025-99-99", "", 400},
		{"GET", in + "/threads/nope", "", 404},
		{"GET", in + "/threads/nope/attachments/x", "", 404},
		{"GET", "/v0/threads?limit=101", "", 400},
		{"GET", "/v0/threads?page_token=%00", "", 400},
		{"GET", "/v0/threads/x?limit=0", "", 404},
		{"GET", "/v0/pods/default/threads?ascending=", "", 200},
		{"GET", "/v0/inboxes/%ZZ", "", 404},
		{"GET", "/v0/inboxes/" + strings.Repeat("a", 5000), "", 404},
		{"DELETE", "/v0/pods/default/inboxes/nobody%40x", "", 404},
		{"POST", "/v0/inboxes/a%40pigeon.test", "{}", 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path[:min(len(tt.path), 60)], func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", strings.NewReader(tt.body))
			r.Method = tt.method
			u, err := url.ParseRequestURI(tt.path)
			if err != nil { // "%ZZ" cannot be parsed by net/url: build it raw as API Gateway would pass it
				u = &url.URL{Path: tt.path, RawPath: ""}
			}
			r.URL = u
			r.Header.Set("Authorization", "Bearer "+e.key)
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			if w.Code >= 500 {
				t.Fatalf("status %d: %s", w.Code, w.Body)
			}
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if w.Code == 200 {
				return
			}
			var we struct {
				Name    string `json:"name"`
				Message string `json:"message"`
			}
			if ct := w.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if err := json.Unmarshal(w.Body.Bytes(), &we); err != nil || we.Name == "" || we.Message == "" {
				t.Errorf("error body %s (%v)", w.Body, err)
			}
		})
	}
}
