/**
 * @module
 * Writes a SIP message to bytes (RFC 3261 §7): one header line per entry in order, Content-Length always written
 * from the actual body so that stream framing (§18.3) can rely on it.
 */
import type { SipMessage } from './sip-message.ts';

export function serializeSipMessage(message: SipMessage): Buffer {
  let head =
    message.kind === 'request'
      ? `${message.method} ${message.uri} SIP/2.0\r\n`
      : `SIP/2.0 ${message.status} ${message.reason}\r\n`;
  for (const [name, value] of message.headers.entries()) {
    if (name === 'Content-Length') continue;
    head += `${name}: ${value}\r\n`;
  }
  head += `Content-Length: ${message.body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), message.body]);
}
