// Allow and block lists at organisation, pod and inbox scope.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMail } from 'agentmail';
import { client, failOnSdkWarnings, rejection, unique } from '../lib/pigeon.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

const entrySpec = {
  entry: 'str', organizationId: 'str', reason: 'str?', direction: 'str', listType: 'str', entryType: 'str', createdAt: 'date', readOnly: 'bool?',
};

describe('lists', { timeout: 30000 }, () => {
  test('organisation block list: create, get, list, delete', async () => {
    const address = `${unique('spammer')}@example.com`;
    const entry = await am.lists.create('receive', 'block', { entry: address, reason: 'spam' });
    check.shape(entry, entrySpec, 'list entry');
    assert.equal(entry.entry, address);
    assert.equal(entry.direction, 'receive');
    assert.equal(entry.listType, 'block');
    assert.equal(entry.entryType, 'email');
    assert.equal(entry.reason, 'spam');

    assert.deepEqual(await am.lists.get('receive', 'block', address), entry);
    const domain = `${unique('bad')}.example.net`;
    const domainEntry = await am.lists.create('receive', 'block', { entry: domain });
    check.shape(domainEntry, entrySpec, 'domain entry');
    assert.equal(domainEntry.entryType, 'domain');

    const list = await am.lists.list('receive', 'block', { limit: 100 });
    check.envelope(list, 'entries', 'block list');
    list.entries.forEach((e, i) => check.shape(e, entrySpec, `entries[${i}]`));
    const names = list.entries.map((e) => e.entry);
    assert.ok(names.includes(address) && names.includes(domain), `entries ${names}`);
    assert.deepEqual(names, [...names].sort(), 'entries ascending by entry');

    assert.equal(await am.lists.delete('receive', 'block', address), undefined);
    check.sdkError(await rejection(am.lists.get('receive', 'block', address)), AgentMail.NotFoundError, 404, 'NotFoundError');
    // The other lists are separate.
    check.sdkError(await rejection(am.lists.get('send', 'block', domain)), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('pod and inbox scoped entries carry their scope', async () => {
    const pod = await am.pods.create({ name: unique('lists') });
    const inbox = await am.pods.inboxes.create(pod.podId, { username: unique('lists') });
    const podEntry = await am.pods.lists.create(pod.podId, 'send', 'allow', { entry: 'partner.example.com' });
    check.shape(podEntry, { ...entrySpec, podId: 'str', inboxId: 'str?' }, 'pod entry');
    assert.equal(podEntry.podId, pod.podId);
    assert.equal(podEntry.inboxId, undefined);
    const inboxEntry = await am.inboxes.lists.create(inbox.inboxId, 'reply', 'block', { entry: 'noreply@example.com', reason: 'bot' });
    check.shape(inboxEntry, { ...entrySpec, podId: 'str', inboxId: 'str' }, 'inbox entry');
    assert.equal(inboxEntry.inboxId, inbox.inboxId);
    assert.equal(inboxEntry.podId, pod.podId);
    const list = await am.inboxes.lists.list(inbox.inboxId, 'reply', 'block');
    check.envelope(list, 'entries', 'inbox list');
    assert.deepEqual(list.entries.map((e) => e.entry), ['noreply@example.com']);
    await am.inboxes.lists.delete(inbox.inboxId, 'reply', 'block', 'noreply@example.com');
    check.sdkError(await rejection(am.inboxes.lists.get(inbox.inboxId, 'reply', 'block', 'noreply@example.com')), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('a bad entry is a ValidationError', async () => {
    check.sdkError(await rejection(am.lists.create('receive', 'block', { entry: 'not an address' })), AgentMail.ValidationError, 400, 'ValidationError');
  });
});
