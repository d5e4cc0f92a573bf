// Package conformance drives Pigeon with AgentMail's official TypeScript SDK (npm `agentmail`,
// pinned in package.json and package-lock.json): `go test` starts the whole local stack
// in-process and runs the Node test suite under test/ against it, so the SDK's own request
// encoding, response parsing and error classes are what pass or fail.
//
// Layout: conformance_test.go starts the stack and runs node; test/<resource>.test.mjs holds
// one file per API resource; lib/ holds what those files share (the client, an SMTP sender,
// MIME builders and type checks). Every test runs against every route: none is skipped, so a
// route that goes missing fails its tests.
//
// Node packages come from `npm ci` in this folder (make test runs it). Without them the test
// skips, or fails when CI is set.
package conformance
