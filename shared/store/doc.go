// Package store is the only package that knows Pigeon's DynamoDB table: its keys, its
// attribute names and its indexes. Everything else speaks in wire types.
//
// One table, partition key pk, sort key sk, three generic GSIs (gsi1pk/gsi1sk, gsi2pk/gsi2sk,
// gsi3pk/gsi3sk, all projecting every attribute), TTL attribute ttl, stream NEW_IMAGE.
// Timestamps in sort keys are RFC 3339 UTC with fixed-width milliseconds so they sort as text.
//
//	item                 pk                        sk                 gsi1 (pk / sk)                    gsi2 (pk / sk)                 gsi3 (pk / sk)
//	API key              KEY#<api_key_id>          KEY                ORG#<org>#KEYS / <created>#<id>   SCOPE#<pod:id|inbox:id>#KEYS / <created>#<id>
//	API key by hash      KEYHASH#<sha256 hex>      KEYHASH            (a copy of the key item, written in the same transaction)
//	pod                  POD#<pod_id>              POD                ORG#<org>#PODS / <created>#<id>
//	inbox                INBOX#<inbox_id>          INBOX              ORG#<org>#INBOXES / <created>#<id> POD#<pod>#INBOXES / <created>#<id>
//	client_id marker     CLIENT#<kind>#<org>#<client_id>  CLIENT     (target: the id of the resource created with that client_id)
//	message              INBOX#<inbox_id>          MSG#<message_id>   INBOX#<inbox>#MSGS / <timestamp>#<message_id>   THREAD#<thread>#MSGS / <timestamp>#<message_id>
//	Message-ID index     INBOX#<inbox_id>          MID#<canonical Message-ID>  (message_id, thread_id)
//	delivery marker      INBOX#<inbox_id>          SRC#<S3 object key>          (message_id, thread_id; idempotency of inbound on (object key, inbox))
//	thread               THREAD#<thread_id>        THREAD             INBOX#<inbox>#THREADS / <timestamp>#<id>  POD#<pod>#THREADS / …  ORG#<org>#THREADS / …
//	event (outbox)       EVT#<event_id>            EVT                INBOX#<inbox>#EVTS / <created>#<id>  (ttl = retention; the stream feeds these to fanout)
//
// Items hold the wire struct's fields under their JSON names (attributevalue with TagKey
// "json"), plus the key attributes and a few private ones:
//
//   - every item of an organisation's data carries organization_id (and pod_id where it
//     applies), so stream consumers can match subscriptions without a lookup;
//   - message: raw_key (S3 key of the raw mail), attachment_keys (attachment_id → S3 key),
//     verdicts, and body_key when the bodies (text, html, extracted_*) total more than
//     InlineBodyLimit and live in S3 as one JSON object instead of in the item;
//   - thread: version, incremented by every write and required unchanged by the next
//     (optimistic concurrency between deliveries to one thread); its GSI sort keys are
//     rewritten with each message, so threads list by last activity;
//   - inbox: deleting, set while DeleteInbox sweeps the inbox's items (the inbox is then
//     invisible and refuses deliveries);
//   - event: event_type, organization_id, pod_id, inbox_id, created_at, event (the wire.Event
//     as JSON text, posted unchanged by fanout) and ttl in epoch seconds;
//   - API key: restricted, telling an empty permission set from "all permissions".
//
// Empty lists and maps are not stored (they read back as absent; read paths restore the
// wire's required []). Delivery caps what a message item keeps (see limits.go) so items stay
// below 400 KB; the raw mail keeps everything.
//
// S3 objects, through package blob: raw/<SES id> and import/… (raw mail, written by SES or
// users, never deleted), body/<inbox>/<hash of message id>.json (large bodies),
// att/<inbox>/<hash of message id>/<attachment_id> (attachments, with their Content-Type).
// Keys derive from natural ids so retried deliveries overwrite instead of duplicating.
//
// Page tokens are opaque: the LastEvaluatedKey and a fingerprint of the query (list, filters,
// direction), signed with HMAC-SHA256, so a token cannot be forged or replayed against
// another inbox, filter or order (ErrBadPageToken).
package store
