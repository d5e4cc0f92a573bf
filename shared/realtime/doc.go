// Package realtime delivers Pigeon's events as they happen, as the
// three Lambda handlers that do it:
//
//   - Fanout.HandleStream (function fanout): event items from the table's stream → a frame to
//     every WebSocket connection whose subscription matches, through the API Gateway
//     management API, and one queued delivery (a webhook.Task on SQS) per matching webhook;
//   - Webhooks.HandleQueue (function webhooks): queued deliveries → signed POSTs, retried on
//     Svix's schedule through the message's visibility timeout, dead-lettered at the end;
//   - Sessions.HandleWebSocket (function ws): $connect authenticates the API key and records
//     the connection, $default runs the subscribe protocol (package wsproto), $disconnect
//     forgets the connection.
//
// Who wants an event is events.Matches over the subscriptions the store indexes by inbox, pod
// and organisation; the functions' main packages only build clients.
package realtime
