/**
 * @module lines/call-party.test
 * DIDs and callers as carriers write them, read as E.164; what is not a number is not taken for one.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SipHeaders } from 'telefax/sip/sip-headers';
import type { SipRequest } from 'telefax/sip/sip-message';
import { calledNumber, callingNumber, toE164 } from './call-party.ts';

function invite(uri: string, headers: Record<string, string>): SipRequest {
  const h = new SipHeaders();
  for (const [name, value] of Object.entries(headers)) h.append(name, value);
  return { kind: 'request', method: 'INVITE', uri, headers: h, body: Buffer.alloc(0) } as SipRequest;
}

describe('call parties', () => {
  it('reads numbers in the forms carriers use', () => {
    assert.equal(toE164('+14155550100'), '+14155550100');
    assert.equal(toE164('14155550100'), '+14155550100');
    assert.equal(toE164('004930123456'), '+4930123456');
    assert.equal(toE164('%2B14155550100'), '+14155550100');
    assert.equal(toE164('+1-415-555-0100;phone-context=x'), '+14155550100');
    assert.equal(toE164('fax'), null);
    assert.equal(toE164('123'), null);
    assert.equal(toE164(undefined), null);
  });

  it('takes the DID from the Request-URI, else the To user; the caller from P-Asserted-Identity, else From', () => {
    const a = invite('sip:14155550100@sbc.example;user=phone', {
      To: '<sip:fax@sbc.example>',
      From: '"A" <sip:anonymous@anonymous.invalid>;tag=1',
      'P-Asserted-Identity': '<tel:+12125551234>',
    });
    assert.equal(calledNumber(a), '+14155550100');
    assert.equal(callingNumber(a), '+12125551234');
    const b = invite('sip:fax@10.0.0.1', { To: '<sip:+14155550101@x>', From: '<sip:+4930123456@y>;tag=2' });
    assert.equal(calledNumber(b), '+14155550101');
    assert.equal(callingNumber(b), '+4930123456');
    const c = invite('sip:fax@10.0.0.1', { To: '<sip:fax@x>', From: '<sip:alice@y>;tag=3' });
    assert.equal(calledNumber(c), null);
    assert.equal(callingNumber(c), 'alice');
  });
});
