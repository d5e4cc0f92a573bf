// API keys: the secret shown once, listings with the prefix only, and scoped keys that cannot
// see outside their pod.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMail, AgentMailError } from 'agentmail';
import { client, failOnSdkWarnings, rejection, unique, NO_SUCH_ID } from '../lib/pigeon.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

/** CreateApiKeyResponse: the only shape that carries the secret. */
function created(v, what = 'created key') {
  check.shape(v, {
    apiKeyId: 'str', apiKey: 'str', prefix: 'str', name: 'str', podId: 'str?', inboxId: 'str?', permissions: 'object?', createdAt: 'date',
  }, what);
  assert.ok(v.apiKey.startsWith('am_'), `secret ${v.apiKey.slice(0, 6)}…`);
  assert.ok(v.apiKey.startsWith(v.prefix) && v.prefix.length < v.apiKey.length, 'the prefix is the start of the secret');
}

/** BearerApiKey as read back: never the secret. */
function bearer(v, what = 'api key') {
  check.shape(v, {
    type: 'str', apiKeyId: 'str', prefix: 'str', name: 'str', podId: 'str?', inboxId: 'str?', usedAt: 'date?',
    permissions: 'object?', createdAt: 'date', updatedAt: 'date', expiresAt: 'date?',
  }, what);
  assert.equal(v.type, 'bearer');
  assert.equal(v.apiKey, undefined, `${what} shows the secret`);
}

describe('api keys', { timeout: 30000 }, () => {
  test('create returns the secret once; list and get show the prefix only', async () => {
    const name = unique('key');
    const key = await am.apiKeys.create({ name });
    created(key);
    assert.equal(key.name, name);

    const list = await am.apiKeys.list();
    check.shape(list, { count: 'int', nextPageToken: 'str?', apiKeys: 'array' }, 'key list');
    assert.equal(list.count, list.apiKeys.length);
    list.apiKeys.forEach((k, i) => bearer(k, `apiKeys[${i}]`));
    const listed = list.apiKeys.find((k) => k.apiKeyId === key.apiKeyId);
    assert.ok(listed, 'the new key is listed');
    assert.equal(listed.prefix, key.prefix);
    assert.ok(!JSON.stringify(list).includes(key.apiKey), 'the listing leaks the secret');

    const got = await am.apiKeys.get(key.apiKeyId);
    bearer(got);
    assert.equal(got.name, name);

    const renamed = await am.apiKeys.update(key.apiKeyId, { name: 'renamed' });
    bearer(renamed);
    assert.equal(renamed.name, 'renamed');

    const own = client(key.apiKey);
    check.envelope(await own.inboxes.list(), 'inboxes', 'inboxes seen by the new key');

    assert.equal(await am.apiKeys.delete(key.apiKeyId), undefined);
    check.sdkError(await rejection(am.apiKeys.get(key.apiKeyId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(own.inboxes.list()), AgentMailError, 401);
  });

  test('a pod key sees its pod and gets NotFoundError for another pod\'s data', async () => {
    const podA = await am.pods.create({ name: unique('keys-a') });
    const podB = await am.pods.create({ name: unique('keys-b') });
    const inA = await am.pods.inboxes.create(podA.podId, { username: unique('in-a') });
    const inB = await am.pods.inboxes.create(podB.podId, { username: unique('in-b') });
    const key = await am.pods.apiKeys.create(podA.podId, { name: unique('podkey') });
    created(key, 'pod key');
    assert.equal(key.podId, podA.podId);
    const podList = await am.pods.apiKeys.list(podA.podId);
    podList.apiKeys.forEach((k, i) => bearer(k, `pod apiKeys[${i}]`));
    assert.ok(podList.apiKeys.some((k) => k.apiKeyId === key.apiKeyId));

    const pk = client(key.apiKey);
    const me = await pk.auth.me();
    assert.equal(me.scopeType, 'pod');
    assert.equal(me.podId, podA.podId);
    assert.deepEqual(await pk.inboxes.get(inA.inboxId), inA);
    const seen = await pk.inboxes.list({ limit: 100 });
    assert.deepEqual(seen.inboxes.map((x) => x.inboxId), [inA.inboxId]);

    check.sdkError(await rejection(pk.inboxes.get(inB.inboxId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(pk.pods.get(podB.podId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(pk.pods.inboxes.list(podB.podId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(pk.inboxes.messages.list(inB.inboxId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(pk.inboxes.threads.list(inB.inboxId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(pk.inboxes.update(inB.inboxId, { displayName: 'hijacked' })), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('an inbox key is limited to its inbox', async () => {
    const mine = await am.inboxes.create({ username: unique('keyed') });
    const other = await am.inboxes.create({ username: unique('other') });
    const key = await am.inboxes.apiKeys.create(mine.inboxId, { name: unique('inboxkey') });
    created(key, 'inbox key');
    assert.equal(key.inboxId, mine.inboxId);
    const ik = client(key.apiKey);
    assert.deepEqual((await ik.inboxes.list()).inboxes.map((x) => x.inboxId), [mine.inboxId]);
    check.sdkError(await rejection(ik.inboxes.get(other.inboxId)), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('unknown key is NotFoundError', async () => {
    check.sdkError(await rejection(am.apiKeys.get(NO_SUCH_ID)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.apiKeys.delete(NO_SUCH_ID)), AgentMail.NotFoundError, 404, 'NotFoundError');
  });
});
