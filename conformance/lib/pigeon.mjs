// What every test file shares: the stack's coordinates (from the Go harness), an SDK client
// pointed at them, the SDK-warning trap, and small helpers for errors, downloads, polling and
// pagination.

import { afterEach, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AgentMailClient } from 'agentmail';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite through go test ./conformance`);
  return v;
}

/** Where the local stack listens, as conformance_test.go passes it. */
export const env = {
  url: required('PIGEON_URL'), // REST base (environment.http); the SDK adds /v0/…
  wsUrl: required('PIGEON_WS_URL'), // WebSocket base (environment.websockets); the SDK adds /v0
  apiKey: required('PIGEON_API_KEY'), // the organisation key
  smtpAddr: required('PIGEON_SMTP_ADDR'), // host:port of the SMTP listener
  domain: required('PIGEON_DOMAIN'),
  outboxUrl: required('PIGEON_OUTBOX_URL'), // local SES: mail kept for non-local recipients (JSON)
};

/**
 * An SDK client for apiKey (the organisation key by default), exactly as an AgentMail user
 * builds one, with retries off so a 5xx shows up at once instead of after two retries.
 */
export function client(apiKey = env.apiKey) {
  return new AgentMailClient({
    apiKey,
    environment: { http: env.url, websockets: env.wsUrl },
    maxRetries: 0,
    timeoutInSeconds: 20,
  });
}

/** A fresh name, so test files can share one stack (and reruns one database) without clashes. */
export function unique(prefix) {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** An inbox address on the stack's domain with a fresh local part. */
export function address(prefix) {
  return `${unique(prefix)}@${env.domain}`;
}

// The SDK never throws on a response of the wrong shape: it console.warns "Failed to validate"
// and hands back the raw value (agentmail-v0.md §10). Every warning fails the test that caused
// it.
const warnings = [];
const warn = console.warn;
console.warn = (...args) => {
  warnings.push(args.map(String).join(' '));
  warn(...args);
};

/** Installs the warning trap around every test of the calling file. */
export function failOnSdkWarnings() {
  beforeEach(() => {
    warnings.length = 0;
  });
  afterEach(() => {
    const seen = warnings.splice(0);
    assert.deepEqual(seen, [], `the SDK warned while parsing a response:\n${seen.join('\n')}`);
  });
}

/** Ids no resource has, for the NotFoundError checks. */
export const NO_SUCH_INBOX = encodeURIComponent(`no-such-inbox@${'pigeon.invalid'}`);
export const NO_SUCH_ID = 'no-such-id';

/** Awaits promise and returns what it threw, failing when it did not throw. */
export async function rejection(promise) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail('expected the SDK call to throw');
}

/** Fetches a presigned URL with no credentials, as an SDK user would, and returns the bytes. */
export async function download(url) {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `GET ${url}: ${res.status} ${body.toString().slice(0, 300)}`);
  return { body, contentType: res.headers.get('content-type') };
}

/** Polls fn until it returns a truthy value or timeoutMs passes. */
export async function eventually(fn, { timeoutMs = 10000, intervalMs = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.stack ?? last}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Follows next_page_token to the end; returns every page. */
export async function allPages(listPage, { limit, maxPages = 200 } = {}) {
  const pages = [];
  let pageToken;
  do {
    const page = await listPage({ limit, pageToken });
    pages.push(page);
    pageToken = page.nextPageToken;
    assert.ok(pages.length <= maxPages, 'pagination did not end');
  } while (pageToken !== undefined);
  return pages;
}
