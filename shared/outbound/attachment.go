package outbound

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/pigeon-mail/pigeon/shared/mail"
	"github.com/pigeon-mail/pigeon/shared/store"
	"github.com/pigeon-mail/pigeon/shared/webhook"
)

// Limits of a send (see the package comment).
const (
	MaxRequestBytes    = 6 << 20
	MaxAttachments     = 100
	MaxAttachmentBytes = 25 << 20
	FetchTimeout       = 30 * time.Second
	maxURLBytes        = 2048
)

// budget counts the attachment bytes of one message against MaxAttachmentBytes.
type budget struct{ left int64 }

func (b *budget) take(field string, n int64) error {
	if b.left -= n; b.left < 0 {
		return &TooLargeError{Field: field, Reason: fmt.Sprintf("attachments total more than %d MB (decoded)", MaxAttachmentBytes>>20)}
	}
	return nil
}

// checkAttachments checks the shape of the request's attachments and decodes the base64 ones,
// before anything is downloaded; URL attachments come back with nil Content.
func checkAttachments(atts []Attachment, b *budget) ([]mail.OutgoingAttachment, error) {
	if len(atts) > MaxAttachments {
		return nil, invalid("attachments", "at most %d attachments", MaxAttachments)
	}
	out := make([]mail.OutgoingAttachment, len(atts))
	for i, a := range atts {
		field := fmt.Sprintf("attachments[%d]", i)
		out[i] = mail.OutgoingAttachment{Filename: a.Filename, ContentType: a.ContentType, ContentDisposition: a.ContentDisposition, ContentID: a.ContentID}
		switch {
		case a.Content != "" && a.URL != "":
			return nil, invalid(field, "give content or url, not both")
		case a.Content == "" && a.URL == "":
			return nil, invalid(field, "content (base64) or url is required")
		case a.URL != "":
			if err := checkURL(a.URL); err != nil {
				return nil, invalid(field+".url", "%v", err)
			}
			continue
		}
		data, err := decodeBase64(a.Content)
		if err != nil {
			return nil, invalid(field+".content", "not valid base64: %v", err)
		}
		if err := b.take(field+".content", int64(len(data))); err != nil {
			return nil, err
		}
		out[i].Content = data
	}
	return out, nil
}

// decodeBase64 accepts standard base64 with or without padding, and the URL-safe alphabet,
// ignoring line breaks and spaces (what base64 tools print).
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, s)
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

func checkURL(raw string) error {
	if len(raw) > maxURLBytes {
		return fmt.Errorf("longer than %d bytes", maxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("must be an http or https URL")
	}
	if u.User != nil {
		return errors.New("must not contain a user name or password")
	}
	return nil
}

// fetchAttachments downloads the URL attachments (atts[i].URL set) into out[i], one after the
// other, within FetchTimeout for all of them.
func (s *Service) fetchAttachments(ctx context.Context, atts []Attachment, out []mail.OutgoingAttachment, b *budget) error {
	var ctxDone context.CancelFunc
	first := true
	for i, a := range atts {
		if a.URL == "" {
			continue
		}
		if first {
			ctx, ctxDone = context.WithTimeout(ctx, s.fetchTimeout())
			defer ctxDone()
			first = false
		}
		field := fmt.Sprintf("attachments[%d].url", i)
		if s.Deployed {
			if err := webhook.ValidateURL(a.URL, true); err != nil {
				return invalid(field, "%v", err)
			}
		}
		data, ctype, err := s.fetch(ctx, a.URL, b.left)
		var tl *TooLargeError
		switch {
		case errors.As(err, &tl):
			tl.Field = field
			return tl
		case err != nil:
			return invalid(field, "cannot download the attachment: %v", err)
		}
		if err := b.take(field, int64(len(data))); err != nil {
			return err
		}
		out[i].Content = data
		if out[i].ContentType == "" {
			out[i].ContentType = ctype
		}
		if out[i].Filename == "" {
			if u, err := url.Parse(a.URL); err == nil {
				if name := path.Base(u.Path); name != "/" && name != "." {
					out[i].Filename = name
				}
			}
		}
	}
	return nil
}

// fetch GETs u and returns its body (at most limit bytes) and media type.
func (s *Service) fetch(ctx context.Context, u string, limit int64) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("User-Agent", "Pigeon-Attachments/1.0")
	resp, err := s.httpClient().Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, "", fmt.Errorf("no complete answer within %s", s.fetchTimeout())
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, "", fmt.Errorf("the server answered %s", resp.Status)
	}
	if resp.ContentLength > limit {
		return nil, "", &TooLargeError{Reason: fmt.Sprintf("attachments total more than %d MB (decoded)", MaxAttachmentBytes>>20)}
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", err
	}
	if int64(len(data)) > limit {
		return nil, "", &TooLargeError{Reason: fmt.Sprintf("attachments total more than %d MB (decoded)", MaxAttachmentBytes>>20)}
	}
	ctype := ""
	if mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil && mt != "application/octet-stream" {
		ctype = mime.FormatMediaType(mt, params)
	}
	return data, ctype, nil
}

// forwardedAttachments reads the original's attachments back from S3, to attach them again.
func (s *Service) forwardedAttachments(ctx context.Context, orig *store.MessageRecord, b *budget) ([]mail.OutgoingAttachment, error) {
	var out []mail.OutgoingAttachment
	for _, a := range orig.Attachments {
		key := orig.AttachmentKeys[a.AttachmentID]
		if key == "" {
			continue // described but not stored (beyond the store's caps)
		}
		data, err := s.Store.Blobs().Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("outbound: attachment %s of %s: %w", a.AttachmentID, orig.MessageID, err)
		}
		if err := b.take("attachments", int64(len(data))); err != nil {
			return nil, err
		}
		out = append(out, mail.OutgoingAttachment{
			Filename: a.Filename, ContentType: a.ContentType, ContentDisposition: a.ContentDisposition,
			ContentID: a.ContentID, Content: data,
		})
	}
	return out, nil
}

// newFetchClient is the client URL attachments are downloaded with: webhook's guarded client
// (private addresses refused in deployed mode), following redirects, at most 10.
func newFetchClient(deployed bool) *http.Client {
	c := *webhook.NewDeliverer(deployed).Client
	c.CheckRedirect = nil
	return &c
}
