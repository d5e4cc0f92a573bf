package httpapi

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

func TestInboxLifecycle(t *testing.T) {
	e := newEnv(t)
	in := e.createInbox("/v0/inboxes", map[string]any{
		"username": "Agent.One", "display_name": "Agent One", "client_id": "c-1",
		"metadata": map[string]any{"team": "ops", "tier": 2, "vip": true},
	})
	if in.InboxID != "agent.one@pigeon.test" || in.Email != in.InboxID || in.PodID != "default" || in.DisplayName != "Agent One" {
		t.Fatalf("created %+v", in)
	}
	if in.Metadata["tier"] != float64(2) || in.CreatedAt.IsZero() {
		t.Fatalf("created %+v", in)
	}

	// client_id replay returns the same inbox with 200.
	again := e.createInbox("/v0/inboxes", map[string]any{"username": "someone-else", "client_id": "c-1"})
	if again.InboxID != in.InboxID {
		t.Fatalf("client_id replay created %s", again.InboxID)
	}

	// Same address again: 403 IsTakenError, never 409.
	e.wantError(e.do("POST", "/v0/inboxes", e.key, map[string]any{"username": "agent.one"}), http.StatusForbidden, "IsTakenError")

	// Body-less create (SDK create(undefined)): random username, default domain.
	var rnd wire.Inbox
	time.Sleep(2 * time.Millisecond)
	e.ok("POST", "/v0/inboxes", nil, &rnd)
	if !strings.HasSuffix(rnd.InboxID, "@pigeon.test") || len(rnd.InboxID) != len("@pigeon.test")+10 {
		t.Fatalf("random inbox %q", rnd.InboxID)
	}
	time.Sleep(2 * time.Millisecond) // created_at has milliseconds: keep the creation order unambiguous
	other := e.createInbox("/v0/inboxes", map[string]any{"username": "x", "domain": "OTHER.test"})
	if other.InboxID != "x@other.test" {
		t.Fatalf("domain inbox %q", other.InboxID)
	}

	var got wire.Inbox
	for _, p := range []string{"/v0/inboxes/agent.one%40pigeon.test", "/v0/inboxes/AGENT.ONE@pigeon.test", "/v0/pods/default/inboxes/agent.one%40pigeon.test"} {
		e.ok("GET", p, nil, &got)
		if got.InboxID != in.InboxID {
			t.Fatalf("GET %s = %+v", p, got)
		}
	}

	// Paging: follow next_page_token until it is absent; every page but the last is full.
	all := e.pageInboxes("/v0/inboxes?limit=2")
	if len(all) != 3 || all[0].InboxID != other.InboxID || all[2].InboxID != in.InboxID {
		t.Fatalf("paged inboxes = %v", ids(all))
	}
	var asc wire.ListInboxesResponse
	e.ok("GET", "/v0/pods/default/inboxes?ascending=true", nil, &asc)
	if asc.Count != 3 || asc.Inboxes[0].InboxID != in.InboxID {
		t.Fatalf("ascending = %+v", asc)
	}

	// PATCH: display name, metadata merge (null removes), metadata:null clears.
	var upd wire.Inbox
	e.ok("PATCH", "/v0/inboxes/agent.one%40pigeon.test", map[string]any{
		"display_name": "Renamed", "metadata": map[string]any{"team": nil, "region": "eu"},
	}, &upd)
	if upd.DisplayName != "Renamed" || upd.Metadata["team"] != nil || upd.Metadata["region"] != "eu" || upd.Metadata["vip"] != true {
		t.Fatalf("patched %+v", upd)
	}
	var cleared wire.Inbox
	e.ok("PATCH", "/v0/pods/default/inboxes/agent.one%40pigeon.test", `{"metadata":null}`, &cleared)
	if cleared.Metadata != nil || cleared.DisplayName != "Renamed" {
		t.Fatalf("cleared %+v", cleared)
	}
	for _, body := range []string{`{}`, `{"metadata":{}}`, `{"metadata":[1]}`, `{"display_name":5}`, `{"metadata":{"a":{"b":1}}}`} {
		e.wantError(e.do("PATCH", "/v0/inboxes/agent.one%40pigeon.test", e.key, body), http.StatusBadRequest, "ValidationError")
	}

	// DELETE answers 204, then the inbox is gone.
	resp := e.do("DELETE", "/v0/inboxes/agent.one%40pigeon.test", e.key, nil)
	if resp.status != http.StatusNoContent {
		t.Fatalf("delete = %d %s", resp.status, resp.body)
	}
	e.wantError(e.do("GET", "/v0/inboxes/agent.one%40pigeon.test", e.key, nil), http.StatusNotFound, "NotFoundError")
	e.wantError(e.do("DELETE", "/v0/inboxes/agent.one%40pigeon.test", e.key, nil), http.StatusNotFound, "NotFoundError")
}

func TestCreateInboxValidation(t *testing.T) {
	e := newEnv(t)
	longKey := strings.Repeat("k", 257)
	manyKeys := map[string]any{}
	for i := range 257 {
		manyKeys[strings.Repeat("k", i+1)] = "v"
	}
	tests := []struct {
		name string
		body any
		path string // field named in errors[0].path
	}{
		{"unknown domain", map[string]any{"username": "a", "domain": "gmail.com"}, "domain"},
		{"bad username", map[string]any{"username": "a b"}, "username"},
		{"leading dot", map[string]any{"username": ".a"}, "username"},
		{"double dot", map[string]any{"username": "a..b"}, "username"},
		{"username with @", map[string]any{"username": "a@b"}, "username"},
		{"long username", map[string]any{"username": strings.Repeat("a", 65)}, "username"},
		{"wrong type", map[string]any{"username": 5}, "username"},
		{"metadata key too long", map[string]any{"metadata": map[string]any{longKey: "v"}}, "metadata." + longKey},
		{"metadata value too long", map[string]any{"metadata": map[string]any{"k": strings.Repeat("v", 257)}}, "metadata.k"},
		{"metadata nested", map[string]any{"metadata": map[string]any{"k": []int{1}}}, "metadata.k"},
		{"metadata null value", map[string]any{"metadata": map[string]any{"k": nil}}, "metadata.k"},
		{"too many metadata keys", map[string]any{"metadata": manyKeys}, "metadata"},
		{"multi-line display name", map[string]any{"display_name": "a\r\nBcc: x@y"}, "display_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			we := e.wantError(e.do("POST", "/v0/inboxes", e.key, tt.body), http.StatusBadRequest, "ValidationError")
			if len(we.Errors) != 1 || we.Errors[0].Path != tt.path {
				t.Errorf("errors = %+v, want path %q", we.Errors, tt.path)
			}
		})
	}
}

func TestUnknownInbox(t *testing.T) {
	e := newEnv(t)
	for _, p := range []string{
		"/v0/inboxes/nobody%40pigeon.test",
		"/v0/inboxes/nobody%40pigeon.test/messages",
		"/v0/inboxes/nobody%40pigeon.test/messages/%3Cabc%40host%3E",
		"/v0/inboxes/nobody%40pigeon.test/threads",
		"/v0/pods/default/inboxes/nobody%40pigeon.test",
		"/v0/pods/nopod/inboxes",
		"/v0/pods/nopod",
		"/v0/pods/nopod/threads",
		"/v0/threads/th_nothing",
	} {
		we := e.wantError(e.do("GET", p, e.key, nil), http.StatusNotFound, "NotFoundError")
		if we.Code != "not_found" {
			t.Errorf("%s: code %q", p, we.Code)
		}
	}
}

// pageInboxes follows next_page_token from path and returns every inbox, checking each page.
func (e *env) pageInboxes(path string) []wire.Inbox {
	e.t.Helper()
	var all []wire.Inbox
	token := ""
	for range 50 {
		p := path
		if token != "" {
			p += "&page_token=" + url.QueryEscape(token)
		}
		var page wire.ListInboxesResponse
		e.ok("GET", p, nil, &page)
		if page.Count != len(page.Inboxes) || page.Count > 2 || page.Limit != 2 || page.Inboxes == nil ||
			(page.Count < 2 && page.NextPageToken != "") {
			e.t.Fatalf("page = %+v", page)
		}
		all = append(all, page.Inboxes...)
		if token = page.NextPageToken; token == "" {
			return all
		}
	}
	e.t.Fatal("paging did not end")
	return nil
}

func ids(inboxes []wire.Inbox) []string {
	var out []string
	for _, in := range inboxes {
		out = append(out, in.InboxID)
	}
	return out
}
