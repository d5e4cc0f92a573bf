// Authentication and the key's own organisation and identity.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentMailError } from 'agentmail';
import { client, env, failOnSdkWarnings, rejection } from '../lib/pigeon.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

describe('auth', { timeout: 30000 }, () => {
  test('a wrong key is 401 on every route', async () => {
    const wrong = client('am_' + 'x'.repeat(43));
    for (const call of [() => wrong.inboxes.list(), () => wrong.pods.list(), () => wrong.inboxes.get(`a@${env.domain}`), () => wrong.inboxes.create()]) {
      const err = await rejection(call());
      check.sdkError(err, AgentMailError, 401);
    }
  });

  test('a key without the am_ prefix is 401', async () => {
    const err = await rejection(client('not-a-key').inboxes.list());
    check.sdkError(err, AgentMailError, 401);
  });

  test('organizations.get describes the key\'s organisation', async () => {
    const org = await am.organizations.get();
    check.shape(org, {
      organizationId: 'str', inboxCount: 'int', domainCount: 'int', inboxLimit: 'int?', domainLimit: 'int?',
      billingId: 'str?', billingType: 'str?', billingSubscriptionId: 'str?', authenticationId: 'str?', authenticationType: 'str?',
      updatedAt: 'date', createdAt: 'date',
    }, 'organization');
  });

  test('auth.me is the organisation scope for the organisation key', async () => {
    const me = await am.auth.me();
    check.shape(me, { scopeType: 'str', scopeId: 'str', organizationId: 'str', podId: 'str?', inboxId: 'str?', apiKeyId: 'str?' }, 'identity');
    assert.equal(me.scopeType, 'organization');
    assert.equal(me.scopeId, me.organizationId);
    const org = await am.organizations.get();
    assert.equal(me.organizationId, org.organizationId);
  });
});
