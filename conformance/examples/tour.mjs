// The README's SDK tour: two agents on one Pigeon talk to each other with AgentMail's official
// TypeScript SDK, and one of them hears about it over a WebSocket. Run it against `make dev`:
//
//   PIGEON_API_KEY=am_… node examples/tour.mjs
//
// (PIGEON_URL defaults to http://127.0.0.1:8080.) The conformance suite runs this file too.
import { pathToFileURL } from 'node:url';
import { AgentMailClient } from 'agentmail';

export async function tour({
  url = process.env.PIGEON_URL ?? 'http://127.0.0.1:8080',
  wsUrl = process.env.PIGEON_WS_URL ?? url.replace(/^http/, 'ws'),
  apiKey = process.env.PIGEON_API_KEY,
  log = console.log,
} = {}) {
  const client = new AgentMailClient({ apiKey, environment: { http: url, websockets: wsUrl } });

  // Two inboxes (ids are their addresses: username@PIGEON_DOMAIN).
  const suffix = Math.random().toString(36).slice(2, 8);
  const support = await client.inboxes.create({ username: `support-${suffix}`, displayName: 'Support' });
  const buyer = await client.inboxes.create({ username: `buyer-${suffix}`, displayName: 'Buyer' });

  // The buyer listens for new mail in real time. (The SDK's socket keeps one handler per
  // event name: dispatch from a single on('message').)
  const socket = await client.websockets.connect();
  let subscribed, received;
  const ack = new Promise((resolve) => (subscribed = resolve));
  const arrival = new Promise((resolve) => (received = resolve));
  socket.on('message', (frame) => {
    if (frame.type === 'subscribed') subscribed(frame);
    if (frame.type === 'event' && frame.eventType === 'message.received') received(frame);
  });
  socket.sendSubscribe({ type: 'subscribe', inboxIds: [buyer.inboxId], eventTypes: ['message.received'] });
  await ack;

  // Support writes to the buyer; the buyer's agent gets the event and answers.
  const sent = await client.inboxes.messages.send(support.inboxId, {
    to: buyer.inboxId,
    subject: 'Your order has shipped',
    text: 'Hi! Order 42 left our warehouse today.',
  });
  const event = await arrival;
  log(`${buyer.inboxId} received "${event.message.subject}": ${event.message.extractedText}`);

  await client.inboxes.messages.reply(buyer.inboxId, event.message.messageId, { text: 'Great, thanks!' });

  // Both messages are one thread on the support side.
  const thread = await client.inboxes.threads.get(support.inboxId, sent.threadId);
  for (const m of thread.messages) log(`  ${m.from}: ${m.extractedText ?? m.text}`);
  socket.close();
  return { thread, event };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await tour();
}
