// Messages of an inbox, received over SMTP: list, get, raw and attachment downloads byte for
// byte, label updates, batch reads, delete, and the errors of these routes.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AgentMail, AgentMailError } from 'agentmail';
import { allPages, client, download, failOnSdkWarnings, rejection, unique, NO_SUCH_INBOX, NO_SUCH_ID } from '../lib/pigeon.mjs';
import { buildMail, messageId, sendSMTP, stripSESHeaders } from '../lib/mail.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

describe('messages', { timeout: 60000 }, () => {
  let inbox;
  const pdf = randomBytes(20000);
  const csv = Buffer.from('a,b\r\n1,2\r\n');
  const report = { id: messageId(), subject: 'Quarterly report' };
  const note = { id: messageId(), subject: 'Lunch?' };
  let reportRaw;

  before(async () => {
    inbox = await am.inboxes.create({ username: unique('msgs'), displayName: 'Messages' });
    reportRaw = buildMail({
      from: 'Alice Example <alice@example.com>', to: `Agent <${inbox.inboxId}>`, cc: 'carol@example.com',
      subject: report.subject, id: report.id, date: new Date(Date.now() - 60000),
      text: 'Numbers attached.\n.A line that starts with a dot.\n',
      attachments: [
        { filename: 'report.pdf', contentType: 'application/pdf', content: pdf },
        { filename: 'data.csv', contentType: 'text/csv', content: csv },
      ],
    });
    await sendSMTP({ from: 'alice@example.com', to: [inbox.inboxId], data: reportRaw });
    await sendSMTP({
      from: 'bob@example.com', to: [inbox.inboxId],
      data: buildMail({ from: 'Bob <bob@example.com>', to: inbox.inboxId, subject: note.subject, id: note.id, text: 'Noon at the usual place.' }),
    });
  });

  test('list: both messages, newest first, list items without bodies', async () => {
    const list = await am.inboxes.messages.list(inbox.inboxId);
    check.envelope(list, 'messages', 'message list');
    list.messages.forEach((m, i) => check.messageItem(m, `messages[${i}]`));
    assert.deepEqual(list.messages.map((m) => m.messageId), [note.id, report.id]);
    for (const m of list.messages) {
      assert.equal(m.inboxId, inbox.inboxId);
      assert.ok(m.labels.includes('received'), `labels ${m.labels}`);
      assert.ok(m.labels.includes('unread'), `labels ${m.labels}`);
    }
    const asc = await am.inboxes.messages.list(inbox.inboxId, { ascending: true });
    assert.deepEqual(asc.messages.map((m) => m.messageId), [report.id, note.id]);
  });

  test('list pages with limit 1', async () => {
    const pages = await allPages((q) => am.inboxes.messages.list(inbox.inboxId, q), { limit: 1 });
    pages.forEach((p, i) => {
      check.envelope(p, 'messages', `page ${i}`);
      assert.ok(p.count <= 1);
    });
    assert.deepEqual(pages.flatMap((p) => p.messages.map((m) => m.messageId)), [note.id, report.id]);
  });

  test('list filter: labels (sent as one JSON-array parameter)', async () => {
    const unread = await am.inboxes.messages.list(inbox.inboxId, { labels: ['unread'] });
    check.envelope(unread, 'messages', 'unread');
    assert.equal(unread.count, 2);
    const both = await am.inboxes.messages.list(inbox.inboxId, { labels: ['unread', 'received'] });
    assert.equal(both.count, 2);
    const none = await am.inboxes.messages.list(inbox.inboxId, { labels: ['no-such-label'] });
    check.envelope(none, 'messages', 'no-such-label');
    assert.deepEqual(none.messages, []);
  });

  test('list filters: from, to, subject (substrings, all must match)', async () => {
    const fromBob = await am.inboxes.messages.list(inbox.inboxId, { from: ['bob@example.com'] });
    assert.deepEqual(fromBob.messages.map((m) => m.messageId), [note.id]);
    const bySubject = await am.inboxes.messages.list(inbox.inboxId, { subject: ['Quarterly'] });
    assert.deepEqual(bySubject.messages.map((m) => m.messageId), [report.id]);
    const byCc = await am.inboxes.messages.list(inbox.inboxId, { to: ['carol@example.com'] });
    assert.deepEqual(byCc.messages.map((m) => m.messageId), [report.id], 'to matches cc too');
    const both = await am.inboxes.messages.list(inbox.inboxId, { from: ['alice'], subject: ['Lunch'] });
    assert.deepEqual(both.messages, []);
  });

  test('get: the full message with addresses, bodies and attachments', async () => {
    const m = await am.inboxes.messages.get(inbox.inboxId, report.id);
    check.message(m);
    assert.equal(m.messageId, report.id);
    assert.equal(m.inboxId, inbox.inboxId);
    assert.equal(m.from, 'Alice Example <alice@example.com>');
    assert.deepEqual(m.to, [`Agent <${inbox.inboxId}>`]);
    assert.deepEqual(m.cc, ['carol@example.com']);
    assert.equal(m.subject, report.subject);
    assert.equal(typeof m.text, 'string');
    assert.ok(m.text.includes('.A line that starts with a dot.'), JSON.stringify(m.text));
    assert.ok(m.size > reportRaw.length, `size ${m.size}, sent ${reportRaw.length} bytes`);
    assert.equal(m.attachments.length, 2);
    const [a, b] = m.attachments;
    assert.equal(a.filename, 'report.pdf');
    assert.equal(a.contentType, 'application/pdf');
    assert.equal(a.size, pdf.length);
    assert.equal(b.filename, 'data.csv');
    assert.equal(b.size, csv.length);
  });

  test('raw: the download is what was sent after the SES header block', async () => {
    const raw = await am.inboxes.messages.getRaw(inbox.inboxId, report.id);
    check.rawResponse(raw);
    assert.equal(raw.messageId, report.id);
    assert.ok(raw.expiresAt > new Date());
    const { body } = await download(raw.downloadUrl);
    assert.equal(raw.size, body.length, 'size should be the size of the download');
    const rest = stripSESHeaders(body);
    assert.ok(rest, `the download does not start with the SES header block:\n${body.subarray(0, 400)}`);
    assert.ok(rest.equals(reportRaw), `after the SES headers, ${rest.length} bytes differ from the ${reportRaw.length} sent`);
  });

  test('attachments download byte for byte, through the message and the thread', async () => {
    const m = await am.inboxes.messages.get(inbox.inboxId, report.id);
    for (const [att, want] of [[m.attachments[0], pdf], [m.attachments[1], csv]]) {
      const resp = await am.inboxes.messages.getAttachment(inbox.inboxId, report.id, att.attachmentId);
      check.attachmentResponse(resp);
      assert.equal(resp.attachmentId, att.attachmentId);
      assert.equal(resp.size, want.length);
      assert.ok(resp.expiresAt > new Date());
      const { body, contentType } = await download(resp.downloadUrl);
      assert.ok(body.equals(want), `attachment ${att.filename}: ${body.length} bytes differ from the ${want.length} sent`);
      assert.ok(contentType.startsWith(att.contentType), `download Content-Type ${contentType}, attachment ${att.contentType}`);

      const viaThread = await am.inboxes.threads.getAttachment(inbox.inboxId, m.threadId, att.attachmentId);
      check.attachmentResponse(viaThread);
      assert.ok((await download(viaThread.downloadUrl)).body.equals(want));
      const viaOrg = await am.threads.getAttachment(m.threadId, att.attachmentId);
      check.attachmentResponse(viaOrg);
    }
  });

  test('errors: unknown inbox, message and attachment are NotFoundError; bad limit is 400', async () => {
    const inboxMissing = decodeURIComponent(NO_SUCH_INBOX);
    check.sdkError(await rejection(am.inboxes.messages.list(inboxMissing)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.inboxes.messages.get(inbox.inboxId, '<missing@x>')), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.inboxes.messages.getRaw(inbox.inboxId, '<missing@x>')), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.inboxes.messages.getAttachment(inbox.inboxId, report.id, NO_SUCH_ID)), AgentMail.NotFoundError, 404, 'NotFoundError');
    for (const limit of [0, -5]) {
      // The list route maps only 404, so its 400 is a plain AgentMailError.
      check.sdkError(await rejection(am.inboxes.messages.list(inbox.inboxId, { limit })), AgentMailError, 400, 'ValidationError');
    }
    check.sdkError(await rejection(am.inboxes.messages.list(inbox.inboxId, { pageToken: 'nonsense' })), AgentMailError, 400, 'ValidationError');
  });

  test('update labels (PATCH)', async () => {
    const updated = await am.inboxes.messages.update(inbox.inboxId, note.id, { addLabels: ['Needs-Review', 'followup'], removeLabels: 'unread' });
    check.shape(updated, { messageId: 'str', labels: 'strs' }, 'update response');
    assert.equal(updated.messageId, note.id);
    assert.ok(updated.labels.includes('needs-review'), `labels ${updated.labels} (user labels are stored lower-case)`);
    assert.ok(updated.labels.includes('followup'));
    assert.ok(!updated.labels.includes('unread'));
    const m = await am.inboxes.messages.get(inbox.inboxId, note.id);
    assert.deepEqual([...m.labels].sort(), [...updated.labels].sort());
    const filtered = await am.inboxes.messages.list(inbox.inboxId, { labels: ['followup'] });
    assert.deepEqual(filtered.messages.map((x) => x.messageId), [note.id]);
    const err = await rejection(am.inboxes.messages.update(inbox.inboxId, note.id, { addLabels: ['sent'] }));
    check.sdkError(err, AgentMail.ValidationError, 400, 'ValidationError');
    check.sdkError(await rejection(am.inboxes.messages.update(inbox.inboxId, '<missing@x>', { addLabels: ['x'] })), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('batch-get: full messages in request order, missing ids left out, no bodies', async () => {
    const resp = await am.inboxes.messages.batchGet(inbox.inboxId, { messageIds: [report.id, '<missing@x>', note.id] });
    check.shape(resp, { limit: 'int', count: 'int', messages: 'array' }, 'batch-get');
    assert.equal(resp.limit, 3);
    assert.equal(resp.count, 2);
    resp.messages.forEach((m, i) => check.message(m, `batch-get messages[${i}]`));
    assert.deepEqual(resp.messages.map((m) => m.messageId), [report.id, note.id]);
    for (const m of resp.messages) {
      for (const key of ['text', 'html', 'extractedText', 'extractedHtml']) assert.equal(m[key], undefined, `batch-get ${key}`);
    }
    const dup = await rejection(am.inboxes.messages.batchGet(inbox.inboxId, { messageIds: [note.id, note.id] }));
    check.sdkError(dup, AgentMail.ValidationError, 400, 'ValidationError');
  });

  test('batch-update: labels on several messages at once', async () => {
    const resp = await am.inboxes.messages.batchUpdate(inbox.inboxId, { messageIds: [report.id, note.id], addLabels: ['batch'] });
    check.shape(resp, { limit: 'int', count: 'int', updates: 'array' }, 'batch-update');
    assert.equal(resp.count, 2);
    assert.deepEqual(resp.updates.map((u) => u.messageId), [report.id, note.id]);
    resp.updates.forEach((u) => assert.ok(u.labels.includes('batch')));
  });

  test('delete a message permanently', async () => {
    const victim = await am.inboxes.create({ username: unique('victim') });
    const id = messageId();
    await sendSMTP({ from: 'eve@example.com', to: [victim.inboxId], data: buildMail({ from: 'eve@example.com', to: victim.inboxId, subject: 'bye', id, text: 'x' }) });
    assert.equal(await am.inboxes.messages.delete(victim.inboxId, id), undefined);
    check.sdkError(await rejection(am.inboxes.messages.get(victim.inboxId, id)), AgentMail.NotFoundError, 404, 'NotFoundError');
    const list = await am.inboxes.messages.list(victim.inboxId, { includeTrash: true });
    assert.deepEqual(list.messages, []);
  });
});
