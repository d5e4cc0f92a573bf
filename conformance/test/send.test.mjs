// Sending: send, reply, reply-all and forward between two inboxes of the stack (local SES
// delivers mail for local domains through the inbound path), threads on both sides, the
// Idempotency-Key header, and mail to other domains kept in the local outbox.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMail } from 'agentmail';
import { client, env, eventually, failOnSdkWarnings, rejection, unique, NO_SUCH_INBOX } from '../lib/pigeon.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

/** The messages of inbox, newest first. */
async function messages(inboxId) {
  return (await am.inboxes.messages.list(inboxId)).messages;
}

/** Waits for a message in inboxId that pred accepts and returns it in full. */
async function arrival(inboxId, pred, what) {
  const item = await eventually(async () => (await messages(inboxId)).find(pred), { what });
  const full = await am.inboxes.messages.get(inboxId, item.messageId);
  check.message(full, what);
  return full;
}

/** The local SES outbox (mail to non-local domains), as raw JSON text. */
async function outbox() {
  const res = await fetch(env.outboxUrl);
  assert.equal(res.status, 200, `GET ${env.outboxUrl}: ${res.status}`);
  return res.text();
}

describe('send, reply, reply-all, forward', { timeout: 60000 }, () => {
  let a;
  let b;
  const subject = unique('Proposal');
  const state = {};

  before(async () => {
    a = await am.inboxes.create({ username: unique('alice'), displayName: 'Alice Agent' });
    b = await am.inboxes.create({ username: unique('bob'), displayName: 'Bob Agent' });
  });

  test('send: sender keeps a sent copy, the peer receives it', async () => {
    const sent = await am.inboxes.messages.send(a.inboxId, {
      to: `Bob Agent <${b.inboxId}>`, cc: ['cc-watcher@example.com'], subject, text: 'Shall we?', html: '<p>Shall we?</p>', labels: ['Outreach'],
    });
    check.sendResponse(sent);
    state.sent = sent;

    const mine = await am.inboxes.messages.get(a.inboxId, sent.messageId);
    check.message(mine, 'sent copy');
    assert.equal(mine.threadId, sent.threadId);
    assert.ok(mine.labels.includes('sent'), `labels ${mine.labels}`);
    assert.ok(mine.labels.includes('outreach'), `labels ${mine.labels}`);
    assert.ok(!mine.labels.includes('received'), `labels ${mine.labels}`);
    assert.ok(mine.from.includes(a.inboxId), `from ${mine.from}`);
    assert.deepEqual(mine.to, [`Bob Agent <${b.inboxId}>`]);
    assert.deepEqual(mine.cc, ['cc-watcher@example.com']);
    assert.equal(mine.subject, subject);
    assert.equal(mine.text?.trim(), 'Shall we?');

    const theirs = await arrival(b.inboxId, (m) => m.subject === subject, 'the message in the peer inbox');
    assert.ok(theirs.labels.includes('received'), `labels ${theirs.labels}`);
    assert.ok(!theirs.labels.includes('sent'), `labels ${theirs.labels}`);
    assert.equal(theirs.messageId, sent.messageId, 'the peer sees the Message-ID the sender was given');
    assert.ok(theirs.from.includes(a.inboxId), `from ${theirs.from}`);
    assert.equal(theirs.text?.trim(), 'Shall we?');
    state.received = theirs;
  });

  test('an Idempotency-Key makes a repeated send return the first result', async () => {
    const key = unique('idem');
    const req = { to: b.inboxId, subject: unique('Once'), text: 'Only once.' };
    const first = await am.inboxes.messages.send(a.inboxId, req, { idempotencyKey: key });
    const second = await am.inboxes.messages.send(a.inboxId, req, { idempotencyKey: key });
    assert.deepEqual(second, first);
    await arrival(b.inboxId, (m) => m.subject === req.subject, 'the idempotent send');
    const copies = (await messages(b.inboxId)).filter((m) => m.subject === req.subject);
    assert.equal(copies.length, 1, 'the peer received the send twice');
  });

  test('reply: lands in the sender\'s thread on both sides', async () => {
    assert.ok(state.received, 'needs the send test');
    // Received messages carry their Date header's time (whole seconds) while sent copies carry
    // the send time; a reply within the same second could sort before its original.
    await new Promise((r) => setTimeout(r, 1100));
    const reply = await am.inboxes.messages.reply(b.inboxId, state.received.messageId, { text: 'Yes, let us.' });
    check.sendResponse(reply);
    assert.equal(reply.threadId, state.received.threadId, 'the reply is in the peer\'s thread');
    const back = await arrival(a.inboxId, (m) => m.messageId === reply.messageId, 'the reply in the sender inbox');
    assert.equal(back.threadId, state.sent.threadId, 'the reply joined the sender\'s thread');
    assert.equal(back.inReplyTo, state.sent.messageId);
    assert.ok(back.subject?.startsWith('Re: '), `subject ${back.subject}`);
    assert.ok(back.to.some((x) => x.includes(a.inboxId)), `to ${back.to}`);
    state.reply = back;

    const ta = await am.inboxes.threads.get(a.inboxId, state.sent.threadId);
    check.thread(ta, 'sender thread');
    assert.deepEqual(ta.messages.map((m) => m.messageId), [state.sent.messageId, reply.messageId]);
    assert.ok(ta.sentTimestamp instanceof Date && ta.receivedTimestamp instanceof Date);
    const tb = await am.inboxes.threads.get(b.inboxId, state.received.threadId);
    check.thread(tb, 'peer thread');
    assert.deepEqual(tb.messages.map((m) => m.messageId), [state.sent.messageId, reply.messageId]);
    assert.ok(tb.messages[1].labels.includes('sent'));
  });

  test('reply-all: answers the sender and every other recipient', async () => {
    assert.ok(state.reply, 'needs the reply test');
    // The peer answers everyone on the original: the sender (To) and the external Cc.
    const all = await am.inboxes.messages.replyAll(b.inboxId, state.received.messageId, { text: 'Looping everyone in.' });
    check.sendResponse(all);
    assert.equal(all.threadId, state.received.threadId);
    const mine = await am.inboxes.messages.get(b.inboxId, all.messageId);
    check.message(mine, 'reply-all');
    const recipients = [...mine.to, ...(mine.cc ?? [])].join(' ');
    assert.ok(recipients.includes(a.inboxId), `recipients ${recipients}`);
    assert.ok(recipients.includes('cc-watcher@example.com'), `recipients ${recipients}`);
    assert.ok(!recipients.includes(b.inboxId), `reply-all must not send to the replying inbox: ${recipients}`);
    const theirs = await arrival(a.inboxId, (m) => m.messageId === all.messageId, 'the reply-all in the sender inbox');
    assert.equal(theirs.threadId, state.sent.threadId);
    await eventually(async () => (await outbox()).includes('cc-watcher@example.com'), { what: 'the reply-all to the external address in the outbox' });
    const ta = await am.inboxes.threads.get(a.inboxId, state.sent.threadId);
    assert.equal(ta.messageCount, 3);
    const tb = await am.inboxes.threads.get(b.inboxId, state.received.threadId);
    assert.equal(tb.messageCount, 3);
  });

  test('forward: to an external address, kept in the local outbox', async () => {
    assert.ok(state.sent, 'needs the send test');
    const to = `${unique('fwd')}@example.org`;
    const fwd = await am.inboxes.messages.forward(a.inboxId, state.sent.messageId, { to, text: 'FYI' });
    check.sendResponse(fwd);
    const mine = await am.inboxes.messages.get(a.inboxId, fwd.messageId);
    check.message(mine, 'forward');
    assert.ok(mine.labels.includes('sent'));
    assert.deepEqual(mine.to, [to]);
    assert.ok(mine.subject?.includes(subject), `subject ${mine.subject}`);
    await eventually(async () => (await outbox()).includes(to), { what: 'the forward in the outbox' });
  });

  test('send errors: unknown inbox is NotFoundError, no recipient is ValidationError', async () => {
    check.sdkError(await rejection(am.inboxes.messages.send(decodeURIComponent(NO_SUCH_INBOX), { to: b.inboxId, text: 'x' })), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.inboxes.messages.send(a.inboxId, { subject: 'nobody', text: 'x' })), AgentMail.ValidationError, 400, 'ValidationError');
    check.sdkError(await rejection(am.inboxes.messages.reply(a.inboxId, '<missing@x>', { text: 'x' })), AgentMail.NotFoundError, 404, 'NotFoundError');
  });
});
