/**
 * Cases in the spirit of the RFC 4475 torture tests (our own literals): what must parse, and what must be rejected
 * with which status.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVia } from './sip-header-values.ts';
import { fromOf, type SipRequest, sdpBodyOf, toOf } from './sip-message.ts';
import { SipParseError } from './sip-parse-error.ts';
import { parseSipMessage } from './sip-parser.ts';
import { isSipUri, parseUri } from './sip-uri.ts';

function msg(startLine: string, headers: string[], body = ''): Buffer {
  return Buffer.from(
    [startLine, ...headers, `Content-Length: ${Buffer.byteLength(body)}`, '', body].join('\r\n'),
  );
}

const COMMON = [
  'Via: SIP/2.0/UDP 192.0.2.5;branch=z9hG4bKtort',
  'From: <sip:alice@example.com>;tag=al1',
  'To: <sip:bob@example.net>',
  'Call-ID: torture@192.0.2.5',
  'Max-Forwards: 70',
];

describe('torture-style messages that must parse', () => {
  it('escaped characters in the Request-URI user part', () => {
    const m = parseSipMessage(
      msg('INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0', [...COMMON, 'CSeq: 1 INVITE']),
    );
    assert.equal((m as SipRequest).uri, 'sip:sips%3Auser%40example.com@example.net');
  });

  it('an unusual but legal method name, matched by CSeq', () => {
    const method = '!interesting-Method0123456789_*+`.%~';
    const m = parseSipMessage(
      msg(`${method} sip:bob@example.net SIP/2.0`, [...COMMON, `CSeq: 3 ${method}`]),
    ) as SipRequest;
    assert.equal(m.method, method);
  });

  it('an unknown URI scheme in the Request-URI (the UA answers 416)', () => {
    const m = parseSipMessage(
      msg('OPTIONS nobodyKnowsThisScheme:totallyopaque SIP/2.0', [...COMMON, 'CSeq: 1 OPTIONS']),
    );
    assert.equal(isSipUri(parseUri((m as SipRequest).uri)), false);
  });

  it('a reason phrase with UTF-8 and punctuation, and an empty one', () => {
    const headers = [...COMMON, 'CSeq: 1 INVITE'];
    const r1 = parseSipMessage(msg('SIP/2.0 200 = 2**3 * 5**2 но сто девяносто девять', headers));
    assert.equal(r1.kind === 'response' && r1.reason, '= 2**3 * 5**2 но сто девяносто девять');
    const r2 = parseSipMessage(msg('SIP/2.0 100', headers));
    assert.equal(r2.kind === 'response' && r2.reason, '');
  });

  it('a display name without quotes and no space before <', () => {
    const m = parseSipMessage(
      msg('OPTIONS sip:bob@example.net SIP/2.0', [
        ...COMMON.filter((h) => !h.startsWith('From')),
        'From: caller<sip:caller@example.com>;tag=323',
        'CSeq: 1 OPTIONS',
      ]),
    );
    assert.equal(fromOf(m).displayName, 'caller');
    assert.equal(fromOf(m).params.get('tag'), '323');
  });

  it('an RFC 2543 request without a magic-cookie branch', () => {
    const m = parseSipMessage(
      msg('INVITE sip:bob@example.net SIP/2.0', [
        'Via: SIP/2.0/UDP 192.0.2.5',
        ...COMMON.slice(1),
        'CSeq: 1 INVITE',
      ]),
    );
    assert.equal(parseVia(m.headers.get('via')!).params.size, 0);
  });

  it('what phones and gateways write although it is not quite legal: UTF-8 display names, # in dialled digits', () => {
    const m = parseSipMessage(
      msg('INVITE sip:*97#@example.net SIP/2.0', [
        ...COMMON.filter((h) => !h.startsWith('From')),
        'From: Jürgen Müller (Fax) <sip:+49301234@example.com>;tag=j1',
        'CSeq: 1 INVITE',
      ]),
    );
    assert.equal(fromOf(m).displayName, 'Jürgen Müller (Fax)');
    assert.equal((parseUri((m as SipRequest).uri) as { user?: string }).user, '*97#');
  });

  it('SDP inside a multipart/mixed body (SIP-I: SDP next to ISUP)', () => {
    const sdp =
      'v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 8\r\n';
    const body = [
      '--unique-boundary-1',
      'Content-Type: application/sdp',
      '',
      `${sdp}`,
      '--unique-boundary-1',
      'Content-Type: application/ISUP;version=itu-t92+',
      'Content-Disposition: signal;handling=optional',
      '',
      '\x01\x00\x49\x00\x00\x03\x02\x00\x07',
      '--unique-boundary-1--',
      '',
    ].join('\r\n');
    const m = parseSipMessage(
      msg(
        'INVITE sip:bob@example.net SIP/2.0',
        [
          ...COMMON,
          'CSeq: 1 INVITE',
          'MIME-Version: 1.0',
          'Content-Type: multipart/mixed;boundary=unique-boundary-1',
        ],
        body,
      ),
    );
    assert.equal(sdpBodyOf(m), sdp);
  });

  it('To in addr-spec form with a tag', () => {
    const m = parseSipMessage(
      msg('BYE sip:bob@example.net SIP/2.0', [
        ...COMMON.filter((h) => !h.startsWith('To')),
        'To: sip:bob@example.net;tag=b1',
        'CSeq: 2 BYE',
      ]),
    );
    assert.equal(toOf(m).params.get('tag'), 'b1');
  });
});

describe('torture-style messages that must be rejected', () => {
  const cases: Array<[string, Buffer, number]> = [
    [
      'Request-URI in angle brackets',
      msg('INVITE <sip:bob@example.net> SIP/2.0', [...COMMON, 'CSeq: 1 INVITE']),
      400,
    ],
    [
      'LWS inside the Request-URI',
      msg('INVITE sip:bob@example.net; lr SIP/2.0', [...COMMON, 'CSeq: 1 INVITE']),
      400,
    ],
    [
      'trailing whitespace on the request line',
      msg('INVITE sip:bob@example.net SIP/2.0 ', [...COMMON, 'CSeq: 1 INVITE']),
      400,
    ],
    ['version 7.0', msg('INVITE sip:bob@example.net SIP/7.0', [...COMMON, 'CSeq: 1 INVITE']), 505],
    [
      'addr-spec with a ? outside angle brackets',
      msg('OPTIONS sip:bob@example.net SIP/2.0', [
        ...COMMON.filter((h) => !h.startsWith('To')),
        'To: sip:bob@example.net?Subject=foo',
        'CSeq: 1 OPTIONS',
      ]),
      400,
    ],
    [
      'unbalanced quotes in From',
      msg('OPTIONS sip:bob@example.net SIP/2.0', [
        ...COMMON.filter((h) => !h.startsWith('From')),
        'From: "Bob <sip:bob@example.com>;tag=1',
        'CSeq: 1 OPTIONS',
      ]),
      400,
    ],
    [
      'Max-Forwards beyond 255',
      msg('OPTIONS sip:bob@example.net SIP/2.0', [
        ...COMMON.slice(0, 4),
        'Max-Forwards: 300',
        'CSeq: 1 OPTIONS',
      ]),
      400,
    ],
    [
      'CSeq of 2**32',
      msg('OPTIONS sip:bob@example.net SIP/2.0', [...COMMON, 'CSeq: 4294967296 OPTIONS']),
      400,
    ],
  ];
  for (const [name, data, status] of cases) {
    it(name, () => {
      assert.throws(
        () => parseSipMessage(data),
        (err: unknown) => err instanceof SipParseError && err.status === status,
      );
    });
  }
});
