// Search through the SDK's own methods: inboxes, an inbox's messages, and threads at the
// organisation scope. Every word of q must match; results carry typed highlights.

import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { client, failOnSdkWarnings, rejection, unique } from '../lib/pigeon.mjs';
import { buildMail, messageId, sendSMTP } from '../lib/mail.mjs';
import * as check from '../lib/check.mjs';

failOnSdkWarnings();
const am = client();

describe('search', { timeout: 60000 }, () => {
  let inbox;
  const word = unique('zebra'); // a word no other test's mail contains
  const hit = { id: messageId(), subject: `Invoice ${word} overdue` };

  before(async () => {
    inbox = await am.inboxes.create({ username: unique('search'), displayName: `Search ${word}` });
    for (const m of [hit, { id: messageId(), subject: 'Lunch on Friday' }]) {
      await sendSMTP({
        from: 'alice@example.com', to: [inbox.inboxId],
        data: buildMail({ from: 'Alice <alice@example.com>', to: inbox.inboxId, subject: m.subject, id: m.id, text: 'See subject.' }),
      });
    }
  });

  test('messages.search: every word matches, highlights typed', async () => {
    const page = await am.inboxes.messages.search(inbox.inboxId, { q: `${word} invoice` });
    check.envelope(page, 'messages', 'search page');
    assert.deepEqual(page.messages.map((m) => m.messageId), [hit.id]);
    const [m] = page.messages;
    const { highlights, ...item } = m;
    check.messageItem(item, 'search item');
    check.shape(highlights, { subject: 'strs' }, 'highlights');
    assert.match(highlights.subject[0], /\*\*Invoice\*\* \*\*zebra-[0-9a-f]+\*\* overdue/);
  });

  test('threads.search and inboxes.search', async () => {
    const threads = await am.threads.search({ q: word });
    assert.equal(threads.threads.length, 1);
    assert.equal(threads.threads[0].subject, hit.subject);
    const inboxes = await am.inboxes.search({ q: word });
    assert.deepEqual(inboxes.inboxes.map((i) => i.inboxId), [inbox.inboxId]);
  });

  test('a one-character query is a 400', async () => {
    const err = await rejection(am.inboxes.messages.search(inbox.inboxId, { q: 'x' }));
    assert.equal(err.statusCode, 400);
  });
});
