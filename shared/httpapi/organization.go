package httpapi

import (
	"net/http"

	"github.com/pigeon-mail/pigeon/shared/auth"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/wire"
)

// maxCountedInboxes bounds the inbox count of GET /v0/organizations, which pages through the
// organisation's inbox index (a deployment serves one organisation with modest numbers).
const maxCountedInboxes = 100_000

// identity is the Identity object of GET /v0/auth/me.
type identity struct {
	ScopeType      string `json:"scope_type"`
	ScopeID        string `json:"scope_id"`
	OrganizationID string `json:"organization_id"`
	PodID          string `json:"pod_id,omitempty"`
	InboxID        string `json:"inbox_id,omitempty"`
	APIKeyID       string `json:"api_key_id,omitempty"`
}

func (s *server) organizationRoutes() {
	s.handle("GET /v0/organizations", "", s.getOrganization)
	s.handle("GET /v0/auth/me", "", s.getIdentity)
}

// getOrganization answers the key's organisation. inbox_count counts the inboxes the key can
// see; domain_count is the number of mail domains the deployment is configured with; the
// creation time is that of the organisation's default pod.
func (s *server) getOrganization(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	pod, err := s.st.EnsureDefaultPod(r.Context(), p.OrgID)
	if err != nil {
		return err
	}
	org := wire.Organization{OrganizationID: p.OrgID, DomainCount: len(s.cfg.Domains), CreatedAt: pod.CreatedAt, UpdatedAt: pod.UpdatedAt}
	if p.InboxID != "" {
		org.InboxCount = 1
		return ok(w, org)
	}
	pg := store.Page{Limit: maxLimit}
	for org.InboxCount < maxCountedInboxes {
		inboxes, next, err := s.st.ListInboxes(r.Context(), p.OrgID, p.PodID, pg)
		if err != nil {
			return err
		}
		org.InboxCount += len(inboxes)
		if next == "" {
			break
		}
		pg.Token = next
	}
	return ok(w, org)
}

// getIdentity answers who the key is: its most specific scope, organisation, pod and inbox.
func (s *server) getIdentity(w http.ResponseWriter, r *http.Request, p auth.Principal) error {
	id := identity{ScopeType: p.ScopeType(), OrganizationID: p.OrgID, PodID: p.PodID, InboxID: p.InboxID, APIKeyID: p.APIKeyID}
	switch {
	case p.InboxID != "":
		id.ScopeID = p.InboxID
	case p.PodID != "":
		id.ScopeID = p.PodID
	default:
		id.ScopeID = p.OrgID
	}
	return ok(w, id)
}
