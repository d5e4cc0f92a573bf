// Package inbound turns raw mail stored in S3 into messages in Pigeon inboxes.
//
// Two triggers lead here, both at least once: SES receiving's receipt notification (its S3
// action writes raw/<SES message id> and publishes the notification to SNS), and S3
// ObjectCreated events for .eml files dropped under import/. The handler reads the object,
// parses it, and delivers it to every Pigeon inbox among the recipients; store.DeliverInbound
// makes each delivery idempotent on (object key, inbox), so a repeated trigger changes
// nothing and emits no second event.
//
// Decisions:
//
//   - Recipients. For SES mail they are the envelope (receipt.recipients): the only place
//     BCC recipients appear, and the right set for forwarded mail whose headers name someone
//     else. For imports there is no envelope, so they are the To, Cc, Bcc and Delivered-To
//     headers, at most MaxHeaderRecipients distinct addresses, those on the deployment's own
//     domains first. Every recipient is lower-cased and looked up as an inbox id; addresses
//     that are no inbox are logged and counted, not retried.
//   - Verdicts (SES's spam, virus, SPF, DKIM, DMARC) are kept on the message. Spam FAIL or
//     virus FAIL: labelled spam, event message.received.spam. DMARC FAIL, or SPF and DKIM both
//     FAIL: labelled unauthenticated, event message.received.unauthenticated (when not spam).
//     Such mail is stored, not dropped, so nothing is lost; the REST API hides these labels
//     unless asked. GRAY, PROCESSING_FAILED and DISABLED count as no verdict.
//   - Receive lists (allow/block at inbox, pod and organisation, see package lists) are
//     checked per inbox against the From address. A blocked sender's mail is stored labelled
//     blocked (hidden unless include_blocked) and emits only message.received.blocked.
//   - Raw mail larger than config.MaxInboundBytes is not parsed whole: the message is built
//     from its header block alone (no bodies, no attachments), its size is the object's, and
//     the raw form stays downloadable.
//   - An object that cannot be read is an error, so the platform retries (and finally
//     dead-letters) the event. Raw mail is never deleted. SES's AMAZON_SES_SETUP_NOTIFICATION
//     object is skipped.
package inbound
