// The WebSocket API through the SDK's own socket: subscribe, typed events that match REST,
// outbound events, and an error frame for a subscription outside the key's scope.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { client, eventually, failOnSdkWarnings, unique } from '../lib/pigeon.mjs';
import { buildMail, messageId, sendSMTP } from '../lib/mail.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

/** Opens a socket for apiKey and records every frame the SDK hands to on('message'). */
async function open(apiKey) {
  const socket = await client(apiKey).websockets.connect({ reconnectAttempts: 1 });
  const frames = [];
  const errors = [];
  socket.on('message', (frame) => frames.push(frame));
  socket.on('error', (err) => errors.push(err));
  return { socket, frames, errors };
}

/** Waits for the first frame pred accepts. */
function frame(conn, pred, what) {
  return eventually(() => conn.frames.find(pred), { what, timeoutMs: 15000 });
}

describe('websockets', { timeout: 60000 }, () => {
  const sockets = [];
  after(() => sockets.forEach((s) => s.close()));

  let inbox;
  let conn;

  test('subscribe is acknowledged with the subscription as accepted', async () => {
    inbox = await am.inboxes.create({ username: unique('ws') });
    conn = await open();
    sockets.push(conn.socket);
    conn.socket.sendSubscribe({ type: 'subscribe', inboxIds: [inbox.inboxId], eventTypes: ['message.received', 'message.sent'] });
    const ack = await frame(conn, (f) => f.type === 'subscribed', 'the subscribed frame');
    check.shape(ack, { type: 'str', eventTypes: 'strs?', inboxIds: 'strs?', podIds: 'strs?' }, 'subscribed');
    assert.deepEqual(ack.inboxIds, [inbox.inboxId]);
  });

  test('message.received: typed, and the same message and thread as REST', async () => {
    assert.ok(conn, 'needs the subscribe test');
    const id = messageId();
    await sendSMTP({
      from: 'alice@example.com', to: [inbox.inboxId],
      data: buildMail({ from: 'Alice <alice@example.com>', to: inbox.inboxId, subject: 'Live', id, text: 'Over the socket.' }),
    });
    const event = await frame(conn, (f) => f.eventType === 'message.received' && f.message?.messageId === id, 'message.received');
    check.shape(event, { type: 'str', eventType: 'str', eventId: 'str', message: 'object', thread: 'object' }, 'message.received event');
    assert.equal(event.type, 'event');
    assert.ok(event.message.createdAt instanceof Date, 'event.message.createdAt is a Date');
    check.message(event.message, 'event message');
    check.threadItem(event.thread, 'event thread');
    assert.deepEqual(event.message, await am.inboxes.messages.get(inbox.inboxId, id));
    const listed = (await am.inboxes.threads.list(inbox.inboxId)).threads.find((t) => t.threadId === event.thread.threadId);
    assert.deepEqual(event.thread, listed);
    assert.deepEqual(conn.errors, []);
  });

  test('an outbound send emits message.sent', async () => {
    assert.ok(conn, 'needs the subscribe test');
    const sent = await am.inboxes.messages.send(inbox.inboxId, { to: 'someone@example.com', subject: 'Outbound', text: 'Hi.' });
    const event = await frame(conn, (f) => f.eventType === 'message.sent' && f.send?.messageId === sent.messageId, 'message.sent');
    check.shape(event, { type: 'str', eventType: 'str', eventId: 'str', send: 'object' }, 'message.sent event');
    check.shape(event.send, { inboxId: 'str', threadId: 'str', messageId: 'str', timestamp: 'date', recipients: 'strs' }, 'send');
    assert.equal(event.send.inboxId, inbox.inboxId);
    assert.equal(event.send.threadId, sent.threadId);
    assert.deepEqual(event.send.recipients, ['someone@example.com']);
  });

  test('a pod key subscribing to another pod\'s inbox gets an error frame', async () => {
    const podA = await am.pods.create({ name: unique('ws-a') });
    const podB = await am.pods.create({ name: unique('ws-b') });
    const foreign = await am.pods.inboxes.create(podB.podId, { username: unique('ws-foreign') });
    const key = await am.pods.apiKeys.create(podA.podId, { name: unique('ws-key') });
    const pk = await open(key.apiKey);
    sockets.push(pk.socket);
    pk.socket.sendSubscribe({ type: 'subscribe', inboxIds: [foreign.inboxId] });
    const err = await frame(pk, (f) => f.type === 'error', 'the error frame');
    check.shape(err, { type: 'str', name: 'str', message: 'str' }, 'error frame');
    assert.ok(!pk.frames.some((f) => f.type === 'subscribed'), 'the foreign subscription was acknowledged');
  });
});
