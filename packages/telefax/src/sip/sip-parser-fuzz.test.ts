import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseDigestChallenge } from './digest-auth.ts';
import { parseSdp, serializeSdp } from './sdp.ts';
import { activeMedia } from './sdp-offer-answer.ts';
import { parseT38Params } from './sdp-t38.ts';
import { SipParseError } from './sip-parse-error.ts';
import { parseSipMessage } from './sip-parser.ts';
import { serializeSipMessage } from './sip-serializer.ts';
import { SipStreamFramer } from './sip-stream-framer.ts';
import { mutate, rng, SEED_MESSAGES } from './sip-test-messages.ts';

it('parser survives 6000 mutated messages: SipParseError or a message that re-parses', () => {
  const random = rng(0x5eed);
  const seeds = SEED_MESSAGES.map((s) => Buffer.from(s));
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < 6000; i++) {
    const input = mutate(seeds[i % seeds.length]!, random);
    try {
      const msg = parseSipMessage(input);
      // Whatever we accept we must be able to write back out and read again.
      parseSipMessage(serializeSipMessage(msg));
      parsed++;
    } catch (err) {
      if (!(err instanceof SipParseError)) {
        assert.fail(`non-SipParseError ${String(err)} for ${JSON.stringify(input.toString('latin1'))}`);
      }
      rejected++;
    }
    const framer = new SipStreamFramer();
    try {
      for (let j = 0; j < input.length; j += 97) framer.push(input.subarray(j, j + 97));
    } catch (err) {
      assert.ok(err instanceof SipParseError, String(err));
    }
  }
  assert.ok(parsed > 100, `only ${parsed} mutants parsed`);
  assert.ok(rejected > 100, `only ${rejected} mutants rejected`);
});

it('SDP, T.38 attribute and digest challenge parsers survive mutations', () => {
  const random = rng(0xfa7);
  const sdpSeed = Buffer.from(
    [
      'v=0',
      'o=- 1 1 IN IP4 192.0.2.1',
      's=-',
      'c=IN IP4 192.0.2.1',
      't=0 0',
      'm=audio 4000 RTP/AVP 0 8',
      'm=image 4002 udptl t38',
      'a=T38FaxVersion:0',
      'a=T38MaxBitRate:14400',
      'a=T38FaxFillBitRemoval',
      'a=T38FaxUdpEC:t38UDPRedundancy',
      '',
    ].join('\r\n'),
  );
  const challengeSeed = Buffer.from('Digest realm="a", nonce="b", qop="auth", algorithm=SHA-256, opaque="c"');
  for (let i = 0; i < 3000; i++) {
    const text = mutate(sdpSeed, random).toString('latin1');
    try {
      const sdp = parseSdp(text);
      for (const m of sdp.media) parseT38Params(m.attributes);
      activeMedia(sdp);
      parseSdp(serializeSdp(sdp));
    } catch (err) {
      assert.ok(err instanceof SipParseError, String(err));
    }
    try {
      parseDigestChallenge(mutate(challengeSeed, random).toString('latin1'));
    } catch (err) {
      assert.ok(err instanceof SipParseError, String(err));
    }
  }
});
