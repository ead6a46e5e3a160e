import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildAuthorization,
  computeDigestResponse,
  parseDigestChallenge,
  verifyAuthorization,
} from './digest-auth.ts';
import { SipParseError } from './sip-parse-error.ts';

describe('digest authentication', () => {
  it('matches the RFC 2617 §3.5 example (MD5, qop=auth)', () => {
    const response = computeDigestResponse({
      method: 'GET',
      uri: '/dir/index.html',
      username: 'Mufasa',
      password: 'Circle Of Life',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      algorithm: 'MD5',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
    });
    assert.equal(response, '6629fae49393a05397450978507c4ef1');
  });

  it('matches the RFC 7616 §3.9.1 example (SHA-256)', () => {
    const response = computeDigestResponse({
      method: 'GET',
      uri: '/dir/index.html',
      username: 'Mufasa',
      password: 'Circle of Life',
      realm: 'http-auth@example.org',
      nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
      algorithm: 'SHA-256',
      qop: 'auth',
      nc: '00000001',
      cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
    });
    assert.equal(response, '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1');
  });

  it('parses challenges as Asterisk and Kamailio write them', () => {
    const c = parseDigestChallenge(
      'Digest  realm="asterisk",nonce="1700000000/5f1c",opaque="4fa1",algorithm=md5,qop="auth,auth-int", stale=TRUE',
    );
    assert.equal(c.realm, 'asterisk');
    assert.equal(c.nonce, '1700000000/5f1c');
    assert.equal(c.algorithm, 'MD5');
    assert.deepEqual(c.qop, ['auth', 'auth-int']);
    assert.equal(c.stale, true);
    assert.throws(() => parseDigestChallenge('Basic realm="x"'), SipParseError);
    assert.throws(() => parseDigestChallenge('Digest realm="x'), SipParseError);
  });

  for (const algorithm of ['MD5', 'SHA-256', 'MD5-sess']) {
    it(`round-trips ${algorithm} credentials through verification`, () => {
      const challenge = parseDigestChallenge(
        `Digest realm="faxwire", nonce="n1", qop="auth", algorithm=${algorithm}`,
      );
      const header = buildAuthorization(
        challenge,
        { username: 'fax', password: 's3cret' },
        { method: 'REGISTER', uri: 'sip:127.0.0.1' },
      );
      const pw = (u: string) => (u === 'fax' ? 's3cret' : undefined);
      assert.equal(verifyAuthorization(header, { method: 'REGISTER' }, pw).ok, true);
      assert.equal(verifyAuthorization(header, { method: 'INVITE' }, pw).ok, false);
      assert.equal(verifyAuthorization(header, { method: 'REGISTER' }, () => 'wrong').ok, false);
    });
  }
});
