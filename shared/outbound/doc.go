// Package outbound composes, stores and sends a message from an inbox: send, reply,
// reply-all and forward. It has no HTTP in it; the REST API parses a
// request into a Request, resolves the inbox and the message answered (tenancy), and calls
// Service.Send.
//
// A send goes: derive and check (plan.go: recipients, subject, threading headers, bodies,
// labels) → gather attachments (attachment.go: base64 content, URLs downloaded, a forwarded
// message's own attachments read back from S3) → check the send lists → compose MIME with a
// Pigeon Message-ID → claim the Idempotency-Key → SES v2 SendEmail → record. SES replaces the
// Message-ID header with its own, so the message_id Pigeon returns, stores and indexes for
// threading is ses.ReplaceMessageID's, <SES id@MessageIDDomain>, the one recipients see and
// answer to; the raw kept at sent/<inbox>/<hash>.eml is the mail as they got it.
//
// Limits (each answered with a 4xx in the API's error shape):
//
//	MaxRequestBytes     6 MB     the whole JSON request (AgentMail's limit, and Lambda's payload limit); 413
//	ses.MaxRecipients   50       to + cc + bcc together (SES's limit per message); 400
//	MaxAttachments      100      attachments per message (given, or forwarded); 400
//	MaxAttachmentBytes  25 MB    decoded attachment bytes per message, content, URLs and forwarded
//	                             attachments together: base64 makes that ≈33 MB, under SES's 40 MB; 413
//	FetchTimeout        30 s     for all URL downloads of one request; a URL must answer 2xx
//	                             (redirects followed); a failed download is a 400 naming it
//
// URL attachments are downloaded with the HTTP client of webhook.NewDeliverer: in deployed
// mode it refuses to connect to private, loopback, link-local and metadata addresses, judged
// on every address actually dialled (DNS rebinding and redirects included), and ignores proxy
// variables. In local mode anything goes, so tests can serve attachments from loopback.
//
// What happens when SES fails:
//
//   - throttled (ses.ErrThrottled): nothing is stored; the API answers 429 with Retry-After;
//   - rejected (ses.ErrRejected, or a recipient on a send block list): nothing is stored; 403
//     MessageRejectedError with SES's reason;
//   - not reached (the connection to SES could not be opened): nothing is stored; 503;
//   - outcome unknown (ses.OutcomeUnknown: a timeout, a connection lost after the request went
//     out, a 5xx): SES may have taken the message, so it is never sent again. It is stored as
//     sending under its composed Message-ID, the Idempotency-Key is completed with it and the
//     send answers it; SES's first notification about it, found through the send's
//     store.SendTagName tag, links SES's id and settles it (no notification: it stays sending);
//   - failing otherwise (ses.ErrUnavailable, or any other error): the message is stored in its
//     thread with label "failed" and delivery status failed, so it is never silently lost and
//     GET shows it; the API answers 503 (and names the recorded message).
//
// In every failure but the unknown outcome the Idempotency-Key is given back, so the request
// can be retried with it; only a send that SES took, or may have taken, completes the key.
// Once SES took a message, recording it is tried three times before the send gives up. A key is claimed with a conditional put before
// SES is called, so concurrent duplicates cannot both send: the loser gets ErrSendInProgress
// (the API answers 425) while the first runs, and its result once it is done. The key is bound
// to Request.Fingerprint: used again for a different request, it is ErrIdempotencyKeyReused
// (422), whether the first is running or done.
package outbound
