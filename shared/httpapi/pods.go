package httpapi

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

const maxPodNameLen = 256

func (s *server) podRoutes() {
	s.handle("GET /v0/pods", "pod_read", s.listPods)
	s.handle("POST /v0/pods", "pod_create", s.createPod)
	s.handle("GET /v0/pods/{pod_id}", "pod_read", s.getPod)
	s.handle("DELETE /v0/pods/{pod_id}", "pod_delete", s.deletePod)
}

// createPodRequest is CreatePodRequest.
type createPodRequest struct {
	Name     string `json:"name"`
	ClientID string `json:"client_id"`
}

// listPods lists the organisation's pods; a pod or inbox key sees only its own pod.
func (s *server) listPods(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pg, err := listPage(r.URL.Query())
	if err != nil {
		return err
	}
	resp := wire.ListPodsResponse{Limit: pg.Limit, Pods: []wire.Pod{}}
	if p.PodID != "" {
		pod, err := s.st.GetPod(r.Context(), p.OrgID, p.PodID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err == nil && pg.Token == "" {
			resp.Pods = append(resp.Pods, pod)
		}
	} else {
		if resp.Pods, resp.NextPageToken, err = s.st.ListPods(r.Context(), p.OrgID, pg); err != nil {
			return err
		}
		resp.Pods = wire.NonNil(resp.Pods)
	}
	resp.Count = len(resp.Pods)
	return ok(w, resp)
}

// createPod creates a pod (organisation keys only: a pod key cannot make pods outside its
// scope). A repeated client_id returns the pod it created.
func (s *server) createPod(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if p.PodID != "" {
		return forbidden("pod_create")
	}
	var req createPodRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if utf8.RuneCountInString(name) > maxPodNameLen {
		return invalid("name", "name must be at most %d characters", maxPodNameLen)
	}
	if utf8.RuneCountInString(req.ClientID) > maxClientIDLen {
		return invalid("client_id", "client_id must be at most %d characters", maxClientIDLen)
	}
	pod, _, err := s.st.CreatePod(r.Context(), p.OrgID, wire.Pod{Name: name, ClientID: req.ClientID})
	if err != nil {
		return err
	}
	return ok(w, pod)
}

func (s *server) getPod(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pod, err := s.pod(r, p)
	if err != nil {
		return err
	}
	return ok(w, pod)
}

// deletePod deletes an empty pod. A pod that still has inboxes answers 400 ValidationError
// "pod is not empty" rather than 409: 400 is a status the SDKs map to a typed error without
// retrying, while 409 makes the Python and Go SDKs send the delete again.
func (s *server) deletePod(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	if p.InboxID != "" {
		return forbidden("pod_delete")
	}
	pod, err := s.pod(r, p)
	if err != nil {
		return err
	}
	err = s.st.DeletePod(r.Context(), p.OrgID, pod.PodID)
	if errors.Is(err, store.ErrConflict) {
		return invalid("pod_id", "pod is not empty: delete its inboxes first")
	}
	if err != nil {
		return err
	}
	// Keys, lists and webhooks of the pod go with it (the default pod can be re-created under its id).
	if err := s.st.DeleteAPIKeysOf(r.Context(), p.OrgID, pod.PodID, ""); err != nil {
		return err
	}
	if err := s.st.DeleteListsOf(r.Context(), pod.PodID, ""); err != nil {
		return err
	}
	if err := s.st.DeleteWebhooksOf(r.Context(), p.OrgID, pod.PodID, ""); err != nil {
		return err
	}
	return noContent(w)
}
