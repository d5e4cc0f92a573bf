// Pods and pod-scoped inboxes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMail } from 'agentmail';
import { allPages, client, failOnSdkWarnings, rejection, unique } from '../lib/pigeon.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

describe('pods', { timeout: 30000 }, () => {
  test('create, get, list, delete', async () => {
    const name = unique('pod');
    const pod = await am.pods.create({ name });
    check.pod(pod);
    assert.equal(pod.name, name);
    assert.deepEqual(await am.pods.get(pod.podId), pod);

    const pages = await allPages((q) => am.pods.list(q), { limit: 2 });
    pages.forEach((p, i) => {
      check.envelope(p, 'pods', `pods page ${i}`);
      assert.ok(p.count <= 2);
      p.pods.forEach((x) => check.pod(x));
    });
    const ids = pages.flatMap((p) => p.pods.map((x) => x.podId));
    assert.equal(new Set(ids).size, ids.length, 'a pod was listed twice');
    assert.ok(ids.includes(pod.podId));

    assert.equal(await am.pods.delete(pod.podId), undefined);
    check.sdkError(await rejection(am.pods.get(pod.podId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.pods.delete(pod.podId)), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('a repeated client_id returns the same pod', async () => {
    const clientId = unique('podclient');
    const a = await am.pods.create({ name: unique('pod'), clientId });
    const b = await am.pods.create({ name: a.name, clientId });
    check.pod(b);
    assert.equal(a.clientId, clientId);
    assert.deepEqual(b, a);
  });

  test('pod-scoped inboxes: create, list with pagination, get, update, delete', async () => {
    const pod = await am.pods.create({ name: unique('pod') });
    const created = [];
    for (let i = 0; i < 3; i++) {
      const inbox = await am.pods.inboxes.create(pod.podId, { username: unique('podbox'), displayName: `Box ${i}` });
      check.inbox(inbox);
      assert.equal(inbox.podId, pod.podId);
      created.push(inbox);
    }
    const pages = await allPages((q) => am.pods.inboxes.list(pod.podId, q), { limit: 2 });
    // A page may be empty and still carry a token (§1.5), so only the minimum is fixed.
    assert.ok(pages.length >= 2, `3 inboxes with limit 2 took ${pages.length} page(s)`);
    assert.deepEqual(pages.map((p) => p.count).slice(0, 2), [2, 1], `page sizes ${pages.map((p) => p.count)}`);
    pages.forEach((p, i) => check.envelope(p, 'inboxes', `pod inboxes page ${i}`));
    const listed = pages.flatMap((p) => p.inboxes);
    listed.forEach((x) => check.inbox(x));
    assert.deepEqual(listed.map((x) => x.inboxId).sort(), created.map((x) => x.inboxId).sort());

    const got = await am.pods.inboxes.get(pod.podId, created[0].inboxId);
    assert.deepEqual(got, created[0]);
    // The organisation-wide routes see pod inboxes too.
    assert.deepEqual(await am.inboxes.get(created[0].inboxId), created[0]);

    const updated = await am.pods.inboxes.update(pod.podId, created[1].inboxId, { displayName: 'Updated' });
    check.inbox(updated);
    assert.equal(updated.displayName, 'Updated');

    await am.pods.inboxes.delete(pod.podId, created[2].inboxId);
    check.sdkError(await rejection(am.pods.inboxes.get(pod.podId, created[2].inboxId)), AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('an inbox is not found through another pod', async () => {
    const a = await am.pods.create({ name: unique('pod-a') });
    const b = await am.pods.create({ name: unique('pod-b') });
    const inbox = await am.pods.inboxes.create(a.podId, { username: unique('mine') });
    check.sdkError(await rejection(am.pods.inboxes.get(b.podId, inbox.inboxId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    const listB = await am.pods.inboxes.list(b.podId);
    check.envelope(listB, 'inboxes', 'pod b inboxes');
    assert.deepEqual(listB.inboxes, []);
  });

  test('unknown pod is NotFoundError', async () => {
    check.sdkError(await rejection(am.pods.get(unique('nopod'))), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.pods.inboxes.list(unique('nopod'))), AgentMail.NotFoundError, 404, 'NotFoundError');
    const err = await rejection(am.pods.inboxes.create(unique('nopod'), { username: unique('x') }));
    // POST /v0/pods/{pod_id}/inboxes maps only 400 and 422; a missing pod reaches the caller as
    // a 404 AgentMailError with the NotFoundError body.
    assert.equal(err.statusCode, 404, err.message);
    assert.equal(err.body?.name, 'NotFoundError');
  });
});
