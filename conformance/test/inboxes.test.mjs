// Inboxes: create (with and without a body), client_id idempotency, pagination, get, update,
// delete, and the errors the SDK maps for these routes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMail, AgentMailError } from 'agentmail';
import { allPages, client, env, failOnSdkWarnings, rejection, unique } from '../lib/pigeon.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

describe('inboxes', { timeout: 30000 }, () => {
  test('create with no body picks a random address on the default domain', async () => {
    const inbox = await am.inboxes.create();
    check.inbox(inbox);
    assert.match(inbox.inboxId, new RegExp(`^[a-z0-9._+-]+@${env.domain.replace('.', '\\.')}$`));
    assert.equal(inbox.email, inbox.inboxId);
    assert.ok(inbox.createdAt instanceof Date && inbox.updatedAt instanceof Date);
    const again = await am.inboxes.get(inbox.inboxId);
    check.inbox(again);
    assert.deepEqual(again, inbox);
  });

  test('create with username, display name and metadata', async () => {
    const username = unique('agent');
    const inbox = await am.inboxes.create({
      username, displayName: 'Agent Smith', metadata: { team: 'support', priority: 3, active: true },
    });
    check.inbox(inbox);
    assert.equal(inbox.inboxId, `${username}@${env.domain}`);
    assert.equal(inbox.email, inbox.inboxId);
    assert.equal(inbox.displayName, 'Agent Smith');
    assert.deepEqual(inbox.metadata, { team: 'support', priority: 3, active: true });
    const got = await am.inboxes.get(inbox.inboxId);
    check.inbox(got);
    assert.deepEqual(got, inbox);
  });

  test('a repeated client_id returns the same inbox', async () => {
    const clientId = unique('client');
    const first = await am.inboxes.create({ clientId, displayName: 'Once' });
    const second = await am.inboxes.create({ clientId, displayName: 'Once' });
    check.inbox(first);
    check.inbox(second);
    assert.equal(first.clientId, clientId);
    assert.deepEqual(second, first);
  });

  test('list pages with limit 2 until next_page_token is absent', async () => {
    const mine = new Set();
    for (let i = 0; i < 5; i++) mine.add((await am.inboxes.create({ username: unique('page') })).inboxId);
    const pages = await allPages((q) => am.inboxes.list(q), { limit: 2 });
    const seen = [];
    pages.forEach((page, i) => {
      check.envelope(page, 'inboxes', `page ${i}`);
      assert.ok(page.count <= 2, `page ${i} has ${page.count} inboxes with limit 2`);
      page.inboxes.forEach((inbox, j) => check.inbox(inbox, `page ${i} inbox ${j}`));
      seen.push(...page.inboxes);
    });
    const ids = seen.map((x) => x.inboxId);
    assert.equal(new Set(ids).size, ids.length, 'an inbox was listed twice');
    for (const id of mine) assert.ok(ids.includes(id), `${id} was not listed`);
    for (let i = 1; i < seen.length; i++) {
      assert.ok(seen[i - 1].createdAt >= seen[i].createdAt, 'inboxes not newest first');
    }
    const ascending = await allPages((q) => am.inboxes.list({ ...q, ascending: true }), { limit: 2 });
    const ascIds = ascending.flatMap((p) => p.inboxes.map((x) => x.inboxId));
    assert.deepEqual(ascIds, [...ids].reverse());
  });

  test('update display_name and merge metadata', async () => {
    const inbox = await am.inboxes.create({ username: unique('upd'), metadata: { a: '1', b: 2 } });
    const renamed = await am.inboxes.update(inbox.inboxId, { displayName: 'Renamed' });
    check.inbox(renamed);
    assert.equal(renamed.displayName, 'Renamed');
    assert.deepEqual(renamed.metadata, { a: '1', b: 2 });
    assert.ok(renamed.updatedAt >= inbox.updatedAt);
    assert.deepEqual(renamed.createdAt, inbox.createdAt);

    const merged = await am.inboxes.update(inbox.inboxId, { metadata: { b: null, c: false } });
    check.inbox(merged);
    assert.deepEqual(merged.metadata, { a: '1', c: false });
    assert.equal(merged.displayName, 'Renamed');

    const cleared = await am.inboxes.update(inbox.inboxId, { metadata: null });
    check.inbox(cleared);
    assert.ok(cleared.metadata === undefined || Object.keys(cleared.metadata).length === 0, JSON.stringify(cleared.metadata));
    const got = await am.inboxes.get(inbox.inboxId);
    assert.deepEqual(got, cleared);
  });

  test('update with nothing to change is a ValidationError', async () => {
    const inbox = await am.inboxes.create({ username: unique('empty') });
    const err = await rejection(am.inboxes.update(inbox.inboxId, {}));
    check.sdkError(err, AgentMail.ValidationError, 400, 'ValidationError');
    const bad = await rejection(am.inboxes.update(inbox.inboxId, { metadata: {} }));
    check.sdkError(bad, AgentMail.ValidationError, 400, 'ValidationError');
  });

  test('delete, then get is NotFoundError', async () => {
    const inbox = await am.inboxes.create({ username: unique('del') });
    const result = await am.inboxes.delete(inbox.inboxId);
    assert.equal(result, undefined);
    check.sdkError(await rejection(am.inboxes.get(inbox.inboxId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    check.sdkError(await rejection(am.inboxes.delete(inbox.inboxId)), AgentMail.NotFoundError, 404, 'NotFoundError');
    const listed = await allPages((q) => am.inboxes.list(q), { limit: 100 });
    assert.ok(!listed.flatMap((p) => p.inboxes).some((x) => x.inboxId === inbox.inboxId), 'deleted inbox still listed');
  });

  test('unknown inbox is NotFoundError', async () => {
    const err = await rejection(am.inboxes.get(`nobody-${unique('x')}@${env.domain}`));
    check.sdkError(err, AgentMail.NotFoundError, 404, 'NotFoundError');
  });

  test('bad create input is a ValidationError', async () => {
    for (const request of [{ username: 'Not Valid!' }, { domain: 'not-ours.example' }, { username: 'a..b' }]) {
      const err = await rejection(am.inboxes.create(request));
      check.sdkError(err, AgentMail.ValidationError, 400, 'ValidationError');
    }
  });

  test('a taken address is 403 IsTakenError (a plain AgentMailError in SDK 0.5.27)', async () => {
    const username = unique('taken');
    await am.inboxes.create({ username });
    const err = await rejection(am.inboxes.create({ username }));
    // §1.7: the SDK wires IsTakenError to no route, so 403 reaches the caller as AgentMailError.
    check.sdkError(err, AgentMailError, 403, 'IsTakenError');
    assert.ok(!(err instanceof AgentMail.IsTakenError));
  });

  test('a bad limit is 400 ValidationError (generic AgentMailError: list maps no 400)', async () => {
    for (const limit of [0, -1]) {
      const err = await rejection(am.inboxes.list({ limit }));
      check.sdkError(err, AgentMailError, 400, 'ValidationError');
    }
    const err = await rejection(am.inboxes.list({ pageToken: 'garbage' }));
    check.sdkError(err, AgentMailError, 400, 'ValidationError');
  });
});
