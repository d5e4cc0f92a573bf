// Threads at inbox, pod and organisation scope, built from mail received over SMTP; label
// updates and deletion (trash, then permanent).

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMail, AgentMailError } from 'agentmail';
import { allPages, client, failOnSdkWarnings, rejection, unique, NO_SUCH_INBOX, NO_SUCH_ID } from '../lib/pigeon.mjs';
import { buildMail, messageId, sendSMTP } from '../lib/mail.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

/** Mails a three-message conversation into inbox and returns its Message-IDs, oldest first. */
async function conversation(inbox, subject) {
  const ids = [messageId(), messageId(), messageId()];
  const t0 = Date.now() - 3 * 60000;
  await sendSMTP({
    from: 'alice@example.com', to: [inbox],
    data: buildMail({ from: 'Alice <alice@example.com>', to: inbox, subject, id: ids[0], date: new Date(t0), text: 'First.' }),
  });
  await sendSMTP({
    from: 'bob@example.com', to: [inbox],
    data: buildMail({
      from: 'Bob <bob@example.com>', to: [inbox, 'alice@example.com'], subject: `Re: ${subject}`, id: ids[1], date: new Date(t0 + 60000),
      inReplyTo: ids[0], references: [ids[0]], text: 'Second.\n\n> First.',
    }),
  });
  await sendSMTP({
    from: 'alice@example.com', to: [inbox],
    data: buildMail({
      from: 'Alice <alice@example.com>', to: inbox, subject: `Re: ${subject}`, id: ids[2], date: new Date(t0 + 120000),
      inReplyTo: ids[1], references: [ids[0], ids[1]], text: 'Third.',
    }),
  });
  return ids;
}

describe('threads', { timeout: 60000 }, () => {
  let pod;
  let inbox;
  let ids;
  let threadId;
  const subject = unique('Planning');

  before(async () => {
    pod = await am.pods.create({ name: unique('threads') });
    inbox = await am.pods.inboxes.create(pod.podId, { username: unique('threads') });
    ids = await conversation(inbox.inboxId, subject);
    await sendSMTP({
      from: 'carol@example.com', to: [inbox.inboxId],
      data: buildMail({ from: 'carol@example.com', to: inbox.inboxId, subject: 'Unrelated', text: 'Hi.' }),
    });
    threadId = (await am.inboxes.messages.get(inbox.inboxId, ids[0])).threadId;
  });

  test('replies join the first message\'s thread', async () => {
    for (const id of ids) {
      const m = await am.inboxes.messages.get(inbox.inboxId, id);
      assert.equal(m.threadId, threadId, `${id} is in thread ${m.threadId}`);
    }
  });

  test('inbox thread list: items typed, newest first, the conversation counted', async () => {
    const list = await am.inboxes.threads.list(inbox.inboxId);
    check.envelope(list, 'threads', 'thread list');
    list.threads.forEach((th, i) => check.threadItem(th, `threads[${i}]`));
    assert.equal(list.count, 2);
    const th = list.threads.find((x) => x.threadId === threadId);
    assert.ok(th, 'the conversation is not listed');
    assert.equal(th.inboxId, inbox.inboxId);
    assert.equal(th.messageCount, 3);
    assert.equal(th.lastMessageId, ids[2]);
    assert.ok(th.senders.some((s) => s.includes('alice@example.com')), `senders ${th.senders}`);
    assert.ok(th.senders.some((s) => s.includes('bob@example.com')), `senders ${th.senders}`);
    assert.ok(th.recipients.some((s) => s.includes(inbox.inboxId)), `recipients ${th.recipients}`);
    assert.ok(th.size > 0);
    assert.ok(th.receivedTimestamp instanceof Date);
    for (let i = 1; i < list.threads.length; i++) assert.ok(list.threads[i - 1].timestamp >= list.threads[i].timestamp);
    const pages = await allPages((q) => am.inboxes.threads.list(inbox.inboxId, q), { limit: 1 });
    assert.deepEqual(pages.flatMap((p) => p.threads.map((x) => x.threadId)), list.threads.map((x) => x.threadId));
  });

  test('get thread: full messages ascending, paged newest first with limit', async () => {
    const th = await am.inboxes.threads.get(inbox.inboxId, threadId);
    check.thread(th);
    assert.equal(th.messageCount, 3);
    assert.deepEqual(th.messages.map((m) => m.messageId), ids);
    assert.equal(th.messages[1].inReplyTo, ids[0]);
    assert.deepEqual(th.messages[2].references, [ids[0], ids[1]]);
    assert.equal(typeof th.messages[0].text, 'string');

    const first = await am.inboxes.threads.get(inbox.inboxId, threadId, { limit: 2 });
    check.thread(first, 'thread page 1');
    assert.deepEqual(first.messages.map((m) => m.messageId), [ids[1], ids[2]], 'the first page holds the newest messages');
    assert.equal(typeof first.nextPageToken, 'string');
    const second = await am.inboxes.threads.get(inbox.inboxId, threadId, { limit: 2, pageToken: first.nextPageToken });
    check.thread(second, 'thread page 2');
    assert.deepEqual(second.messages.map((m) => m.messageId), [ids[0]]);
    assert.equal(second.nextPageToken, undefined);
  });

  test('pod and organisation scopes see the same thread', async () => {
    const inInbox = await am.inboxes.threads.get(inbox.inboxId, threadId);
    const inPod = await am.pods.threads.get(pod.podId, threadId);
    const inOrg = await am.threads.get(threadId);
    check.thread(inPod, 'pod thread');
    check.thread(inOrg, 'org thread');
    assert.deepEqual(inPod, inInbox);
    assert.deepEqual(inOrg, inInbox);
    const podList = await am.pods.threads.list(pod.podId);
    check.envelope(podList, 'threads', 'pod thread list');
    assert.equal(podList.count, 2);
    const orgPages = await allPages((q) => am.threads.list(q), { limit: 50 });
    orgPages.forEach((p, i) => check.envelope(p, 'threads', `org threads page ${i}`));
    assert.ok(orgPages.some((p) => p.threads.some((x) => x.threadId === threadId)));
  });

  test('thread list filter: labels', async () => {
    const unread = await am.inboxes.threads.list(inbox.inboxId, { labels: ['unread'] });
    check.envelope(unread, 'threads', 'unread threads');
    assert.equal(unread.count, 2);
    const none = await am.inboxes.threads.list(inbox.inboxId, { labels: ['no-such-label'] });
    assert.deepEqual(none.threads, []);
  });

  test('thread list filters: senders, recipients, subject', async () => {
    const bySender = await am.inboxes.threads.list(inbox.inboxId, { senders: ['bob@example.com'] });
    assert.deepEqual(bySender.threads.map((x) => x.threadId), [threadId]);
    const bySubject = await am.inboxes.threads.list(inbox.inboxId, { subject: [subject] });
    assert.deepEqual(bySubject.threads.map((x) => x.threadId), [threadId]);
    const byRecipient = await am.inboxes.threads.list(inbox.inboxId, { recipients: ['alice@example.com'] });
    assert.deepEqual(byRecipient.threads.map((x) => x.threadId), [threadId]);
  });

  test('errors', async () => {
    check.sdkError(await rejection(am.inboxes.threads.get(inbox.inboxId, NO_SUCH_ID)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.threads.get(NO_SUCH_ID)), AgentMail.NotFoundError, 404, 'NotFoundError');
    const other = await am.pods.create({ name: unique('other') });
    check.sdkError(await rejection(am.pods.threads.get(other.podId, threadId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.inboxes.threads.list(decodeURIComponent(NO_SUCH_INBOX))), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.inboxes.threads.list(inbox.inboxId, { limit: 0 })), AgentMailError, 400, 'ValidationError');
  });

  test('update thread labels (PATCH)', async () => {
    const resp = await am.inboxes.threads.update(inbox.inboxId, threadId, { addLabels: ['Project'], removeLabels: ['unread'] });
    check.shape(resp, { threadId: 'str', labels: 'strs' }, 'thread update');
    assert.equal(resp.threadId, threadId);
    assert.ok(resp.labels.includes('project'), `labels ${resp.labels}`);
    assert.ok(!resp.labels.includes('unread'));
    const th = await am.inboxes.threads.get(inbox.inboxId, threadId);
    for (const m of th.messages) {
      assert.ok(m.labels.includes('project'), `message labels ${m.labels}`);
      assert.ok(!m.labels.includes('unread'));
    }
    check.sdkError(await rejection(am.inboxes.threads.update(inbox.inboxId, threadId, { addLabels: ['sent'] })), AgentMail.ValidationError, 400, 'ValidationError');
  });

  test('delete a thread: first to trash, then permanently', async () => {
    const victim = await am.inboxes.create({ username: unique('trash') });
    const vids = await conversation(victim.inboxId, 'Doomed');
    const vthread = (await am.inboxes.messages.get(victim.inboxId, vids[0])).threadId;

    assert.equal(await am.inboxes.threads.delete(victim.inboxId, vthread), undefined);
    const hidden = await am.inboxes.threads.list(victim.inboxId);
    assert.ok(!hidden.threads.some((x) => x.threadId === vthread), 'a trashed thread is hidden from the default list');
    const trash = await am.inboxes.threads.list(victim.inboxId, { includeTrash: true });
    const trashed = trash.threads.find((x) => x.threadId === vthread);
    assert.ok(trashed, 'the trashed thread is listed with include_trash');
    assert.ok(trashed.labels.includes('trash'), `labels ${trashed.labels}`);

    assert.equal(await am.inboxes.threads.delete(victim.inboxId, vthread), undefined);
    check.sdkError(await rejection(am.inboxes.threads.get(victim.inboxId, vthread)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.inboxes.messages.get(victim.inboxId, vids[0])), AgentMail.NotFoundError, 404, 'NotFoundError');
    const after = await am.inboxes.threads.list(victim.inboxId, { includeTrash: true });
    assert.deepEqual(after.threads, []);
  });
});
