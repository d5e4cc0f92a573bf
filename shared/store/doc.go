// Package store is the only package that knows Pigeon's DynamoDB table: its keys, its
// attribute names and its indexes. Everything else speaks in wire types.
//
// One table, partition key pk, sort key sk, three generic GSIs (gsi1pk/gsi1sk, gsi2pk/gsi2sk,
// gsi3pk/gsi3sk, all projecting every attribute), TTL attribute ttl, stream NEW_IMAGE.
// Timestamps in sort keys are RFC 3339 UTC with fixed-width milliseconds so they sort as text.
//
//	item                 pk                        sk                 gsi1 (pk / sk)                    gsi2 (pk / sk)                 gsi3 (pk / sk)
//	API key              KEY#<api_key_id>          KEY                ORG#<org>#KEYS / <created>#<id>   SCOPE#<pod:id|inbox:id>#KEYS / <created>#<id>  POD#<pod>#KEYS / <created>#<id> (pod and inbox keys)
//	API key by hash      KEYHASH#<sha256 hex>      KEYHASH            (a copy of the key item, written in the same transaction)
//	pod                  POD#<pod_id>              POD                ORG#<org>#PODS / <created>#<id>
//	inbox                INBOX#<inbox_id>          INBOX              ORG#<org>#INBOXES / <created>#<id> POD#<pod>#INBOXES / <created>#<id>
//	client_id marker     CLIENT#<kind>#<org>#<client_id>  CLIENT     (target: the id of the resource created with that client_id)
//	message              INBOX#<inbox_id>          MSG#<message_id>   INBOX#<inbox>#MSGS / <timestamp>#<message_id>   THREAD#<thread>#MSGS / <timestamp>#<message_id>
//	Message-ID index     INBOX#<inbox_id>          MID#<canonical Message-ID>  (message_id, thread_id; fingerprint of received mail: deliver.go)
//	delivery marker      INBOX#<inbox_id>          SRC#<S3 object key>          (message_id, thread_id; idempotency of inbound on (object key, inbox))
//	idempotency key      INBOX#<inbox_id>          IDEM#<sha256 of Idempotency-Key>  (state pending|done, fingerprint of the request, claimed_at, message_id, thread_id; ttl 24 h; outbound.go)
//	SES-id lookup        SES#<SES message id>      SES                (inbox_id, message_id, thread_id, organization_id, pod_id of a sent message)
//	thread               THREAD#<thread_id>        THREAD             INBOX#<inbox>#THREADS / <timestamp>#<id>  POD#<pod>#THREADS / …  ORG#<org>#THREADS / …
//	event (outbox)       EVT#<event_id>            EVT                INBOX#<inbox>#EVTS / <created>#<id>  (ttl = retention; the stream feeds these to fanout)
//	WebSocket connection CONN#<connection_id>      CONN               ORG#<org>#CONNS / <connected_at>#<id>  (key id, key scope, subscription; ttl = connect + 2 h 10 min)
//	webhook              WEBHOOK#<webhook_id>      WEBHOOK            ORG#<org>#WEBHOOKS / <created>#<id>  SCOPE#<pod:id|inbox:id>#WEBHOOKS / <created>#<id>
//	subscription index   CONN#<id> or WEBHOOK#<id> SUB#<target>       SUB#<target> / CONN#<id> or WEBHOOK#<id>
//	                     (<target> = INBOX#<inbox>, POD#<pod> or ORG#<org>: one item per inbox and pod a
//	                     subscription names, or one for the whole organisation; see subscriber.go)
//	fanout progress      FANOUT#<event_id>         FANOUT             (string sets of connections and webhooks served; ttl 48 h)
//	list entry           LIST#<scope>#<direction>#<type>  ENTRY#<entry>  (scope org:<org>, pod:<pod> or inbox:<inbox>; a list pages by entry)
//	list counts          LISTS#<scope>#<direction>  COUNTS           (allow_entries: tells CheckList whether allow-list mode applies)
//	draft                INBOX#<inbox_id>          DRAFT#<draft_id>   INBOX#<inbox>#DRAFTS / <updated>#<id>  POD#<pod>#DRAFTS / …  ORG#<org>#DRAFTS / …
//	draft by id          DRAFTID#<draft_id>        DRAFTID            (inbox_id: finds a draft for the pod and organisation routes)
//	due draft            DUE#<shard>               <send_at>#<draft_id>  (inbox_id, draft_id; shard = hash of draft_id mod DueShards; the scheduler queries each shard up to now)
//	draft client_id      CLIENT#draft#<org>#<inbox>#<client_id>  CLIENT  (target: the draft; once it is sent, the message it became, until ttl)
//
// Items hold the wire struct's fields under their JSON names (attributevalue with TagKey
// "json"), plus the key attributes and a few private ones:
//
//   - every item of an organisation's data carries organization_id (and pod_id where it
//     applies), so stream consumers can match subscriptions without a lookup;
//   - message: raw_key (S3 key of the raw mail), attachment_keys (attachment_id → S3 key),
//     verdicts, and body_key when the bodies (text, html, extracted_*) total more than
//     InlineBodyLimit and live in S3 as one JSON object instead of in the item; a sent
//     message also ses_message_id and delivery (its delivery.State, whose status read paths
//     copy into the REST-only status field, and its recipients into the REST-only delivery
//     list; the stored item never holds status itself, and the status filter reads
//     delivery.status), and delivery_version, the optimistic-concurrency counter of
//     lifecycle changes (lifecycle.go);
//   - thread: version, incremented by every write and required unchanged by the next
//     (optimistic concurrency between deliveries to one thread); its GSI sort keys are
//     rewritten with each message, so threads list by last activity;
//   - inbox: deleting, set while DeleteInbox sweeps the inbox's items (the inbox is then
//     invisible and refuses deliveries);
//   - event: event_type, organization_id, pod_id, inbox_id, created_at, event (the wire.Event
//     as JSON text, posted unchanged by fanout) and ttl in epoch seconds;
//   - API key: restricted, telling an empty permission set from "all permissions";
//   - label events (label.added/label.removed, the §7.3 audit log) are event items whose event
//     attribute is the wire.InboxEvent; fanout skips them;
//   - subscription index items carry the subscription (and, for webhooks, a copy of the whole
//     webhook, rewritten in the webhook's own transaction), so fanout reads nothing else;
//   - list entry: source_message_id, the message whose bounce or complaint suppressed the address.
//   - draft: attachment_keys (as messages), version (as threads), send_at_ms (send_at as a
//     number, for the claim's condition), and while it is being sent send_key and claimed_at;
//     send_attempts counts transient failures of its scheduled send (see drafts.go).
//
// Empty lists and maps are not stored (they read back as absent; read paths restore the
// wire's required []). Delivery caps what a message item keeps (see limits.go) so items stay
// below 400 KB; the raw mail keeps everything.
//
// S3 objects, through package blob: raw/<SES id> and import/… (raw mail, written by SES or
// users, never deleted), sent/<inbox>/<hash of message id>.eml (sent mail as recipients got
// it), body/<inbox>/<hash of message id>.json (large bodies),
// att/<inbox>/<hash of message id or draft id>/<attachment_id> (attachments, with their
// Content-Type; a draft's stay when it is sent or deleted).
// Keys derive from natural ids so retried deliveries overwrite instead of duplicating.
//
// Page tokens are sealed with AES-256-GCM (pagetoken.go): the LastEvaluatedKey, unreadable,
// bound to the list (partition, filters, direction) and to the owner the caller set (the
// route and the key's scope), so a token cannot be read, forged, or replayed against another
// list, filter, order or scope (ErrBadPageToken).
package store
