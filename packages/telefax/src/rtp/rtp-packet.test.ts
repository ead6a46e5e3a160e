import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRtpPacket, serializeRtpPacket } from './rtp-packet.ts';

describe('RTP packet', () => {
  it('writes the RFC 3550 fixed header byte for byte', () => {
    const bytes = serializeRtpPacket({
      payloadType: 8,
      marker: true,
      sequenceNumber: 0x1234,
      timestamp: 0xdeadbeef,
      ssrc: 0x01020304,
      payload: Uint8Array.from([0xd5, 0xd5]),
    });
    assert.equal(bytes.toString('hex'), '8088' + '1234' + 'deadbeef' + '01020304' + 'd5d5');
  });

  it('reads back what it writes, with CSRCs, and wraps sequence and timestamp into range', () => {
    const packet = {
      payloadType: 0,
      marker: false,
      sequenceNumber: 65535,
      timestamp: 2 ** 32 - 1,
      ssrc: 0xffffffff,
      csrcs: [7, 9],
      payload: Uint8Array.from([0xff, 0x7f, 0x00]),
    };
    const parsed = parseRtpPacket(serializeRtpPacket(packet))!;
    assert.deepEqual({ ...parsed, payload: [...parsed.payload] }, { ...packet, payload: [0xff, 0x7f, 0x00] });
    const wrapped = parseRtpPacket(
      serializeRtpPacket({ ...packet, sequenceNumber: 65536, timestamp: 2 ** 32, csrcs: [] }),
    )!;
    assert.equal(wrapped.sequenceNumber, 0);
    assert.equal(wrapped.timestamp, 0);
  });

  it('skips a header extension and padding', () => {
    const hex = 'b000' + '0001' + '00000010' + '0000abcd' + 'bede0001' + '11223344' + 'fffe' + '000003';
    const parsed = parseRtpPacket(Buffer.from(hex, 'hex'))!;
    assert.equal(parsed.payloadType, 0);
    assert.equal(parsed.ssrc, 0xabcd);
    assert.deepEqual([...parsed.payload], [0xff, 0xfe]);
  });

  it('rejects what is not RTP version 2', () => {
    assert.equal(parseRtpPacket(Buffer.from('8000', 'hex')), undefined);
    assert.equal(parseRtpPacket(Buffer.alloc(20)), undefined, 'version 0');
    assert.equal(
      parseRtpPacket(Buffer.from('8f00000100000010000000aa', 'hex')),
      undefined,
      '15 CSRCs missing',
    );
    assert.equal(
      parseRtpPacket(Buffer.from('a000000100000010000000aaff', 'hex')),
      undefined,
      'padding too long',
    );
  });
});
