package store

import (
	"sort"
	"unicode/utf8"

	"github.com/pigeon-mail/pigeon/shared/wire"
)

// Bounds on what a message item stores, so that the message item (and the event item, which
// holds the message and its thread) stays below DynamoDB's 400 KB whatever arrives. The raw
// mail in S3 keeps everything these drop.
const (
	maxHeaderBytes     = 16 << 10 // headers map, names + values; headers are kept in name order until full
	maxHeaderValue     = 2 << 10  // one header value
	maxAddressBytes    = 8 << 10  // each of to, cc, bcc, reply_to
	maxReferenceBytes  = 8 << 10  // references; the most recent ancestors are kept
	maxSubjectBytes    = 2 << 10
	maxPreviewBytes    = 1 << 10
	maxAttachments     = 100 // attachments described (and uploaded) per message
	maxFilenameBytes   = 255
	maxKeyPartBytes    = 900 // ids used inside sort keys (DynamoDB allows 1024 bytes)
	maxMessageIDLength = maxKeyPartBytes - 64
)

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// capStrings keeps the leading entries of list whose total length fits budget.
func capStrings(list []string, budget int) []string {
	total := 0
	for i, s := range list {
		if total += len(s); total > budget {
			return list[:i]
		}
	}
	return list
}

// capTail keeps the trailing entries of list whose total length fits budget.
func capTail(list []string, budget int) []string {
	total := 0
	for i := len(list) - 1; i >= 0; i-- {
		if total += len(list[i]); total > budget {
			return list[i+1:]
		}
	}
	return list
}

func capHeaders(h map[string]string) map[string]string {
	if len(h) == 0 {
		return nil
	}
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(map[string]string, len(h))
	total := 0
	for _, k := range names {
		v := truncate(h[k], maxHeaderValue)
		if total+len(k)+len(v) > maxHeaderBytes {
			continue
		}
		total += len(k) + len(v)
		out[k] = v
	}
	return out
}

// capMessage applies the bounds above to m's metadata (bodies are handled separately).
func capMessage(m *wire.Message) {
	m.Subject = truncate(m.Subject, maxSubjectBytes)
	m.Preview = truncate(m.Preview, maxPreviewBytes)
	m.To = capStrings(m.To, maxAddressBytes)
	m.Cc = capStrings(m.Cc, maxAddressBytes)
	m.Bcc = capStrings(m.Bcc, maxAddressBytes)
	m.ReplyTo = capStrings(m.ReplyTo, maxAddressBytes)
	m.From = truncate(m.From, maxAddressBytes)
	m.InReplyTo = truncate(m.InReplyTo, maxMessageIDLength)
	m.References = capTail(m.References, maxReferenceBytes)
	m.Headers = capHeaders(m.Headers)
	if len(m.Attachments) > maxAttachments {
		m.Attachments = m.Attachments[:maxAttachments]
	}
	for i := range m.Attachments {
		m.Attachments[i].Filename = truncate(m.Attachments[i].Filename, maxFilenameBytes)
	}
}
