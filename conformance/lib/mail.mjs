// Mail into the stack over real SMTP (the local stack's stand-in for SES receiving), and the
// MIME messages the tests send.

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { env } from './pigeon.mjs';

/**
 * Delivers data (a complete RFC 5322 message, CRLF line ends) from envelope sender `from` to
 * the envelope recipients `to` over SMTP, dot-stuffing as RFC 5321 §4.5.2 requires. Resolves
 * once the server accepted the message (250 after the final dot).
 */
export async function sendSMTP({ from, to, data }) {
  const [host, port] = splitHostPort(env.smtpAddr);
  const socket = net.connect({ host, port });
  socket.setTimeout(10000, () => socket.destroy(new Error('SMTP timeout')));
  const replies = replyReader(socket);
  const expect = async (code, what) => {
    const reply = await replies.next();
    if (!reply.startsWith(String(code))) throw new Error(`SMTP ${what}: ${reply}`);
    return reply;
  };
  const command = async (line, code) => {
    socket.write(line + '\r\n');
    return expect(code, line);
  };
  try {
    await expect(220, 'greeting');
    await command('EHLO conformance.test', 250);
    await command(`MAIL FROM:<${from}>`, 250);
    for (const rcpt of to) await command(`RCPT TO:<${rcpt}>`, 250);
    await command('DATA', 354);
    let body = Buffer.isBuffer(data) ? data.toString('latin1') : data;
    if (!body.endsWith('\r\n')) body += '\r\n';
    socket.write(Buffer.from(body.replace(/^\./gm, '..') + '.\r\n', 'latin1'));
    await expect(250, 'end of data');
    await command('QUIT', 221);
  } finally {
    socket.destroy();
  }
}

function splitHostPort(addr) {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i).replace(/^\[|\]$/g, ''), Number(addr.slice(i + 1))];
}

/** Reads SMTP replies (multi-line ones joined) one at a time. */
function replyReader(socket) {
  let buf = '';
  let lines = [];
  const waiters = [];
  let failure;
  const pump = () => {
    while (waiters.length && (failure || lines.length)) {
      const w = waiters.shift();
      if (failure) {
        w.reject(failure);
        continue;
      }
      const end = lines.findIndex((l) => /^\d{3}( |$)/.test(l));
      if (end < 0) {
        waiters.unshift(w);
        return;
      }
      w.resolve(lines.slice(0, end + 1).join('\n'));
      lines = lines.slice(end + 1);
    }
  };
  socket.on('data', (chunk) => {
    buf += chunk.toString('latin1');
    const parts = buf.split('\r\n');
    buf = parts.pop();
    lines.push(...parts);
    pump();
  });
  socket.on('error', (err) => {
    failure = err;
    pump();
  });
  socket.on('close', () => {
    failure ??= new Error('SMTP connection closed');
    pump();
  });
  return { next: () => new Promise((resolve, reject) => { waiters.push({ resolve, reject }); pump(); }) };
}

/** A fresh RFC 5322 Message-ID, angle brackets included. */
export function messageId() {
  return `<${randomBytes(8).toString('hex')}@conformance.test>`;
}

/**
 * Builds a message. Plain text only unless attachments are given, then multipart/mixed with
 * base64 parts. Returns the exact bytes to send (CRLF line ends).
 */
export function buildMail({ from, to, cc, subject, id = messageId(), inReplyTo, references, text, attachments = [], date = new Date() }) {
  const h = [`From: ${from}`, `To: ${[].concat(to).join(', ')}`];
  if (cc) h.push(`Cc: ${[].concat(cc).join(', ')}`);
  h.push(`Subject: ${subject}`, `Date: ${date.toUTCString().replace('GMT', '+0000')}`, `Message-ID: ${id}`);
  if (inReplyTo) h.push(`In-Reply-To: ${inReplyTo}`);
  if (references) h.push(`References: ${[].concat(references).join(' ')}`);
  h.push('MIME-Version: 1.0');
  const textPart = text.replace(/\r?\n/g, '\r\n');
  if (attachments.length === 0) {
    h.push('Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit');
    return Buffer.from(h.join('\r\n') + '\r\n\r\n' + textPart + (textPart.endsWith('\r\n') ? '' : '\r\n'), 'utf8');
  }
  const boundary = `b-${randomBytes(6).toString('hex')}`;
  h.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
  let body = `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${textPart}\r\n`;
  for (const a of attachments) {
    const b64 = a.content.toString('base64').replace(/.{76}/g, '$&\r\n').replace(/\r\n$/, '');
    body += `--${boundary}\r\nContent-Type: ${a.contentType}; name="${a.filename}"\r\n` +
      `Content-Disposition: attachment; filename="${a.filename}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
  }
  body += `--${boundary}--\r\n`;
  return Buffer.from(h.join('\r\n') + '\r\n\r\n' + body, 'utf8');
}

/**
 * The header fields SES's S3 action prepends to the stored raw message, in order
 * (infra/local/receipt.go SESHeaders). The local stack does not scan for spam or viruses, so
 * X-SES-Spam-Verdict and X-SES-Virus-Verdict, which SES writes between Received and
 * Received-SPF when it scans, are not there.
 */
export const SES_HEADERS = ['Return-Path', 'Received', 'Received-SPF', 'Authentication-Results',
  'X-SES-RECEIPT', 'X-SES-DKIM-SIGNATURE'];

/**
 * Removes exactly the SES header block (each field with its folded continuation lines) from raw
 * and returns the rest, or null when the block is not there in order.
 */
export function stripSESHeaders(raw) {
  let s = raw.toString('latin1');
  for (const name of SES_HEADERS) {
    if (!s.startsWith(name + ': ')) return null;
    for (;;) {
      const i = s.indexOf('\r\n');
      if (i < 0) return null;
      s = s.slice(i + 2);
      if (s[0] !== ' ' && s[0] !== '\t') break;
    }
  }
  return Buffer.from(s, 'latin1');
}
