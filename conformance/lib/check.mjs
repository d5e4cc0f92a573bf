// Shape checks on what the SDK hands back. The SDK parses responses without validating them
// (agentmail-v0.md §10): a missing field is just absent, a wrong type stays raw. So every
// required field is checked for presence and JS type here, and the SDK's camelCasing is used to
// spot keys the SDK does not know (they pass through still in snake_case).

import assert from 'node:assert/strict';

function isDate(v) {
  return v instanceof Date && !Number.isNaN(v.getTime());
}

const kinds = {
  str: (v) => typeof v === 'string',
  int: (v) => Number.isInteger(v),
  bool: (v) => typeof v === 'boolean',
  date: isDate,
  strs: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  array: Array.isArray,
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
};

/**
 * Checks obj against spec: { field: 'kind' } for required fields and { field: 'kind?' } for
 * optional ones (absent is fine, present must have the kind). what names obj in messages.
 */
export function shape(obj, spec, what) {
  assert.ok(kinds.object(obj), `${what}: not an object: ${JSON.stringify(obj)}`);
  for (const [field, kindSpec] of Object.entries(spec)) {
    const optional = kindSpec.endsWith('?');
    const kind = kindSpec.replace('?', '');
    const v = obj[field];
    if (v === undefined && optional) continue;
    assert.ok(v !== undefined, `${what}.${field} is missing in ${JSON.stringify(obj)}`);
    assert.ok(kinds[kind](v), `${what}.${field} should be ${kind}, got ${JSON.stringify(v)} (${typeof v})`);
  }
  for (const key of Object.keys(obj)) {
    assert.ok(!key.includes('_'), `${what} has a key the SDK does not know: ${key}`);
  }
}

/** Checks a list envelope: count matches the items, items is an array, limit and token typed. */
export function envelope(page, itemsKey, what) {
  shape(page, { count: 'int', limit: 'int?', nextPageToken: 'str?', [itemsKey]: 'array' }, what);
  assert.equal(page.count, page[itemsKey].length, `${what}: count ${page.count} with ${page[itemsKey].length} ${itemsKey}`);
}

export function inbox(v, what = 'inbox') {
  shape(v, {
    podId: 'str', inboxId: 'str', email: 'str', displayName: 'str?', clientId: 'str?', metadata: 'object?',
    updatedAt: 'date', createdAt: 'date',
  }, what);
}

export function pod(v, what = 'pod') {
  shape(v, { podId: 'str', name: 'str', clientId: 'str?', updatedAt: 'date', createdAt: 'date' }, what);
}

export function attachment(v, what = 'attachment') {
  shape(v, { attachmentId: 'str', filename: 'str?', size: 'int', contentType: 'str?', contentDisposition: 'str?', contentId: 'str?' }, what);
  if (v.contentDisposition !== undefined) assert.ok(['inline', 'attachment'].includes(v.contentDisposition), `${what}.contentDisposition ${v.contentDisposition}`);
}

const messageItemSpec = {
  inboxId: 'str', threadId: 'str', messageId: 'str', labels: 'strs', timestamp: 'date', from: 'str',
  to: 'strs', cc: 'strs?', bcc: 'strs?', subject: 'str?', preview: 'str?', attachments: 'array?',
  inReplyTo: 'str?', references: 'strs?', headers: 'object?', size: 'int', updatedAt: 'date', createdAt: 'date',
};

/** A list item (MessageItem): no bodies. */
export function messageItem(v, what = 'message item') {
  shape(v, messageItemSpec, what);
  for (const key of ['text', 'html', 'extractedText', 'extractedHtml', 'replyTo']) {
    assert.equal(v[key], undefined, `${what} should not carry ${key}`);
  }
  (v.attachments ?? []).forEach((a, i) => attachment(a, `${what}.attachments[${i}]`));
}

/** A full Message (GET one, thread pages, events). */
export function message(v, what = 'message') {
  shape(v, {
    ...messageItemSpec, replyTo: 'strs?', text: 'str?', html: 'str?', extractedText: 'str?', extractedHtml: 'str?',
  }, what);
  (v.attachments ?? []).forEach((a, i) => attachment(a, `${what}.attachments[${i}]`));
}

const threadItemSpec = {
  inboxId: 'str', threadId: 'str', labels: 'strs', timestamp: 'date', receivedTimestamp: 'date?', sentTimestamp: 'date?',
  senders: 'strs', recipients: 'strs', subject: 'str?', preview: 'str?', attachments: 'array?',
  lastMessageId: 'str', messageCount: 'int', size: 'int', updatedAt: 'date', createdAt: 'date',
};

export function threadItem(v, what = 'thread item') {
  shape(v, threadItemSpec, what);
  (v.attachments ?? []).forEach((a, i) => attachment(a, `${what}.attachments[${i}]`));
}

/** A Thread (GET one): ThreadItem plus a page of full messages, ascending by timestamp. */
export function thread(v, what = 'thread') {
  shape(v, { ...threadItemSpec, count: 'int', limit: 'int?', nextPageToken: 'str?', messages: 'array' }, what);
  assert.equal(v.count, v.messages.length, `${what}: count ${v.count} with ${v.messages.length} messages`);
  v.messages.forEach((m, i) => message(m, `${what}.messages[${i}]`));
  for (let i = 1; i < v.messages.length; i++) {
    assert.ok(v.messages[i - 1].timestamp <= v.messages[i].timestamp, `${what}: messages not ascending by timestamp`);
  }
}

/** A download: AttachmentResponse or RawMessageResponse. */
export function attachmentResponse(v, what = 'attachment response') {
  shape(v, {
    attachmentId: 'str', filename: 'str?', size: 'int', contentType: 'str?', contentDisposition: 'str?', contentId: 'str?',
    downloadUrl: 'str', expiresAt: 'date',
  }, what);
}

export function rawResponse(v, what = 'raw message') {
  shape(v, { messageId: 'str', size: 'int', downloadUrl: 'str', expiresAt: 'date' }, what);
}

export function sendResponse(v, what = 'send response') {
  shape(v, { messageId: 'str', threadId: 'str' }, what);
}

/** Checks err is an SDK error of class cls with status and, when given, the body's name. */
export function sdkError(err, cls, status, name) {
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.constructor, cls, `expected exactly ${cls.name}, got ${err.constructor.name}: ${err.message}`);
  assert.equal(err.statusCode, status, `status: ${err.message}`);
  assert.ok(kinds.object(err.body), `error body should be parsed JSON, got ${JSON.stringify(err.body)}`);
  assert.equal(typeof err.body.name, 'string', `error body name: ${JSON.stringify(err.body)}`);
  if (status !== 400) assert.equal(typeof err.body.message, 'string', `error body message: ${JSON.stringify(err.body)}`);
  if (name) assert.equal(err.body.name, name, `error body name: ${JSON.stringify(err.body)}`);
}
