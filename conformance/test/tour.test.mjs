// The README's SDK tour (examples/tour.mjs) runs as written against the local stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env, failOnSdkWarnings } from '../lib/pigeon.mjs';
import { tour } from '../examples/tour.mjs';

failOnSdkWarnings();

test('the README tour runs: send, real-time event, reply, one thread', { timeout: 30000 }, async () => {
  const lines = [];
  const { thread, event } = await tour({ url: env.url, wsUrl: env.wsUrl, apiKey: env.apiKey, log: (l) => lines.push(l) });
  assert.equal(event.message.subject, 'Your order has shipped');
  assert.equal(thread.messageCount, 2);
  assert.deepEqual(thread.messages.map((m) => m.extractedText ?? m.text), ['Hi! Order 42 left our warehouse today.', 'Great, thanks!']);
  assert.match(lines[0], /received "Your order has shipped": Hi! Order 42 left our warehouse today\./);
});
