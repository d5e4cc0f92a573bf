// Idempotency-Key under the SDK's own retry settings (maxRetries left at its default, 2): a
// repeat while the first request is still being sent answers 425, which the SDK does not retry
// (it retries 408, 429 and 5xx), so no request is sent again behind the caller's back; a key
// reused for another request answers 422; and the peer gets the message once.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMailClient } from 'agentmail';
import { client, env, eventually, failOnSdkWarnings, rejection, unique } from '../lib/pigeon.mjs';

failOnSdkWarnings();
const am = client();

/** Counts the HTTP requests the SDK makes, by Idempotency-Key. */
const calls = new Map();
const retrying = new AgentMailClient({
  apiKey: env.apiKey,
  environment: { http: env.url, websockets: env.wsUrl },
  timeoutInSeconds: 20,
  fetch: (input, init) => {
    const key = new Headers(init?.headers).get('Idempotency-Key');
    if (key) calls.set(key, (calls.get(key) ?? 0) + 1);
    return fetch(input, init);
  },
});

describe('Idempotency-Key with the SDK retrying', { timeout: 60000 }, () => {
  test('in flight: 425 with Retry-After, not retried; reused: 422; sent once', async () => {
    const a = await am.inboxes.create({ username: unique('idem-a') });
    const b = await am.inboxes.create({ username: unique('idem-b') });
    // A large attachment to a local inbox keeps the first send busy (local SES delivers it
    // before answering) while the copies reach their claim on the key.
    const content = Buffer.alloc(1 << 20, 'pigeon ').toString('base64');
    let inFlight;
    let subject;
    let sent;
    for (let round = 0; round < 5 && !inFlight; round++) {
      const key = unique('idem');
      subject = unique('Once');
      const req = { to: b.inboxId, subject, text: 'Only once.', attachments: [{ filename: 'big.txt', contentType: 'text/plain', content }] };
      const copies = 6;
      const outcomes = await Promise.allSettled(
        Array.from({ length: copies }, () => retrying.inboxes.messages.send(a.inboxId, req, { idempotencyKey: key })),
      );
      assert.equal(calls.get(key), copies, 'the SDK sent a request again by itself');
      const ids = new Set();
      for (const o of outcomes) {
        if (o.status === 'fulfilled') {
          ids.add(o.value.messageId);
          continue;
        }
        const err = o.reason;
        assert.equal(err.statusCode, 425, `a copy failed: ${err.statusCode} ${JSON.stringify(err.body)}`);
        assert.equal(err.body?.name, 'IdempotencyKeyInUseError');
        assert.equal(err.rawResponse?.headers.get('retry-after'), '1');
        inFlight = err;
      }
      assert.ok(ids.size <= 1, `one key answered several messages: ${[...ids]}`);
      // Once the first is done, the same request answers its result; another one 422.
      sent = await retrying.inboxes.messages.send(a.inboxId, req, { idempotencyKey: key });
      if (ids.size === 1) assert.equal(sent.messageId, [...ids][0]);
      const reused = await rejection(retrying.inboxes.messages.send(a.inboxId, { ...req, text: 'Twice.' }, { idempotencyKey: key }));
      assert.equal(reused.statusCode, 422);
      assert.equal(reused.body?.name, 'IdempotencyKeyReusedError');
      assert.equal(calls.get(key), copies + 2, 'the SDK sent a request again by itself');
    }
    assert.ok(inFlight, 'no copy found the first send still in flight in 5 rounds');

    const got = await eventually(async () => {
      const list = (await am.inboxes.messages.list(b.inboxId)).messages.filter((m) => m.subject === subject);
      return list.length > 0 && list;
    }, { what: 'the message in the peer inbox' });
    assert.equal(got.length, 1, 'the peer received the send more than once');
    assert.equal(got[0].messageId, sent.messageId);
  });
});
