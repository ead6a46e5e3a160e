import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fcf } from './fcf.ts';
import { buildFrame, toT30Notation } from './hdlc-frame.ts';
import { decodeIdent, encodeIdent } from './ident.ts';

test('CSI "+0123456789" is TSB-85 MRGN01 byte-exact (reversed, space padded)', () => {
  const frame = buildFrame(Fcf.CSI, encodeIdent('+0123456789'), { final: false });
  assert.equal(toT30Notation(frame), 'FF C0 02 9C 1C EC 6C AC 2C CC 4C 8C 0C D4 04 04 04 04 04 04 04 04 04');
  assert.equal(decodeIdent(frame.subarray(3)), '+0123456789');
});

test('identifiers are cut to 20 characters; non-printable characters become spaces or ?', () => {
  assert.equal(encodeIdent('123456789012345678901234').length, 20);
  assert.equal(decodeIdent(encodeIdent('123456789012345678901234')), '12345678901234567890');
  assert.equal(decodeIdent(encodeIdent('a\u0001b')), 'a b');
  assert.equal(decodeIdent(Uint8Array.of(0x41, 0x07, 0x42)), 'B?A');
});
