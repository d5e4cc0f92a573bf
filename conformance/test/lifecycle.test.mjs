// The delivery lifecycle through the SDK: sent messages carrying Pigeon's additive REST fields
// (status, delivery) still parse cleanly; the SES mailbox simulator addresses move them to
// delivered, bounced and complained; a bounce blocks the address for the next send; the
// lifecycle events reach a webhook in payloads that the SDK's strict parsers accept (only
// documented keys); and a dry-run inbox goes through it all without reaching SES.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { AgentMail, AgentMailError, serialization } from 'agentmail';
import { client, env, eventually, failOnSdkWarnings, rejection, unique } from '../lib/pigeon.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

const SIM = 'simulator.amazonses.com';
const STATUSES = ['queued', 'sending', 'sent', 'delayed', 'delivered', 'bounced', 'complained', 'rejected', 'failed'];

/**
 * Pigeon's additions on a sent message, as the SDK hands them back: unknown keys pass through
 * untouched (snake_case inside, no Date conversion), so `delivery[].updated_at` stays a string.
 */
function lifecycleFields(m, what) {
  assert.ok(STATUSES.includes(m.status), `${what}.status ${m.status}`);
  assert.ok(Array.isArray(m.delivery) && m.delivery.length > 0, `${what}.delivery ${JSON.stringify(m.delivery)}`);
  for (const [i, r] of m.delivery.entries()) {
    assert.equal(typeof r.address, 'string', `${what}.delivery[${i}].address`);
    assert.ok(STATUSES.includes(r.status), `${what}.delivery[${i}].status ${r.status}`);
    assert.ok(r.detail === undefined || typeof r.detail === 'string', `${what}.delivery[${i}].detail`);
    assert.ok(!Number.isNaN(Date.parse(r.updated_at)), `${what}.delivery[${i}].updated_at ${r.updated_at}`);
  }
}

/** Waits until the sent message has status, and returns it (checked) as the SDK parsed it. */
async function settled(inboxId, messageId, status) {
  const m = await eventually(async () => {
    const got = await am.inboxes.messages.get(inboxId, messageId);
    return got.status === status && got;
  }, { what: `message ${messageId} ${status}`, timeoutMs: 15000 });
  check.message(m, `${status} message`);
  lifecycleFields(m, `${status} message`);
  return m;
}

/** A webhook receiver on 127.0.0.1 that records every request body and answers 200. */
async function receiver() {
  const bodies = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, bodies, close: () => new Promise((r) => server.close(r)) };
}

/** The local SES outbox (mail that reached SES for non-local recipients), as raw JSON text. */
async function outbox() {
  const res = await fetch(env.outboxUrl);
  assert.equal(res.status, 200, `GET ${env.outboxUrl}: ${res.status}`);
  return res.text();
}

describe('delivery lifecycle', { timeout: 90000 }, () => {
  const closers = [];
  after(() => Promise.all(closers.map((c) => c())));

  test('success@ ends delivered; message and list item carry status and delivery', async () => {
    const inbox = await am.inboxes.create({ username: unique('lifecycle') });
    check.inbox(inbox);
    const sent = await am.inboxes.messages.send(inbox.inboxId, { to: `success@${SIM}`, subject: 'Fine', text: 'Hello.' });
    const m = await settled(inbox.inboxId, sent.messageId, 'delivered');
    assert.deepEqual(m.labels, ['sent', 'delivered']);
    assert.deepEqual(m.delivery.map((r) => [r.address, r.status]), [[`success@${SIM}`, 'delivered']]);

    const list = await am.inboxes.messages.list(inbox.inboxId);
    check.envelope(list, 'messages', 'message list');
    const item = list.messages.find((x) => x.messageId === sent.messageId);
    check.messageItem(item, 'delivered item');
    lifecycleFields(item, 'delivered item');

    // The status filter is Pigeon's: the SDK passes it as an extra query parameter.
    const delivered = await am.inboxes.messages.list(inbox.inboxId, {}, { queryParams: { status: 'delivered' } });
    assert.deepEqual(delivered.messages.map((x) => x.messageId), [sent.messageId]);
    const bounced = await am.inboxes.messages.list(inbox.inboxId, {}, { queryParams: { status: 'bounced' } });
    assert.deepEqual(bounced.messages, []);
    check.sdkError(await rejection(am.inboxes.messages.list(inbox.inboxId, {}, { queryParams: { status: 'lost' } })), AgentMailError, 400, 'ValidationError');
  });

  test('bounce@ ends bounced and blocks the address until the entry is deleted', async () => {
    const inbox = await am.inboxes.create({ username: unique('bouncer') });
    const to = `bounce+${unique('b')}@${SIM}`;
    const sent = await am.inboxes.messages.send(inbox.inboxId, { to, subject: 'Gone', text: 'Anyone there?' });
    const m = await settled(inbox.inboxId, sent.messageId, 'bounced');
    assert.ok(m.labels.includes('bounced'), `labels ${m.labels}`);
    assert.match(m.delivery[0].detail, /^Permanent\/General/);

    const entry = await eventually(async () => (await am.lists.list('send', 'block', { limit: 100 })).entries.find((e) => e.entry === to), { what: 'the block entry' });
    assert.equal(entry.reason, `permanent bounce (Permanent/General) of message ${sent.messageId}`);

    const err = await rejection(am.inboxes.messages.send(inbox.inboxId, { to, subject: 'Again', text: 'Still?' }));
    check.sdkError(err, AgentMail.MessageRejectedError, 403, 'MessageRejectedError');
    assert.equal(err.body.message, `${to} is on the block list: ${entry.reason}`);

    await am.lists.delete('send', 'block', to);
    const again = await am.inboxes.messages.send(inbox.inboxId, { to, subject: 'Again', text: 'Still?' });
    await settled(inbox.inboxId, again.messageId, 'bounced');
  });

  test('lifecycle events reach a webhook in payloads the SDK parses strictly', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const inbox = await am.inboxes.create({ username: unique('hooked') });
    const types = ['message.sent', 'message.delivered', 'message.bounced', 'message.complained'];
    const hook = await am.webhooks.create({ url: rx.url, eventTypes: types, inboxIds: [inbox.inboxId] });
    closers.push(() => am.webhooks.delete(hook.webhookId));

    const sent = await am.inboxes.messages.send(inbox.inboxId, {
      to: [`success@${SIM}`, `bounce+${unique('h')}@${SIM}`, `complaint+${unique('h')}@${SIM}`], subject: 'Mixed', text: 'Hi all.',
    });
    await settled(inbox.inboxId, sent.messageId, 'complained');
    const parsers = {
      'message.sent': serialization.MessageSentEvent,
      'message.delivered': serialization.MessageDeliveredEvent,
      'message.bounced': serialization.MessageBouncedEvent,
      'message.complained': serialization.MessageComplainedEvent,
    };
    const seen = await eventually(() => {
      const got = new Set(rx.bodies.map((b) => JSON.parse(b).event_type));
      return types.every((t) => got.has(t)) && got;
    }, { what: 'every lifecycle event at the webhook', timeoutMs: 20000 });
    assert.deepEqual([...seen].sort(), [...types].sort());
    for (const body of rx.bodies) {
      const payload = JSON.parse(body);
      // AgentMail's documented recipe: strict parse, default options (no unknown keys allowed).
      const event = parsers[payload.event_type].parseOrThrow(payload);
      const inner = event.send ?? event.delivery ?? event.bounce ?? event.complaint;
      assert.equal(inner.messageId, sent.messageId);
      assert.equal(inner.threadId, sent.threadId);
      assert.ok(inner.timestamp instanceof Date, `${payload.event_type} timestamp`);
      if (event.bounce) {
        assert.equal(event.bounce.type, 'Permanent');
        assert.equal(event.bounce.subType, 'General');
        assert.deepEqual(event.bounce.recipients.map((r) => r.status), ['5.1.1']);
      }
      if (event.complaint) assert.equal(event.complaint.type, 'abuse');
    }
  });

  test('a dry-run inbox settles without reaching SES', async () => {
    const inbox = await am.inboxes.create({ username: unique('rehearsal') });
    // delivery is Pigeon's field: the SDK strips unknown request keys, so it is set over HTTP.
    const res = await fetch(`${env.url}/v0/inboxes/${encodeURIComponent(inbox.inboxId)}`, {
      method: 'PATCH', headers: { Authorization: `Bearer ${env.apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ delivery: 'dry-run' }),
    });
    assert.equal(res.status, 200, await res.text());
    const got = await am.inboxes.get(inbox.inboxId);
    check.inbox(got);
    assert.equal(got.delivery, 'dry-run');

    const to = `someone.${unique('dry')}@example.com`;
    const sent = await am.inboxes.messages.send(inbox.inboxId, { to, subject: 'Rehearsal', text: 'Not really.' });
    const m = await am.inboxes.messages.get(inbox.inboxId, sent.messageId);
    check.message(m, 'dry-run message');
    lifecycleFields(m, 'dry-run message');
    assert.equal(m.status, 'delivered', 'a dry run is settled when the send answers');
    assert.ok(!(await outbox()).includes(to), 'the dry run reached SES');
  });
});

