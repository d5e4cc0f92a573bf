// Drafts: create, read at every scope, update, send (which deletes the draft), delete.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMail } from 'agentmail';
import { client, eventually, failOnSdkWarnings, rejection, unique } from '../lib/pigeon.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

function draft(v, what = 'draft') {
  check.shape(v, {
    inboxId: 'str', draftId: 'str', clientId: 'str?', labels: 'strs', replyTo: 'strs?', to: 'strs?', cc: 'strs?', bcc: 'strs?',
    subject: 'str?', preview: 'str?', text: 'str?', html: 'str?', attachments: 'array?', inReplyTo: 'str?', forwardOf: 'str?',
    references: 'strs?', sendStatus: 'str?', sendAt: 'date?', updatedAt: 'date', createdAt: 'date',
  }, what);
}

function draftItem(v, what = 'draft item') {
  check.shape(v, {
    inboxId: 'str', draftId: 'str', labels: 'strs', to: 'strs?', cc: 'strs?', bcc: 'strs?', subject: 'str?', preview: 'str?',
    attachments: 'array?', inReplyTo: 'str?', forwardOf: 'str?', sendStatus: 'str?', sendAt: 'date?', updatedAt: 'date',
  }, what);
}

describe('drafts', { timeout: 30000 }, () => {
  test('create, read, update, send', async () => {
    const pod = await am.pods.create({ name: unique('drafts') });
    const a = await am.pods.inboxes.create(pod.podId, { username: unique('drafter') });
    const b = await am.inboxes.create({ username: unique('reader') });
    const clientId = unique('draft');
    const d = await am.inboxes.drafts.create(a.inboxId, { to: [b.inboxId], subject: 'Draft one', text: 'Work in progress.', clientId });
    draft(d);
    assert.equal(d.inboxId, a.inboxId);
    assert.deepEqual(d.to, [b.inboxId]);
    assert.equal(d.clientId, clientId);
    assert.deepEqual(await am.inboxes.drafts.create(a.inboxId, { to: [b.inboxId], subject: 'Draft one', text: 'Work in progress.', clientId }), d);

    assert.deepEqual(await am.inboxes.drafts.get(a.inboxId, d.draftId), d);
    const inInbox = await am.inboxes.drafts.list(a.inboxId);
    check.envelope(inInbox, 'drafts', 'inbox drafts');
    inInbox.drafts.forEach((x, i) => draftItem(x, `drafts[${i}]`));
    assert.deepEqual(inInbox.drafts.map((x) => x.draftId), [d.draftId]);
    const inPod = await am.pods.drafts.list(pod.podId);
    assert.deepEqual(inPod.drafts.map((x) => x.draftId), [d.draftId]);
    draft(await am.drafts.get(d.draftId), 'org draft');

    const updated = await am.inboxes.drafts.update(a.inboxId, d.draftId, { subject: 'Draft two', cc: ['cc@example.com'] });
    draft(updated, 'updated draft');
    assert.equal(updated.subject, 'Draft two');
    assert.deepEqual(updated.cc, ['cc@example.com']);
    assert.equal(updated.text, d.text);
    const cleared = await am.inboxes.drafts.update(a.inboxId, d.draftId, { cc: null });
    assert.equal(cleared.cc, undefined);

    const sent = await am.inboxes.drafts.send(a.inboxId, d.draftId, { addLabels: ['from-draft'] });
    check.sendResponse(sent);
    check.sdkError(await rejection(am.inboxes.drafts.get(a.inboxId, d.draftId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    const m = await am.inboxes.messages.get(a.inboxId, sent.messageId);
    check.message(m, 'sent draft');
    assert.ok(m.labels.includes('sent') && m.labels.includes('from-draft'), `labels ${m.labels}`);
    assert.equal(m.subject, 'Draft two');
    await eventually(async () => (await am.inboxes.messages.list(b.inboxId)).messages.some((x) => x.subject === 'Draft two'), { what: 'the sent draft in the recipient inbox' });
    check.sdkError(await rejection(am.inboxes.drafts.send(a.inboxId, d.draftId, {})), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('delete', async () => {
    const a = await am.inboxes.create({ username: unique('drafter') });
    const d = await am.inboxes.drafts.create(a.inboxId, { subject: 'Throwaway' });
    draft(d);
    assert.equal(await am.inboxes.drafts.delete(a.inboxId, d.draftId), undefined);
    check.sdkError(await rejection(am.inboxes.drafts.get(a.inboxId, d.draftId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    const list = await am.inboxes.drafts.list(a.inboxId);
    assert.deepEqual(list.drafts, []);
  });
});
