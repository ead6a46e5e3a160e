/**
 * @module
 * Cuts a byte stream (TCP) into SIP messages using Content-Length (RFC 3261 §18.3), skipping CRLF keep-alives
 * (RFC 5626 §3.5.1). Bounded: a header section or body over the limits is a {@link SipParseError} after which the
 * connection should be closed, since the stream can no longer be resynchronised.
 */

import { SipParseError } from './sip-parse-error.ts';
import { findHeaderEnd, leadingLineEnds } from './sip-parser.ts';

const CONTENT_LENGTH = /\r\n(?:content-length|l)[ \t]*:[ \t]*([0-9]+)[ \t]*\r\n/i;

export class SipStreamFramer {
  #buffer: Buffer = Buffer.alloc(0);

  constructor(
    private readonly maxHeaderBytes = 16384,
    private readonly maxBodyBytes = 32768,
  ) {}

  /** Appends received bytes and returns every complete message now available. */
  push(chunk: Uint8Array): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.#buffer, chunk]);
    const messages: Buffer[] = [];
    for (;;) {
      const skip = leadingLineEnds(this.#buffer);
      if (skip > 0) this.#buffer = this.#buffer.subarray(skip);
      if (this.#buffer.length === 0) break;
      const headerEnd = findHeaderEnd(this.#buffer);
      if (headerEnd < 0) {
        if (this.#buffer.length > this.maxHeaderBytes) {
          throw new SipParseError('message-too-large', 'Header section too large');
        }
        break;
      }
      if (headerEnd > this.maxHeaderBytes)
        throw new SipParseError('message-too-large', 'Header section too large');
      const head = this.#buffer.subarray(0, headerEnd).toString('latin1');
      const m = CONTENT_LENGTH.exec(`\r\n${head}`);
      if (!m) throw new SipParseError('bad-content-length', 'Missing Content-Length header');
      const length = Number(m[1]);
      if (!Number.isSafeInteger(length) || length > this.maxBodyBytes) {
        throw new SipParseError('body-too-large', 'Request Entity Too Large');
      }
      if (this.#buffer.length < headerEnd + length) break;
      messages.push(Buffer.from(this.#buffer.subarray(0, headerEnd + length)));
      this.#buffer = this.#buffer.subarray(headerEnd + length);
    }
    if (this.#buffer.length > 0 && this.#buffer.byteOffset > 65536) this.#buffer = Buffer.from(this.#buffer);
    return messages;
  }

  get buffered(): number {
    return this.#buffer.length;
  }
}
