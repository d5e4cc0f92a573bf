package outbound

import (
	"context"
	"errors"
	"strings"

	"github.com/pigeon-mail/pigeon/shared/mail"
)

// DraftAttachments checks and gathers attachments given to a draft, which keeps their bytes
// from then on: base64 decoded, URLs downloaded now (with Send's client, guard and timeout).
// The limits are those of a send, counted together with what the draft already holds
// (heldCount attachments of heldBytes bytes), so a draft that is accepted can be sent. field
// names the request field in errors ("attachments", "add_attachments"). Errors as Send's:
// *InvalidError naming field[i], *TooLargeError.
func (s *Service) DraftAttachments(ctx context.Context, field string, atts []Attachment, heldCount int, heldBytes int64) ([]mail.OutgoingAttachment, error) {
	if len(atts) == 0 {
		return nil, nil
	}
	if heldCount+len(atts) > MaxAttachments {
		return nil, invalid(field, "a draft holds at most %d attachments; it has %d", MaxAttachments, heldCount)
	}
	b := &budget{left: MaxAttachmentBytes - heldBytes}
	out, err := checkAttachments(atts, b)
	if err == nil {
		err = s.fetchAttachments(ctx, atts, out, b)
	}
	return out, renameField(err, field)
}

// renameField points an error about "attachments…" at field instead.
func renameField(err error, field string) error {
	var ie *InvalidError
	var tl *TooLargeError
	switch {
	case errors.As(err, &ie):
		ie.Field = field + strings.TrimPrefix(ie.Field, "attachments")
	case errors.As(err, &tl):
		tl.Field = field + strings.TrimPrefix(tl.Field, "attachments")
	}
	return err
}
