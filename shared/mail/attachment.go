package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Attachments: ids, filenames and dispositions.

// disposition returns the Content-Disposition of e ("inline", "attachment", something else or
// "") and its filename; typeParams are the parameters of its Content-Type.
func disposition(e entity, typeParams map[string]string) (disp, filename string) {
	disp, dparams, _ := parseParamHeader(e.header.Get("Content-Disposition"))
	return disp, attachmentFilename(dparams, typeParams)
}

// attach adds e, with its decoded content, as an attachment of media type mt.
func (p *parser) attach(e entity, mt, disp, filename string, content []byte) {
	if filename == "" {
		switch mt {
		case "text/calendar":
			filename = "invite.ics"
		case "message/rfc822", "message/global":
			filename = forwardFilename(content)
		}
	}
	cid := contentID(e.header.Get("Content-Id"))
	if disp != "inline" && disp != "attachment" {
		disp = "attachment"
		if cid != "" {
			disp = "inline" // referenced from the HTML body (multipart/related, RFC 2387)
		}
	}
	p.m.Attachments = append(p.m.Attachments, Attachment{
		Attachment: wire.Attachment{
			AttachmentID:       attachmentID(partName(e.path), content),
			Filename:           filename,
			Size:               int64(len(content)),
			ContentType:        mt,
			ContentDisposition: disp,
			ContentID:          cid,
		},
		Content: content,
	})
}

// attachmentID is "att_" and a hash of the part's path and content: the same raw message
// always gives the same ids, and two parts of one message never share one.
func attachmentID(path string, content []byte) string {
	h := sha256.New()
	h.Write([]byte(path))
	h.Write([]byte{0})
	h.Write(content)
	return "att_" + hex.EncodeToString(h.Sum(nil)[:10])
}

// attachmentFilename returns the filename of a part: the Content-Disposition filename, else
// the Content-Type name (RFC 2231 values already decoded by parseParamHeader), with RFC 2047
// encoded-words decoded — not allowed there by the RFCs, but what most mailers send. Any
// directory part and control characters are removed, so the name is safe to save under.
func attachmentFilename(dispParams, typeParams map[string]string) string {
	name := dispParams["filename"]
	if strings.TrimSpace(name) == "" {
		name = typeParams["name"]
	}
	name = decodeHeaderText(name)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	return strings.TrimSpace(name)
}

// forwardFilename names an attached message after its subject, "message.eml" without one.
func forwardFilename(raw []byte) string {
	content, _ := stripMboxFrom(raw)
	h, _, _ := readHeader(content)
	subject := attachmentFilename(map[string]string{"filename": strings.TrimSpace(h.Get("Subject"))}, nil)
	if r := []rune(subject); len(r) > 100 {
		subject = string(r[:100])
	}
	if subject == "" {
		return "message.eml"
	}
	return subject + ".eml"
}

// contentID returns a Content-ID without its angle brackets and whitespace.
func contentID(v string) string {
	return strings.Trim(removeSpace(stripComments(v)), "<>")
}
