package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// A token says nothing readable about the list, resumes only the caller's partition, and
// opens only for its owner, its list and its secret.
func TestPageTokenSealedAndBound(t *testing.T) {
	s, _ := newStore(t)
	podA, _, _ := s.CreatePod(context.Background(), "org", wire.Pod{Name: "a"})
	podB, _, _ := s.CreatePod(context.Background(), "org", wire.Pod{Name: "b"})
	// B's inboxes are the newest of the organisation, interleaved with A's.
	for i := range 3 {
		for _, pod := range []wire.Pod{podA, podB} {
			addr := fmt.Sprintf("secret-%s%d@x.org", pod.Name, i)
			if _, _, err := s.CreateInbox(context.Background(), "org", wire.Inbox{Email: addr, PodID: pod.PodID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ownerA := WithPageOwner(context.Background(), "GET /v0/inboxes\x00org\x00"+podA.PodID)
	ownerB := WithPageOwner(context.Background(), "GET /v0/inboxes\x00org\x00"+podB.PodID)

	list, tok, err := s.ListInboxes(ownerA, "org", podA.PodID, Page{Limit: 1})
	if err != nil || len(list) != 1 || list[0].InboxID != "secret-a2@x.org" || tok == "" {
		t.Fatalf("first page = %v %q %v", ids(list), tok, err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		t.Fatalf("token %q is not base64url: %v", tok, err)
	}
	if json.Valid(raw) {
		t.Fatalf("token decodes to JSON: %s", raw)
	}
	for _, leak := range []string{podA.PodID, podB.PodID, "secret", "x.org", "INBOX", "POD#", "gsi", `"k"`} {
		if strings.Contains(tok, leak) || bytes.Contains(raw, []byte(leak)) {
			t.Fatalf("token %q shows %q", tok, leak)
		}
	}
	// Inside, the resume key lies in A's partition and names A's inbox.
	start, err := s.pageTokens.open(tok, pageBinding(ownerA, notDeletingIn(podA.PodID).fingerprint(Page{Limit: 1})))
	if err != nil {
		t.Fatal(err)
	}
	if pk := start[attrGSI2PK].(*types.AttributeValueMemberS).Value; pk != podInboxesPK(podA.PodID) {
		t.Fatalf("token resumes partition %s", pk)
	}

	// The same owner pages on through A's inboxes only.
	var walked []string
	for pg := (Page{Limit: 1, Token: tok}); pg.Token != ""; {
		list, next, err := s.ListInboxes(ownerA, "org", podA.PodID, pg)
		if err != nil {
			t.Fatal(err)
		}
		walked = append(walked, ids(list)...)
		pg.Token = next
	}
	if want := []string{"secret-a1", "secret-a0"}; !slices.Equal(walked, want) {
		t.Fatalf("rest of A = %v, want %v", walked, want)
	}

	refused := map[string]func() error{
		"another owner": func() error {
			_, _, err := s.ListInboxes(ownerB, "org", podA.PodID, Page{Limit: 1, Token: tok})
			return err
		},
		"no owner": func() error {
			_, _, err := s.ListInboxes(context.Background(), "org", podA.PodID, Page{Limit: 1, Token: tok})
			return err
		},
		"another list": func() error {
			_, _, err := s.ListInboxes(ownerA, "org", podB.PodID, Page{Limit: 1, Token: tok})
			return err
		},
		"another filter": func() error {
			_, _, err := s.ListInboxes(ownerA, "org", podA.PodID, Page{Limit: 1, Token: tok, Contains: []Substring{{Attributes: []string{"email"}, Value: "a"}}})
			return err
		},
		"another secret": func() error {
			other := New(servers.DynamoDB(), blob.New(servers.S3(), s.table, ""), s.table, []byte("another token key"))
			_, _, err := other.ListInboxes(ownerA, "org", podA.PodID, Page{Limit: 1, Token: tok})
			return err
		},
		"flipped bit": func() error {
			b := slices.Clone(raw)
			b[len(b)/2] ^= 1
			_, _, err := s.ListInboxes(ownerA, "org", podA.PodID, Page{Limit: 1, Token: base64.RawURLEncoding.EncodeToString(b)})
			return err
		},
		"truncated": func() error {
			_, _, err := s.ListInboxes(ownerA, "org", podA.PodID, Page{Limit: 1, Token: base64.RawURLEncoding.EncodeToString(raw[:20])})
			return err
		},
	}
	for name, try := range refused {
		if err := try(); !errors.Is(err, ErrBadPageToken) {
			t.Errorf("%s: err = %v, want ErrBadPageToken", name, err)
		}
	}
}

// notDeletingIn is the query ListInboxes runs for a pod.
func notDeletingIn(podID string) listQuery {
	q := notDeleting
	q.index, q.pkName, q.skName, q.pk = indexGSI2, attrGSI2PK, attrGSI2SK, podInboxesPK(podID)
	return q
}

// A filter that matches few items still fills the first page, and every page but the last:
// the store reads on through the partition instead of returning what one Limit-sized read
// kept. Here the DynamoDB filter (inboxes being deleted are hidden) and the substring filter
// each drop most items.
func TestFilteredPagesAreFull(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	pod, _, _ := s.CreatePod(ctx, "org", wire.Pod{Name: "p"})
	var visible, named []string
	for i := range 60 {
		id := fmt.Sprintf("i%02d", i)
		name := "noise"
		if i%14 == 0 {
			name = "needle"
		}
		if _, _, err := s.CreateInbox(ctx, "org", wire.Inbox{Email: id + "@x.org", DisplayName: name, PodID: pod.PodID}); err != nil {
			t.Fatal(err)
		}
		if i%7 != 0 { // hidden, the newest three among them: the first Limit-sized read keeps none
			_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
				TableName: aws.String(s.table), Key: key(inboxPK(id+"@x.org"), skInbox),
				UpdateExpression:          aws.String("SET deleting = :t"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
			})
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		visible = append([]string{id}, visible...)
		if name == "needle" {
			named = append([]string{id}, named...)
		}
	}
	for _, c := range []struct {
		name     string
		contains []Substring
		want     []string
	}{
		{"deleting hidden", nil, visible},
		{"deleting hidden, display name", []Substring{{Attributes: []string{"display_name"}, Value: "NEEDLE"}}, named},
	} {
		var got []string
		pg := Page{Limit: 2, Contains: c.contains}
		for page := 0; ; page++ {
			list, next, err := s.ListInboxes(ctx, "org", pod.PodID, pg)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) < 2 && next != "" && len(got)+len(list) < len(c.want) {
				t.Fatalf("%s: page %d holds %v and more follow", c.name, page, ids(list))
			}
			got = append(got, ids(list)...)
			if pg.Token = next; next == "" {
				break
			}
		}
		if !slices.Equal(got, c.want) {
			t.Fatalf("%s: paged %v, want %v", c.name, got, c.want)
		}
	}
}
