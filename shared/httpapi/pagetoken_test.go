package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// A pod key's page tokens show nothing of the table, the first page is full, and a token is
// refused (400 ValidationError on page_token) to a key of another scope or on another route,
// while another key of the same pod may follow it.
func TestPageTokensSealedAndBoundToScope(t *testing.T) {
	e := newEnv(t)
	podA, podB := e.createPod("a"), e.createPod("b")
	for _, u := range []string{"secret-a1", "secret-b1", "secret-a2", "secret-b2", "secret-a3", "secret-b3"} {
		pod := podA
		if strings.HasPrefix(u, "secret-b") {
			pod = podB
		}
		e.createInbox("/v0/pods/"+pod.PodID+"/inboxes", map[string]any{"username": u})
	}
	keyA, keyA2, keyB := e.newKey(podA.PodID, "", nil), e.newKey(podA.PodID, "", nil), e.newKey(podB.PodID, "", nil)

	for _, c := range []struct{ path, field string }{
		{"/v0/inboxes?limit=1", "inboxes"},
		{"/v0/api-keys?limit=1", "api_keys"},
	} {
		var page map[string]json.RawMessage
		e.okAs(keyA, "GET", c.path, nil, &page)
		var items []map[string]any
		if err := json.Unmarshal(page[c.field], &items); err != nil {
			t.Fatal(err)
		}
		var tok string
		if raw, ok := page["next_page_token"]; ok {
			_ = json.Unmarshal(raw, &tok)
		}
		if len(items) != 1 || tok == "" {
			t.Fatalf("%s: first page holds %d items, token %q", c.path, len(items), tok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			t.Fatalf("%s: token %q: %v", c.path, tok, err)
		}
		if json.Valid(raw) {
			t.Fatalf("%s: token decodes to JSON %s", c.path, raw)
		}
		for _, leak := range []string{podA.PodID, podB.PodID, "secret-", "pigeon.test", "ak_", "POD#", "gsi"} {
			if strings.Contains(tok, leak) || strings.Contains(string(raw), leak) {
				t.Fatalf("%s: token %q shows %q", c.path, tok, leak)
			}
		}
		next := c.path + "&page_token=" + url.QueryEscape(tok)
		for who, key := range map[string]string{"pod B's key": keyB, "the organisation's key": e.key} {
			we := e.wantError(e.do("GET", next, key, nil), 400, "ValidationError")
			if len(we.Errors) != 1 || we.Errors[0].Path != "page_token" {
				t.Fatalf("%s replayed by %s: %+v", c.path, who, we)
			}
		}
		e.wantError(e.do("GET", "/v0/pods/"+podA.PodID+strings.TrimPrefix(next, "/v0"), keyA, nil), 400, "ValidationError")
		e.okAs(keyA2, "GET", next, nil, nil)
	}

	// Pod A's inboxes, paged by A's key: all three and only them.
	var got []string
	for path := "/v0/inboxes?limit=1"; ; {
		var page wire.ListInboxesResponse
		e.okAs(keyA, "GET", path, nil, &page)
		got = append(got, ids(page.Inboxes)...)
		if page.NextPageToken == "" {
			break
		}
		path = "/v0/inboxes?limit=1&page_token=" + url.QueryEscape(page.NextPageToken)
	}
	if strings.Join(got, " ") != "secret-a3@pigeon.test secret-a2@pigeon.test secret-a1@pigeon.test" {
		t.Fatalf("pod A's inboxes = %v", got)
	}
}
