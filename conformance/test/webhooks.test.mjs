// Webhooks: CRUD at every scope, and delivery to a real receiver that verifies each request
// with Svix's own library and sees a failed delivery retried under one svix-id.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { AgentMail, serialization } from 'agentmail';
import { Webhook } from 'svix';
import { client, eventually, failOnSdkWarnings, rejection, unique, NO_SUCH_ID } from '../lib/pigeon.mjs';
import { buildMail, messageId, sendSMTP } from '../lib/mail.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

function webhook(v, what = 'webhook') {
  check.shape(v, {
    webhookId: 'str', url: 'str', eventTypes: 'strs?', podIds: 'strs?', inboxIds: 'strs?', secret: 'str', enabled: 'bool',
    updatedAt: 'date', createdAt: 'date', clientId: 'str?',
  }, what);
  assert.ok(v.secret.startsWith('whsec_'), `secret ${v.secret.slice(0, 8)}…`);
}

/**
 * A webhook receiver on 127.0.0.1 that records every request and answers with the next status
 * of statuses (200 once they run out).
 */
async function receiver(statuses = []) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
      res.writeHead(statuses.shift() ?? 200).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, requests, close: () => new Promise((r) => server.close(r)) };
}

describe('webhooks', { timeout: 60000 }, () => {
  const receivers = [];
  after(() => Promise.all(receivers.map((r) => r.close())));

  test('create, get, list, update, delete; client_id replays', async () => {
    const clientId = unique('hook');
    const req = { url: 'https://hooks.example.com/agentmail', eventTypes: ['message.received'], clientId };
    const hook = await am.webhooks.create(req);
    webhook(hook);
    assert.equal(hook.url, req.url);
    assert.deepEqual(hook.eventTypes, ['message.received']);
    assert.equal(hook.enabled, true);
    assert.deepEqual(await am.webhooks.create(req), hook);

    assert.deepEqual(await am.webhooks.get(hook.webhookId), hook);
    const list = await am.webhooks.list({ limit: 100 });
    check.envelope(list, 'webhooks', 'webhook list');
    list.webhooks.forEach((w, i) => webhook(w, `webhooks[${i}]`));
    assert.ok(list.webhooks.some((w) => w.webhookId === hook.webhookId));

    const updated = await am.webhooks.update(hook.webhookId, { eventTypes: ['message.received', 'message.sent'] });
    webhook(updated, 'updated webhook');
    assert.deepEqual([...updated.eventTypes].sort(), ['message.received', 'message.sent']);
    assert.equal(updated.secret, hook.secret);

    assert.equal(await am.webhooks.delete(hook.webhookId), undefined);
    check.sdkError(await rejection(am.webhooks.get(hook.webhookId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.webhooks.get(NO_SUCH_ID)), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('custom headers: names readable, values write-only', async () => {
    const hook = await am.webhooks.create({ url: 'https://hooks.example.com/h', eventTypes: ['message.sent'], headers: { 'X-Token': 'secret-value' } });
    webhook(hook);
    const names = await am.webhooks.getHeaders(hook.webhookId);
    check.shape(names, { headerNames: 'strs' }, 'header names');
    assert.deepEqual(names.headerNames.map((h) => h.toLowerCase()), ['x-token']);
    assert.equal(await am.webhooks.updateHeaders(hook.webhookId, { headers: { 'X-Other': 'v' }, removeHeaders: ['X-Token'] }), undefined);
    assert.deepEqual((await am.webhooks.getHeaders(hook.webhookId)).headerNames.map((h) => h.toLowerCase()), ['x-other']);
    await am.webhooks.delete(hook.webhookId);
  });

  test('inbox-scoped webhook', async () => {
    const inbox = await am.inboxes.create({ username: unique('hooked') });
    const hook = await am.inboxes.webhooks.create(inbox.inboxId, { url: 'https://hooks.example.com/i', eventTypes: ['message.received'] });
    webhook(hook);
    assert.deepEqual(hook.inboxIds, [inbox.inboxId]);
    const list = await am.inboxes.webhooks.list(inbox.inboxId);
    assert.deepEqual(list.webhooks.map((w) => w.webhookId), [hook.webhookId]);
    await am.inboxes.webhooks.delete(inbox.inboxId, hook.webhookId);
  });

  test('bad input is a ValidationError', async () => {
    check.sdkError(await rejection(am.webhooks.create({ url: 'not a url', eventTypes: ['message.received'] })), AgentMail.ValidationError, 400, 'ValidationError');
    check.sdkError(await rejection(am.webhooks.create({ url: 'https://hooks.example.com/x', eventTypes: [] })), AgentMail.ValidationError, 400, 'ValidationError');
  });

  test('delivery: signed with Svix, retried after 500 twice, one svix-id, strict payload', async () => {
    const rx = await receiver([500, 500]);
    receivers.push(rx);
    const inbox = await am.inboxes.create({ username: unique('delivered') });
    const hook = await am.webhooks.create({ url: rx.url, eventTypes: ['message.received'], inboxIds: [inbox.inboxId] });
    webhook(hook);

    const id = messageId();
    await sendSMTP({
      from: 'alice@example.com', to: [inbox.inboxId],
      data: buildMail({ from: 'Alice <alice@example.com>', to: inbox.inboxId, subject: 'Hooked', id, text: 'Ping.' }),
    });
    // PIGEON_LOCAL_RETRY_SCALE (set by the Go harness) shrinks Svix's 5 s and 5 min waits.
    await eventually(() => rx.requests.length >= 3, { timeoutMs: 15000, what: 'three delivery attempts' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(rx.requests.length, 3, 'no attempt after the 200');

    const verifier = new Webhook(hook.secret);
    for (const [i, r] of rx.requests.entries()) {
      assert.doesNotThrow(() => verifier.verify(r.body, r.headers), `attempt ${i + 1} fails Svix verification`);
      assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    }
    const ids = new Set(rx.requests.map((r) => r.headers['svix-id']));
    assert.equal(ids.size, 1, `svix-id changed between attempts: ${[...ids]}`);
    const bodies = new Set(rx.requests.map((r) => r.body));
    assert.equal(bodies.size, 1, 'the payload changed between attempts');

    const payload = JSON.parse(rx.requests[0].body);
    // AgentMail's documented recipe: strict parse, default options (no unknown keys allowed).
    const event = serialization.MessageReceivedEvent.parseOrThrow(payload);
    assert.equal(event.type, 'event');
    assert.equal(event.eventType, 'message.received');
    assert.match(event.eventId, /^evt_/);
    assert.equal(event.message.messageId, id);
    assert.ok(event.message.createdAt instanceof Date);
    check.message(event.message, 'webhook message');
    check.threadItem(event.thread, 'webhook thread');
    const rest = await am.inboxes.messages.get(inbox.inboxId, id);
    assert.deepEqual(event.message, rest);
    await am.webhooks.delete(hook.webhookId);
  });
});
