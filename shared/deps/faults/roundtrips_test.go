package faults_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/deps/faults"
	"github.com/pigeon-mail/pigeon/shared/inbound"
	"github.com/pigeon-mail/pigeon/shared/realtime"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wsproto"
)

// TestRoundTrips states how many AWS calls each operation makes and how many of them run one
// after another (Depth, with every call lasting at least 20 ms so that concurrent ones
// overlap). A change that adds or removes a call, or serialises parallel ones, changes these
// numbers: update them here and in the README's limits.
func TestRoundTrips(t *testing.T) {
	cases := []struct {
		name         string
		setup        func(*testing.T, *faults.Injector) faults.Run
		calls, depth int
	}{
		{"receive one mail", receiveOne, 8, 8},
		{"send", sendOne, 7, 7},
		{"reply", func(t *testing.T, inj *faults.Injector) faults.Run {
			a, id := received(t, inj)
			return apiCall(a, "POST", inboxPath("agent@pigeon.local")+"/messages/"+url.PathEscape(id)+"/reply", map[string]any{"text": "Thanks."})
		}, 9, 9},
		{"list messages", func(t *testing.T, inj *faults.Injector) faults.Run {
			a, _ := received(t, inj)
			return apiCall(a, "GET", inboxPath("agent@pigeon.local")+"/messages", nil)
		}, 3, 3},
		{"get a message", func(t *testing.T, inj *faults.Injector) faults.Run {
			a, id := received(t, inj)
			return apiCall(a, "GET", inboxPath("agent@pigeon.local")+"/messages/"+url.PathEscape(id), nil)
		}, 3, 3},
		{"WebSocket subscribe", subscribeOne, 6, 6},
		{"fanout of one event to 10 connections and 2 webhooks", fanout10, 17, 8},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inj := &faults.Injector{Delay: 20 * time.Millisecond}
			run := c.setup(t, inj)
			inj.Arm(0, faults.None)
			if run.Invoke(context.Background()) {
				t.Fatal("the invocation failed")
			}
			inj.Disarm()
			calls := inj.Calls()
			if len(calls) != c.calls || faults.Depth(calls) != c.depth {
				t.Errorf("%d calls, %d sequential; want %d, %d: %v", len(calls), faults.Depth(calls), c.calls, c.depth, faults.Names(calls))
			}
		})
	}
}

func fanout10(t *testing.T, inj *faults.Injector) faults.Run {
	r := newFanoutRig(t, inj, 10, 2)
	ev := awsevents.DynamoDBEvent{Records: []awsevents.DynamoDBEventRecord{streamRecord(r.world, 1, "agent@pigeon.local")}}
	return faults.Run{Invoke: func(ctx context.Context) bool {
		resp, err := r.f.HandleStream(ctx, ev)
		return err != nil || len(resp.BatchItemFailures) > 0
	}}
}

// received is an API world whose inbox received one mail (through the inbound handler), and
// the mail's message_id.
func received(t *testing.T, inj *faults.Injector) (*api, string) {
	a := newAPI(t, inj)
	a.inbox("agent@pigeon.local")
	raw, err := os.ReadFile("../../inbound/testdata/quarterly.eml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.blobs.Put(ctx, "raw/q", "message/rfc822", raw); err != nil {
		t.Fatal(err)
	}
	h := &inbound.Handler{Store: a.st, Blobs: a.blobs, Config: a.cfg, Log: slog.New(slog.DiscardHandler)}
	if err := h.HandleEvent(ctx, receiptEvent(t, a.name, "raw/q", "agent@pigeon.local")); err != nil {
		t.Fatal(err)
	}
	return a, "<CAF=q1w2e3r4t5y6@mail.example.com>"
}

// apiCall is one API request that must answer 200.
func apiCall(a *api, method, path string, body any) faults.Run {
	return faults.Run{Invoke: func(context.Context) bool {
		status, resp := a.do(method, path, body)
		if status != http.StatusOK {
			a.t.Logf("%s %s = %d %s", method, path, status, resp)
			return true
		}
		return false
	}}
}

// subscribeOne is a connected client's subscribe frame to one inbox (the ws function's
// $default route).
func subscribeOne(t *testing.T, inj *faults.Injector) faults.Run {
	w := newWorld(t, inj)
	w.inbox("agent@pigeon.local")
	putKey(t, w, "k1")
	ctx := context.Background()
	if err := w.st.PutConnection(ctx, store.Connection{ConnectionID: "c1", APIKeyID: "k1", OrgID: w.cfg.OrgID}); err != nil {
		t.Fatal(err)
	}
	s := &realtime.Sessions{Store: w.st, Log: slog.New(slog.DiscardHandler)}
	frame, _ := json.Marshal(wsproto.Subscribe{Type: wsproto.TypeSubscribe, InboxIDs: []string{"agent@pigeon.local"}})
	req := awsevents.APIGatewayWebsocketProxyRequest{Body: string(frame)}
	req.RequestContext.ConnectionID, req.RequestContext.RouteKey = "c1", "$default"
	return faults.Run{Invoke: func(ctx context.Context) bool {
		resp, err := s.HandleWebSocket(ctx, req)
		if err != nil || !strings.Contains(resp.Body, wsproto.TypeSubscribed) {
			t.Logf("subscribe: %+v %v", resp, err)
			return true
		}
		return false
	}}
}
