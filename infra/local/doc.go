// Package local runs the whole of Pigeon on one machine, as `make dev` and the end-to-end tests
// use it: the real function handlers wired together as AWS wires them, with durable embedded
// DynamoDB and S3 servers (or LocalStack / AWS through AWS_ENDPOINT_URL*), an SMTP listener standing in
// for SES receiving, an HTTP server standing in for API Gateway's REST API, and sesemu on its
// own loopback port standing in for SES v2 sending (PIGEON_SES_ADDR, default 127.0.0.1:8025).
//
// Each stand-in produces the events AWS would: receiving writes raw/<SES id> with the headers SES
// prepends and invokes inbound with the SNS-wrapped receipt notification; the gateway invokes the
// api function's Lambda entry with the REST proxy event (paths still percent-encoded, binary
// bodies base64), so event encoding is exercised on every local request. The api function sends
// through the real sesv2 client pointed at sesemu; mail for the stack's domains comes back in
// through receiving (raw/<id> with SES's headers, then inbound), so local inboxes converse and
// threads hold on both sides; mail for other domains is kept at GET <SES endpoint>/_local/outbox.
// After each send sesemu publishes the SES event notifications of the configuration set (the
// mailbox simulator's addresses behave as in SES; everyone else is delivered), which reach the
// sesevents handler as SNS would deliver them, retried while they fail.
//
// Data: the stack keeps its state in a data directory (Settings.DataDir, PIGEON_DATA_DIR; `make
// dev` uses build/data): dynamodb/ and s3/ (package embedded), sqs/ (the webhook queue), the
// organisation key in api-key (generated once, written atomically, mode 0600; PIGEON_API_KEY
// overrides it and is not written) and LOCK, an exclusive flock held until Close, so a second
// stack on the same directory fails at once naming the holder's PID. Settings without a
// DataDir, or with Ephemeral (PIGEON_EPHEMERAL=1), get a temporary directory removed at Close,
// without fsyncs: what the tests use. The embedded servers listen on Settings.DynamoDBAddr and
// S3Addr (PIGEON_DYNAMODB_ADDR, PIGEON_S3_ADDR); presigned S3 URLs carry the S3 address, so they
// outlive a restart only on a fixed port, which `make dev` has by default (DefaultS3Addr).
//
// Layout: stack.go starts and stops everything, settings.go reads the environment, datadir.go
// and lock_unix.go look after the data directory, aws.go finds DynamoDB and S3, receiving.go is
// the SMTP side of SES, receipt.go what SES writes and publishes for a message, gateway.go the
// REST API Gateway, lifecycle.go the way SES's event notifications take to sesevents.
package local
