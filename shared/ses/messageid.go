package ses

import (
	"bytes"
	"strings"
)

// MessageIDDomain is the domain SES puts on the Message-ID header it writes: email.amazonses.com
// in us-east-1 and <region>.amazonses.com elsewhere. AWS does not document
// it; the forms come from real mail (In-Reply-To headers answering SES mail) and from other
// projects that depend on them, so treat a mismatch seen in the wild as a bug to fix here.
func MessageIDDomain(region string) string {
	region = strings.ToLower(strings.TrimSpace(region))
	if region == "" || region == "us-east-1" {
		return "email.amazonses.com"
	}
	return region + ".amazonses.com"
}

// MessageIDHeader is the Message-ID that recipients see on mail SES sent with message id
// sesMessageID from region, with its angle brackets: SES replaces whatever Message-ID the raw
// message carried with this one. It is the id Pigeon must report and index for threading,
// because replies name it in In-Reply-To and References.
func MessageIDHeader(sesMessageID, region string) string {
	return "<" + sesMessageID + "@" + MessageIDDomain(region) + ">"
}

// ReplaceMessageID returns raw with every Message-ID field removed and one "Message-ID: id"
// written where the first one was (at the top when there was none), as SES does on send: with
// MessageIDHeader(sesID, region) it turns the composed mail into the mail recipients get.
// Everything else, body included, is left byte for byte.
func ReplaceMessageID(raw []byte, id string) []byte {
	eol := "\r\n"
	if i := bytes.IndexByte(raw, '\n'); i >= 0 && (i == 0 || raw[i-1] != '\r') {
		eol = "\n"
	}
	newField := "Message-ID: " + id + eol
	var out bytes.Buffer
	out.Grow(len(raw) + len(newField))
	written, skipping := false, false
	pos := 0
	for pos < len(raw) {
		line := raw[pos:]
		if i := bytes.IndexByte(line, '\n'); i >= 0 {
			line = line[:i+1]
		}
		pos += len(line)
		if bytes.Equal(line, []byte("\n")) || bytes.Equal(line, []byte("\r\n")) {
			// The blank line that ends the header; the body follows untouched.
			out.Write(raw[pos-len(line):])
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !skipping {
				out.Write(line)
			}
			continue
		}
		name, _, _ := bytes.Cut(line, []byte(":"))
		skipping = strings.EqualFold(string(bytes.TrimSpace(name)), "Message-ID")
		if !skipping {
			out.Write(line)
		} else if !written {
			out.WriteString(newField)
			written = true
		}
	}
	if !written {
		return append([]byte(newField), out.Bytes()...)
	}
	return out.Bytes()
}
