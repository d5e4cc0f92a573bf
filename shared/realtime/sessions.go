package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/events"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
	"github.com/pigeon-mail/pigeon/shared/wsproto"
)

// Sessions runs the WebSocket API's routes:
//
//   - $connect authenticates the API key from the api_key query parameter or, failing that,
//     an `Authorization: Bearer` header (the SDK sends both in Node, only the parameter in
//     browsers). No key, or an unknown one, is refused with 401; a key restricted to
//     permissions without message_read with 403, since events carry messages. A refusal is
//     the REST error body; API Gateway hands the status to the client.
//   - $default runs the subscribe protocol (wsproto) with the key's current permissions and
//     answers the subscribed or error frame as the route response. A frame on a connection
//     whose key was deleted meanwhile is refused with an error frame.
//   - $disconnect forgets the connection (best effort on AWS; the items expire anyway).
type Sessions struct {
	Store *store.Store
	Log   *slog.Logger
	Now   func() time.Time
}

// HandleWebSocket is the ws function's handler.
func (s *Sessions) HandleWebSocket(ctx context.Context, req awsevents.APIGatewayWebsocketProxyRequest) (awsevents.APIGatewayProxyResponse, error) {
	id := req.RequestContext.ConnectionID
	switch req.RequestContext.RouteKey {
	case "$connect":
		return s.connect(ctx, req)
	case "$disconnect":
		if err := s.Store.DeleteConnection(ctx, id); err != nil {
			return awsevents.APIGatewayProxyResponse{}, err
		}
		return awsevents.APIGatewayProxyResponse{StatusCode: http.StatusOK}, nil
	}
	reply, err := s.receive(ctx, id, []byte(req.Body))
	if err != nil {
		return awsevents.APIGatewayProxyResponse{}, err
	}
	return awsevents.APIGatewayProxyResponse{StatusCode: http.StatusOK, Body: string(reply)}, nil
}

func (s *Sessions) connect(ctx context.Context, req awsevents.APIGatewayWebsocketProxyRequest) (awsevents.APIGatewayProxyResponse, error) {
	secret := strings.TrimSpace(req.QueryStringParameters["api_key"])
	if secret == "" {
		if h := header(req.Headers, "Authorization"); h != "" {
			scheme, token, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				return refusal(http.StatusUnauthorized, "invalid_token_type", "Authorization must be `Bearer <api key>`"), nil
			}
			secret = strings.TrimSpace(token)
		}
	}
	if secret == "" {
		return refusal(http.StatusUnauthorized, "missing_authorization", "missing API key: pass ?api_key=<key>"), nil
	}
	k, err := s.Store.APIKeyByHash(ctx, auth.Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return refusal(http.StatusUnauthorized, "unknown_api_key", "unknown API key"), nil
	}
	if err != nil {
		return awsevents.APIGatewayProxyResponse{}, err
	}
	if !auth.FromKey(k).Can("message_read") {
		return refusal(http.StatusForbidden, "missing_permission", "Forbidden: the API key lacks permission message_read"), nil
	}
	err = s.Store.PutConnection(ctx, store.Connection{
		ConnectionID: req.RequestContext.ConnectionID, APIKeyID: k.APIKeyID,
		OrgID: k.OrgID, PodID: k.PodID, InboxID: k.InboxID, ConnectedAt: s.now(),
	})
	if err != nil {
		return awsevents.APIGatewayProxyResponse{}, err
	}
	s.log().Info("ws connected", "connection_id", req.RequestContext.ConnectionID, "api_key_id", k.APIKeyID)
	return awsevents.APIGatewayProxyResponse{StatusCode: http.StatusOK}, nil
}

// receive handles one client frame and returns the reply frame.
func (s *Sessions) receive(ctx context.Context, connectionID string, frame []byte) ([]byte, error) {
	c, err := s.Store.GetConnection(ctx, connectionID)
	if errors.Is(err, store.ErrNotFound) {
		return errorFrame(wsproto.ForbiddenError, "this connection is not authenticated any more; reconnect"), nil
	}
	if err != nil {
		return nil, err
	}
	k, err := s.Store.GetAPIKey(ctx, c.APIKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return errorFrame(wsproto.ForbiddenError, "the API key of this connection was deleted"), nil
	}
	if err != nil {
		return nil, err
	}
	conn := wsproto.Connection{
		Scope:        events.Scope{OrgID: c.OrgID, PodID: c.PodID, InboxID: c.InboxID, Permissions: k.Permissions},
		Subscription: c.Subscription,
	}
	reply, changed, err := conn.Receive(ctx, s.Store, frame)
	if err != nil {
		return nil, err
	}
	if changed {
		if err := s.Store.SetSubscription(ctx, connectionID, *conn.Subscription); errors.Is(err, store.ErrNotFound) {
			return errorFrame(wsproto.ForbiddenError, "this connection is not authenticated any more; reconnect"), nil
		} else if err != nil {
			return nil, err
		}
	}
	return reply, nil
}

func errorFrame(name, msg string) []byte {
	b, _ := json.Marshal(wsproto.Error{Type: wsproto.TypeError, Name: name, Message: msg})
	return b
}

// refusal is a $connect answer that refuses the connection with the REST API's error body.
func refusal(status int, code, msg string) awsevents.APIGatewayProxyResponse {
	name := "UnauthorizedError"
	if status == http.StatusForbidden {
		name = "ForbiddenError"
	}
	body, _ := json.Marshal(wire.Error{Name: name, Code: code, Message: msg})
	return awsevents.APIGatewayProxyResponse{StatusCode: status, Headers: map[string]string{"Content-Type": "application/json"}, Body: string(body)}
}

// header reads a header case-insensitively (API Gateway keeps the client's spelling).
func header(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (s *Sessions) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Sessions) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}
