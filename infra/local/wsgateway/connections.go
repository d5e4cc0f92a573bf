package wsgateway

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Connections is the management API of the WebSocket API (the "callback URL",
// https://{api-id}.execute-api.{region}.amazonaws.com/{stage}): PostToConnection,
// GetConnection and DeleteConnection on /@connections/{connectionId}. Whatever precedes
// /@connections/ in the path is ignored, so an SDK client whose endpoint carries a stage
// (…/prod) works as well as one without. Requests are not authenticated.
func (g *Gateway) Connections() http.Handler { return http.HandlerFunc(g.serveConnections) }

func (g *Gateway) serveConnections(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	i := strings.LastIndex(path, "/@connections/")
	if i < 0 {
		awsError(w, http.StatusNotFound, "NotFoundException", "No route for "+path)
		return
	}
	escaped := path[i+len("/@connections/"):]
	id, err := url.PathUnescape(escaped)
	if err != nil || id == "" || strings.Contains(escaped, "/") {
		awsError(w, http.StatusBadRequest, "BadRequestException", "Invalid connection id")
		return
	}
	switch r.Method {
	case http.MethodPost:
		g.post(w, r, id)
	case http.MethodGet:
		g.get(w, id)
	case http.MethodDelete:
		g.delete(w, id)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		awsError(w, http.StatusMethodNotAllowed, "MethodNotAllowedException", r.Method+" is not supported on @connections")
	}
}

// post is PostToConnection: the body goes to the client as one text message.
func (g *Gateway) post(w http.ResponseWriter, r *http.Request, id string) {
	data, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		awsError(w, http.StatusBadRequest, "BadRequestException", "Could not read the request body")
		return
	}
	if len(data) > MaxPayload {
		awsError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException",
			fmt.Sprintf("Message payload is larger than %d bytes", MaxPayload))
		return
	}
	c := g.lookup(id)
	if c == nil {
		gone(w)
		return
	}
	if err := g.send(r.Context(), c, data); err != nil {
		// A client that cannot take a message is as good as gone; API Gateway says so too.
		g.log().Info("ws post failed; closing the connection", "connection_id", id, "err", err)
		c.close(websocket.StatusGoingAway, "Going away")
		g.unregister(c)
		gone(w)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// connectionInfo is GetConnection's answer, with the SDK's JSON names.
type connectionInfo struct {
	ConnectedAt  string   `json:"connectedAt"`
	Identity     identity `json:"identity"`
	LastActiveAt string   `json:"lastActiveAt"`
}

type identity struct {
	SourceIP  string `json:"sourceIp"`
	UserAgent string `json:"userAgent"`
}

func (g *Gateway) get(w http.ResponseWriter, id string) {
	c := g.lookup(id)
	if c == nil {
		gone(w)
		return
	}
	writeJSON(w, http.StatusOK, connectionInfo{
		ConnectedAt:  isoTime(c.connectedAt),
		Identity:     identity{SourceIP: c.sourceIP, UserAgent: c.userAgent},
		LastActiveAt: isoTime(time.Unix(0, c.lastActive.Load())),
	})
}

// delete is DeleteConnection: the connection is closed (1000) and forgotten at once, so
// posts that follow answer 410 while the close handshake finishes and $disconnect runs.
func (g *Gateway) delete(w http.ResponseWriter, id string) {
	c := g.lookup(id)
	if c == nil {
		gone(w)
		return
	}
	g.unregister(c)
	c.close(websocket.StatusNormalClosure, "")
	w.WriteHeader(http.StatusNoContent)
}

func gone(w http.ResponseWriter) {
	awsError(w, http.StatusGone, "GoneException", "Connection is not available")
}

// awsError answers as AWS's REST-JSON services do: the error code in X-Amzn-ErrorType (which the
// SDK's deserializer reads first) and {"message": …} in the body.
func awsError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("X-Amzn-ErrorType", code)
	writeJSON(w, status, map[string]string{"message": msg})
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
