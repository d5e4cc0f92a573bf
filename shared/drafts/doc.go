// Package drafts holds the rules of AgentMail v0 drafts and sends them: a reply or
// forward draft's derived fields, the checks every stored draft passes, and the send of a
// draft through package outbound — at once (POST …/drafts/{draft_id}/send) or when its
// send_at comes (Sender.SendDue, run every minute by the scheduler function, every few
// seconds by the local stack).
//
// A draft's kind is fixed when it is created: a reply (in_reply_to) takes its recipients
// (unless given; reply_all: everyone on the original), its "Re:" subject and its threading
// from the message it answers, and is sent as a reply to it; a forward (forward_of) takes a
// "Fwd:" subject (unless given) and its threading, and is sent as a forward, which adds the
// original's body and attachments at that moment; any other draft is sent as a new message.
// A reply's subject is always the derived one (the reply route takes none).
//
// Limits, checked when a draft is created or changed so that an accepted draft can be sent
// (each a 400 naming the field, or 413 for attachment bytes):
//
//	recipients          to + cc + bcc at most ses.MaxRecipients (50), each an address SES can send to;
//	                    reply_to at most 50 addresses
//	subject             MaxSubjectBytes (2 KB)
//	text + html         MaxBodyBytes (6 MB) together
//	labels              outbound.UserLabels: at most 50, 256 bytes each, lower-cased, no system
//	                    labels; no control characters
//	attachments         outbound.MaxAttachments (100) and outbound.MaxAttachmentBytes (25 MB
//	                    decoded) per draft, as for a send; URL attachments are downloaded when
//	                    given, and the draft keeps the bytes (in S3, att/…)
//	client_id           MaxClientIDLength (256) characters
//	send_at             any ISO-8601 time; one in the past (or now) makes the draft due at once,
//	                    so it goes out at the scheduler's next run. A scheduled draft must have
//	                    a body and a recipient (a forward: a recipient), so that it is not
//	                    scheduled to fail.
//
// Sending: a draft is claimed (store.ClaimDraft: send_status sending, one winner among
// concurrent senders), sent with outbound.Service.Send under the request's Idempotency-Key
// (bound to the request's fingerprint, so the key used before for another send, draft or
// body is refused: store.ErrIdempotencyKeyReused) or, without one, under "draft:<draft_id>",
// then deleted. A sender that dies mid-send leaves the draft sending; after the claim timeout
// it is taken over with the same key and fingerprint, so a message already sent is not sent
// again. A repeated send request with the same Idempotency-Key answers the first result
// (store.ErrSendInProgress while the first still runs); without one, the draft is gone: 404.
//
// A scheduled send that fails is retried at the next run when the failure may pass (SES
// throttled or unreachable, a store error), at most MaxSendAttempts times in all; one that
// cannot succeed as the draft stands (invalid, too large, recipient blocked, SES rejected,
// the original message deleted) marks the draft failed at once, with the reason in
// send_error. A failed draft stays until it is changed and rescheduled (PATCH send_at), sent
// by request, or deleted.
package drafts
