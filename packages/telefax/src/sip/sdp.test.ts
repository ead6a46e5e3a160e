import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSdp, serializeSdp } from './sdp.ts';
import { activeMedia, answerOffer, t38ReOffer } from './sdp-offer-answer.ts';
import {
  buildT38Answer,
  DEFAULT_T38_CAPABILITIES,
  isT38Media,
  parseT38Params,
  t38OfferParams,
} from './sdp-t38.ts';
import { SipParseError } from './sip-parse-error.ts';

const sdp = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

/** Cisco IOS gateway T.38 re-INVITE (fax protocol t38, ls-redundancy 0): values as 0/1, low buffer/datagram. */
const CISCO_T38 = sdp([
  'v=0',
  'o=CiscoSystemsSIP-GW-UserAgent 4557 1234 IN IP4 192.0.2.10',
  's=SIP Call',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=image 17232 udptl t38',
  'c=IN IP4 192.0.2.10',
  'a=T38FaxVersion:0',
  'a=T38MaxBitRate:7200',
  'a=T38FaxFillBitRemoval:0',
  'a=T38FaxTranscodingMMR:0',
  'a=T38FaxTranscodingJBIG:0',
  'a=T38FaxRateManagement:transferredTCF',
  'a=T38FaxMaxBuffer:200',
  'a=T38FaxMaxDatagram:180',
  'a=T38FaxUdpEC:t38UDPRedundancy',
]);

/** Asterisk (chan_pjsip) re-INVITE: audio kept at port 0 before the image line. */
const ASTERISK_T38 = sdp([
  'v=0',
  'o=- 1912512 1912514 IN IP4 203.0.113.5',
  's=Asterisk',
  'c=IN IP4 203.0.113.5',
  't=0 0',
  'm=audio 0 RTP/AVP 0',
  'm=image 4396 udptl t38',
  'c=IN IP4 203.0.113.5',
  'a=T38FaxVersion:0',
  'a=T38MaxBitRate:14400',
  'a=T38FaxRateManagement:transferredTCF',
  'a=T38FaxMaxDatagram:400',
  'a=T38FaxUdpEC:t38UDPRedundancy',
]);

/** rtpengine T.38 gateway: note the `localTFC` typo and lower-case attribute names from some configs. */
const RTPENGINE_T38 = sdp([
  'v=0',
  'o=- 1545997027 3 IN IP4 198.51.100.20',
  's=tester',
  't=0 0',
  'm=image 30000 udptl t38',
  'c=IN IP4 198.51.100.20',
  'a=t38faxversion:0',
  'a=T38MaxBitRate:14400',
  'a=T38FaxRateManagement:localTFC',
  'a=T38FaxMaxBuffer:1800',
  'a=T38FaxMaxDatagram:512',
  'a=T38FaxUdpEC:t38UDPFEC',
  'a=sendrecv',
]);

/** FreeSWITCH mod_spandsp re-INVITE: bare booleans, legacy T38FaxMaxRate alias, version 1. */
const FREESWITCH_T38 = sdp([
  'v=0',
  'o=FreeSWITCH 1700000000 1700000002 IN IP4 192.0.2.30',
  's=FreeSWITCH',
  'c=IN IP4 192.0.2.30',
  't=0 0',
  'm=image 24000 udptl t38',
  'a=T38FaxVersion:1',
  'a=T38FaxMaxRate:9600',
  'a=T38FaxFillBitRemoval',
  'a=T38FaxTranscodingMMR',
  'a=T38FaxRateManagement:transferredTCF',
  'a=T38MaxDatagram:160',
  'a=T38FaxUdpEC:t38UDPRedundancy',
]);

/** DIDWW-style initial INVITE offering audio and T.38 at once. */
const DIDWW_DUAL = sdp([
  'v=0',
  'o=DIDWW 8849 8849 IN IP4 46.19.208.1',
  's=Talk',
  'c=IN IP4 46.19.208.1',
  't=0 0',
  'm=audio 30184 RTP/AVP 8 0 101',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:101 telephone-event/8000',
  'a=fmtp:101 0-16',
  'a=ptime:20',
  'm=image 30186 udptl t38',
  'a=T38FaxVersion:0',
  'a=T38MaxBitRate:14400',
  'a=T38FaxRateManagement:transferredTCF',
  'a=T38FaxMaxBuffer:262',
  'a=T38FaxMaxDatagram:90',
  'a=T38FaxUdpEC:t38UDPRedundancy',
]);

const ORIGIN = { address: '127.0.0.1', sessionId: '42', sessionVersion: 1 };

describe('SDP', () => {
  it('parses and re-serializes a description byte-exactly when written in canonical order', () => {
    for (const text of [CISCO_T38, ASTERISK_T38, FREESWITCH_T38, DIDWW_DUAL]) {
      assert.equal(serializeSdp(parseSdp(text)), text);
    }
  });

  it('accepts LF-only line ends and rejects non-SDP', () => {
    assert.equal(parseSdp(CISCO_T38.replace(/\r\n/g, '\n')).media.length, 1);
    assert.throws(() => parseSdp('hello'), SipParseError);
    assert.throws(() => parseSdp('v=0\r\ns=x\r\n'), { code: 'bad-sdp' });
    assert.throws(() => parseSdp('v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\nm=audio x RTP/AVP 0\r\n'), {
      code: 'bad-sdp',
    });
  });

  it('reads Cisco T.38 parameters with :0 booleans', () => {
    const media = parseSdp(CISCO_T38).media[0]!;
    assert.ok(isT38Media(media));
    const p = parseT38Params(media.attributes);
    assert.equal(p.version, 0);
    assert.equal(p.maxBitRate, 7200);
    assert.equal(p.fillBitRemoval, false);
    assert.equal(p.transcodingMmr, false);
    assert.equal(p.rateManagement, 'transferredTCF');
    assert.equal(p.maxBuffer, 200);
    assert.equal(p.maxDatagram, 180);
    assert.equal(p.udpEc, 't38UDPRedundancy');
  });

  it('reads rtpengine parameters, keeping its unknown rate management value', () => {
    const p = parseT38Params(parseSdp(RTPENGINE_T38).media[0]!.attributes);
    assert.equal(p.version, 0);
    assert.equal(p.rateManagement, undefined);
    assert.equal(p.rateManagementText, 'localTFC');
    assert.equal(p.maxDatagram, 512);
    assert.equal(p.udpEc, 't38UDPFEC');
    assert.deepEqual(p.otherAttributes, [{ name: 'sendrecv' }]);
  });

  it('reads FreeSWITCH bare booleans and legacy names', () => {
    const p = parseT38Params(parseSdp(FREESWITCH_T38).media[0]!.attributes);
    assert.equal(p.version, 1);
    assert.equal(p.maxBitRate, 9600);
    assert.equal(p.maxDatagram, 160);
    assert.equal(p.fillBitRemoval, true);
    assert.equal(p.transcodingMmr, true);
    assert.equal(p.transcodingJbig, false);
  });

  it('finds the active image stream of an Asterisk re-INVITE', () => {
    const active = activeMedia(parseSdp(ASTERISK_T38));
    assert.equal(active.audio, undefined);
    assert.equal(active.t38?.address, '203.0.113.5');
    assert.equal(active.t38?.port, 4396);
  });

  it('answers T.38: min version and rate, transferredTCF, booleans only if offered and supported', () => {
    const caps = { ...DEFAULT_T38_CAPABILITIES, version: 3, fillBitRemoval: true, transcodingMmr: false };
    const fs = buildT38Answer(parseT38Params(parseSdp(FREESWITCH_T38).media[0]!.attributes), caps);
    assert.equal(fs.version, 1);
    assert.equal(fs.maxBitRate, 9600);
    assert.equal(fs.rateManagement, 'transferredTCF');
    assert.equal(fs.fillBitRemoval, true);
    assert.equal(fs.transcodingMmr, false);
    const cisco = buildT38Answer(parseT38Params(parseSdp(CISCO_T38).media[0]!.attributes), caps);
    assert.equal(cisco.fillBitRemoval, false);
    assert.equal(cisco.maxBitRate, 7200);
    const rtp = buildT38Answer(parseT38Params(parseSdp(RTPENGINE_T38).media[0]!.attributes));
    assert.equal(rtp.rateManagement, 'transferredTCF');
    assert.equal(rtp.udpEc, 't38UDPRedundancy', 'FEC not supported locally: answer redundancy');
  });

  it('answers a dual audio+image offer with the image stream and audio port 0', () => {
    const answer = answerOffer(parseSdp(DIDWW_DUAL), { origin: ORIGIN, audioPort: 20000, t38Port: 20002 });
    assert.equal(answer.accepted, 't38');
    assert.equal(answer.sdp.media.length, 2);
    assert.equal(answer.sdp.media[0]!.port, 0);
    assert.equal(answer.sdp.media[1]!.port, 20002);
    assert.equal(answer.t38?.port, 30186);
    assert.equal(answer.t38?.local.maxDatagram, 400);
    const text = serializeSdp(answer.sdp);
    assert.match(text, /\r\nm=audio 0 RTP\/AVP 8\r\nm=image 20002 udptl t38\r\na=T38FaxVersion:0\r\n/);
    assert.match(text, /a=T38FaxRateManagement:transferredTCF/);
  });

  it('answers a dual offer with audio when audio is preferred, keeping the offerer codec order', () => {
    const answer = answerOffer(parseSdp(DIDWW_DUAL), {
      origin: ORIGIN,
      audioPort: 20000,
      t38Port: 20002,
      prefer: 'audio',
    });
    assert.equal(answer.accepted, 'audio');
    assert.equal(answer.audio?.codec, 'PCMA');
    assert.deepEqual(answer.sdp.media[0]!.formats, ['8', '101']);
    assert.equal(answer.sdp.media[1]!.port, 0);
  });

  it('declines everything when nothing is common', () => {
    const answer = answerOffer(parseSdp(CISCO_T38), { origin: ORIGIN, audioPort: 20000 });
    assert.equal(answer.accepted, null);
    assert.equal(answer.sdp.media[0]!.port, 0);
  });

  it('builds a re-offer that keeps the audio line at port 0', () => {
    const first = answerOffer(parseSdp(DIDWW_DUAL), {
      origin: ORIGIN,
      audioPort: 20000,
      prefer: 'audio',
    }).sdp;
    const reoffer = t38ReOffer({ ...ORIGIN, sessionVersion: 2 }, first, 20002, t38OfferParams());
    const text = serializeSdp(reoffer);
    assert.match(text, /o=- 42 2 IN IP4 127.0.0.1/);
    assert.match(text, /m=audio 0 RTP\/AVP 8 101\r\n/);
    assert.match(text, /m=image 20002 udptl t38\r\n/);
    assert.equal(activeMedia(parseSdp(text)).t38?.port, 20002);
  });
});
