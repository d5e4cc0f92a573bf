// Package httpapi is Pigeon's REST API (AgentMail v0 wire format) as a net/http Handler:
// routes as ServeMux method+path patterns, API-key authentication, tenancy checks, query and
// body parsing, and the mapping of every error to the API's error shape.
//
// Conventions of AgentMail v0:
//   - every JSON response, errors included, is labelled application/json; successes answer 200
//     (creates and idempotent replays alike), void routes 204;
//   - a resource outside the key's scope answers 404, exactly as a missing one, so a key cannot
//     learn what exists outside its pod or inbox;
//   - bad input always gets a 4xx with the error shape: unknown route 404, wrong method 405
//     (with Allow), bad query or body 400, oversized body 413; a panic is recovered, logged and
//     answered 500 InternalServerError.
package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/blob"
	"github.com/pigeon-mail/pigeon/shared/config"
	"github.com/pigeon-mail/pigeon/shared/outbound"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Deps are what the API needs; Now and Log default to time.Now and slog.Default.
type Deps struct {
	Store  *store.Store
	Blobs  *blob.Store
	Config config.Config
	// Outbound sends mail (send, reply, reply-all, forward); nil answers those routes 503.
	Outbound *outbound.Service
	Now      func() time.Time
	Log      *slog.Logger
}

type server struct {
	st    *store.Store
	blobs *blob.Store
	cfg   config.Config
	out   *outbound.Service
	now   func() time.Time
	log   *slog.Logger
	mux   *http.ServeMux
	// patterns are the registered routes, in registration order (the route matrix test
	// checks that each of them keeps to the key's scope).
	patterns []string
}

// handlerFunc is a route: it writes a success response itself and returns errors for
// writeError to map.
type handlerFunc func(w http.ResponseWriter, r *http.Request, p auth.Principal) error

// New returns the REST API handler.
func New(d Deps) http.Handler {
	return http.HandlerFunc(newServer(d).serve)
}

func newServer(d Deps) *server {
	s := &server{st: d.Store, blobs: d.Blobs, cfg: d.Config, out: d.Outbound, now: d.Now, log: d.Log, mux: http.NewServeMux()}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.routes()
	return s
}

// routes registers every route. Literal segments (…/search, …/send) beat {wildcards} by
// ServeMux precedence, so their order here does not matter.
func (s *server) routes() {
	s.inboxRoutes()
	s.podRoutes()
	s.messageRoutes()
	s.sendRoutes()
	s.messageLabelRoutes()
	s.threadRoutes()
	s.threadUpdateRoutes()
	s.draftRoutes()
	s.organizationRoutes()
	s.webhookRoutes()
	s.inboxEventRoutes()
	s.apiKeyRoutes()
	s.listRoutes()
	s.searchRoutes()
}

// handle registers fn for pattern, requiring permission perm ("" for none).
func (s *server) handle(pattern, perm string, fn handlerFunc) {
	s.patterns = append(s.patterns, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		st := state(r.Context())
		st.matched = true
		if perm != "" && !st.principal.Can(perm) {
			s.writeError(w, r, forbidden(perm))
			return
		}
		r = r.WithContext(store.WithPageOwner(r.Context(), pageOwner(pattern, st.principal)))
		if err := fn(w, r, st.principal); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// pageOwner is whom the page tokens of a request belong to: the route and the key's scope
// (organisation, pod, inbox), so a token is refused on another route or to a key of another
// scope. Keys of one scope share their tokens.
func pageOwner(pattern string, p auth.Principal) string {
	return pattern + "\x00" + p.OrgID + "\x00" + p.PodID + "\x00" + p.InboxID
}

// requestState travels in the request context from serve to the matched route.
type requestState struct {
	principal auth.Principal
	matched   bool
}

type stateKey struct{}

func state(ctx context.Context) *requestState {
	st, _ := ctx.Value(stateKey{}).(*requestState)
	if st == nil {
		return &requestState{}
	}
	return st
}

// serve authenticates, routes, turns ServeMux's own 404/405/redirect answers into JSON errors
// and recovers panics.
func (s *server) serve(w http.ResponseWriter, r *http.Request) {
	rw := &responseWriter{ResponseWriter: w}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Any("panic", v), slog.String("stack", string(debug.Stack())))
			if !rw.wrote {
				s.writeError(rw, r, fmt.Errorf("panic: %v", v))
			}
		}
	}()
	p, err := s.authenticate(r)
	if err != nil {
		s.writeError(rw, r, err)
		return
	}
	st := &requestState{principal: p}
	r = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	rw.state = st
	s.mux.ServeHTTP(rw, r)
}

// responseWriter records whether a response was started (for panic recovery) and replaces
// the plain-text answers ServeMux gives when no route matched: 405 keeps its Allow header,
// everything else (404, the 307 to a cleaned path, which would lose an API Gateway stage
// prefix) becomes a JSON 404.
type responseWriter struct {
	http.ResponseWriter
	state   *requestState
	wrote   bool
	discard bool
}

func (w *responseWriter) WriteHeader(status int) {
	if w.wrote {
		return
	}
	if w.state != nil && !w.state.matched {
		w.wrote, w.discard = true, true
		h := w.ResponseWriter.Header()
		allow := h.Get("Allow")
		clear(h)
		if status == http.StatusMethodNotAllowed {
			h.Set("Allow", allow)
			writeJSON(w.ResponseWriter, status, wire.Error{Name: "MethodNotAllowedError", Code: "method_not_allowed", Message: "method not allowed; allowed: " + allow})
			return
		}
		writeJSON(w.ResponseWriter, http.StatusNotFound, wire.Error{Name: "NotFoundError", Code: "route_not_found", Message: "no such route"})
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if w.discard {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeJSON writes v as the JSON body with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"name":"InternalServerError","code":"internal_error","message":"response could not be encoded"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// ok writes a 200 JSON response.
func ok(w http.ResponseWriter, v any) error {
	writeJSON(w, http.StatusOK, v)
	return nil
}

// noContent answers a void route.
func noContent(w http.ResponseWriter) error {
	w.WriteHeader(http.StatusNoContent)
	return nil
}
