import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCSeq, parseVia } from './sip-header-values.ts';
import { callIdOf, cseqOf, fromOf, type SipRequest, toOf } from './sip-message.ts';
import { SipParseError } from './sip-parse-error.ts';
import { parseSipMessage } from './sip-parser.ts';
import { serializeSipMessage } from './sip-serializer.ts';
import { SipStreamFramer } from './sip-stream-framer.ts';
import {
  CISCO_INVITE,
  crlf,
  OPTIONS_REQUEST,
  RINGING_RESPONSE,
  SEED_MESSAGES,
  TORTURE_INVITE,
} from './sip-test-messages.ts';
import { formatUri, isSipUri, parseNameAddr, parseSipUri } from './sip-uri.ts';

const bytes = (s: string) => Buffer.from(s, 'utf8');

function parseError(text: string | Buffer, limits = {}): SipParseError {
  try {
    parseSipMessage(typeof text === 'string' ? bytes(text) : text, limits);
  } catch (err) {
    assert.ok(err instanceof SipParseError, `unexpected ${String(err)}`);
    return err;
  }
  assert.fail('expected a SipParseError');
}

const MINIMAL = [
  'BYE sip:a@example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx',
  'From: <sip:b@example.com>;tag=1',
  'To: <sip:a@example.com>;tag=2',
  'Call-ID: c1',
  'CSeq: 2 BYE',
  'Max-Forwards: 70',
];

describe('SIP parser', () => {
  it('parses a Cisco INVITE with its SDP body', () => {
    const msg = parseSipMessage(bytes(CISCO_INVITE)) as SipRequest;
    assert.equal(msg.kind, 'request');
    assert.equal(msg.method, 'INVITE');
    assert.equal(msg.uri, 'sip:+4930123456@198.51.100.7:5060');
    assert.deepEqual(cseqOf(msg), { seq: 101, method: 'INVITE' });
    assert.equal(fromOf(msg).params.get('tag'), '3F2E1D-9C');
    assert.equal(msg.headers.getAll('allow').length, 12);
    assert.equal(msg.headers.getAll('supported')[1], 'timer');
    assert.match(msg.body.toString(), /^v=0\r\n/);
    assert.match(msg.body.toString(), /telephone-event\/8000\r\n$/);
    assert.equal(msg.headers.get('date'), 'Mon, 23 Nov 2026 10:00:00 GMT');
  });

  it('parses the whitespace/compact-form torture INVITE', () => {
    const msg = parseSipMessage(bytes(TORTURE_INVITE)) as SipRequest;
    assert.equal(toOf(msg).params.get('tag'), '1918181833n');
    const from = fromOf(msg);
    assert.equal(from.displayName, 'J Rosenberg \\"');
    assert.equal(from.params.get('tag'), '98asjd8');
    assert.equal(msg.headers.get('max-forwards'), '0068');
    assert.deepEqual(cseqOf(msg), { seq: 9, method: 'INVITE' });
    const vias = msg.headers.getAll('via').map(parseVia);
    assert.equal(vias.length, 3);
    assert.equal(vias[0]!.transport, 'UDP');
    assert.equal(vias[0]!.host, '192.0.2.2');
    assert.equal(vias[0]!.params.get('branch'), '390skdjuw');
    assert.equal(vias[1]!.port, 5061);
    assert.equal(vias[2]!.host, '[2001:db8::10]');
    assert.equal(vias[2]!.params.get('received'), '192.0.2.4');
    assert.equal(msg.headers.get('subject'), '');
    assert.equal(msg.headers.get('newfangledheader'), 'newfangled value continued newfangled value');
    const contact = parseNameAddr(msg.headers.get('contact')!);
    assert.equal(contact.displayName, 'Quoted string ""');
    assert.equal(contact.params.get('newparam'), 'newvalue');
    assert.equal(contact.params.get('q'), '0.33');
    assert.equal(contact.params.has('secondparam'), true);
  });

  it('expands compact forms and keeps rport without a value', () => {
    const msg = parseSipMessage(bytes(OPTIONS_REQUEST));
    assert.equal(callIdOf(msg), 'opt-1@127.0.0.1');
    const via = parseVia(msg.headers.get('Via')!);
    assert.equal(via.transport, 'TCP');
    assert.equal(via.params.get('rport'), null);
    assert.equal(via.params.has('rport'), true);
  });

  it('parses a response with Record-Route list', () => {
    const msg = parseSipMessage(bytes(RINGING_RESPONSE));
    assert.equal(msg.kind, 'response');
    if (msg.kind !== 'response') return;
    assert.equal(msg.status, 180);
    assert.equal(msg.reason, 'Ringing');
    assert.deepEqual(msg.headers.getAll('record-route'), [
      '<sip:198.51.100.1;lr>',
      '<sip:198.51.100.2;lr;ftag=x>',
    ]);
  });

  it('round-trips through the serializer', () => {
    for (const text of SEED_MESSAGES) {
      const first = parseSipMessage(bytes(text));
      const wire = serializeSipMessage(first);
      const second = parseSipMessage(wire);
      const withoutLength = (m: typeof first) =>
        [...m.headers.entries()].filter(([n]) => n !== 'Content-Length');
      assert.deepEqual(withoutLength(second), withoutLength(first));
      assert.deepEqual(second.body, first.body);
      assert.deepEqual(serializeSipMessage(second), wire);
    }
  });

  it('writes canonical names and one Content-Length', () => {
    const msg = parseSipMessage(bytes(OPTIONS_REQUEST));
    const text = serializeSipMessage(msg).toString();
    assert.match(text, /\r\nVia: SIP\/2.0\/TCP/);
    assert.match(text, /\r\nCall-ID: opt-1@127.0.0.1\r\n/);
    assert.equal(text.match(/Content-Length/g)?.length, 1);
    assert.ok(text.endsWith('Content-Length: 0\r\n\r\n'));
  });

  it('ignores leading CRLFs and truncates a body longer than Content-Length', () => {
    const msg = parseSipMessage(bytes(`\r\n\r\n${crlf([...MINIMAL, 'Content-Length: 3', '', 'abcdef'])}`));
    assert.equal(msg.body.toString(), 'abc');
  });

  const cases: Array<[string, string, string, number]> = [
    [
      'missing Call-ID',
      crlf([...MINIMAL.filter((l) => !l.startsWith('Call-ID')), '', '']),
      'missing-header',
      400,
    ],
    [
      'CSeq method mismatch',
      crlf([...MINIMAL.map((l) => l.replace('2 BYE', '2 INVITE')), '', '']),
      'bad-cseq',
      400,
    ],
    [
      'CSeq out of range',
      crlf([...MINIMAL.map((l) => l.replace('2 BYE', '2147483648 BYE')), '', '']),
      'bad-cseq',
      400,
    ],
    ['short body', crlf([...MINIMAL, 'Content-Length: 50', '', 'short']), 'truncated-body', 400],
    ['negative Content-Length', crlf([...MINIMAL, 'Content-Length: -1', '', '']), 'bad-content-length', 400],
    [
      'bad version',
      crlf([...MINIMAL.map((l, i) => (i === 0 ? l.replace('SIP/2.0', 'SIP/7.0') : l)), '', '']),
      'bad-version',
      505,
    ],
    [
      'extra spaces in request line',
      crlf([...MINIMAL.map((l, i) => (i === 0 ? l.replace(' ', '  ') : l)), '', '']),
      'bad-start-line',
      400,
    ],
    [
      'bad Via',
      crlf([...MINIMAL.map((l) => (l.startsWith('Via') ? 'Via: SIP/2.0/UDP' : l)), '', '']),
      'bad-via',
      400,
    ],
    [
      'bad Max-Forwards',
      crlf([...MINIMAL.map((l) => l.replace('70', '300')), '', '']),
      'bad-max-forwards',
      400,
    ],
    [
      'unterminated quote',
      crlf([...MINIMAL.map((l) => (l.startsWith('From') ? 'From: "x <sip:b@e.com>;tag=1' : l)), '', '']),
      'bad-name-addr',
      400,
    ],
    [
      'bad Request-URI',
      crlf([...MINIMAL.map((l, i) => (i === 0 ? 'BYE sip:a@exa mple SIP/2.0' : l)), '', '']),
      'bad-start-line',
      400,
    ],
    [
      'bad host in URI',
      crlf([...MINIMAL.map((l, i) => (i === 0 ? 'BYE sip:a@exa_mple SIP/2.0' : l)), '', '']),
      'bad-uri',
      400,
    ],
    ['no header end', crlf(MINIMAL), 'bad-start-line', 400],
    ['header without colon', crlf([...MINIMAL, 'Foo', '', '']), 'bad-header', 400],
    [
      'conflicting Content-Length',
      crlf([...MINIMAL, 'Content-Length: 0', 'l: 2', '', 'ab']),
      'bad-header',
      400,
    ],
  ];
  for (const [name, text, code, status] of cases) {
    it(`rejects ${name} with ${code}`, () => {
      const err = parseError(text);
      assert.equal(err.code, code);
      assert.equal(err.status, status);
    });
  }

  it('keeps the readable part of a malformed request so a 400 can be sent', () => {
    const err = parseError(crlf([...MINIMAL.map((l) => l.replace('2 BYE', '2 INVITE')), '', '']));
    assert.equal(err.partial?.kind, 'request');
    assert.equal(err.partial?.headers.get('call-id'), 'c1');
  });

  it('enforces size limits', () => {
    assert.equal(parseError(Buffer.alloc(70000, 0x41)).code, 'message-too-large');
    assert.equal(parseError(Buffer.alloc(70000, 0x41)).status, 513);
    const longLine = crlf([...MINIMAL, `X-Long: ${'a'.repeat(9000)}`, '', '']);
    assert.equal(parseError(longLine).code, 'line-too-long');
    const many = crlf([...MINIMAL, ...Array.from({ length: 300 }, (_, i) => `X-H${i}: v`), '', '']);
    assert.equal(parseError(many).code, 'too-many-headers');
    const bigBody = crlf([...MINIMAL, 'Content-Length: 40000', '', 'x'.repeat(40000)]);
    assert.equal(parseError(bigBody).status, 413);
    assert.equal(
      parseError(crlf([...MINIMAL, '', 'abc']), { requireContentLength: true }).code,
      'bad-content-length',
    );
  });

  it('rejects bytes that are not UTF-8 in the header section', () => {
    const text = bytes(crlf([...MINIMAL, 'Subject: X', '', '']));
    const i = text.indexOf('X\r\n\r\n');
    text[i] = 0xff;
    assert.equal(parseError(text).code, 'bad-encoding');
  });
});

describe('SIP URIs and header values', () => {
  it('parses full SIP URIs', () => {
    const uri = parseSipUri('sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x');
    assert.equal(uri.scheme, 'sips');
    assert.equal(uri.user, 'alice');
    assert.equal(uri.password, 'secret');
    assert.equal(uri.host, '[2001:db8::1]');
    assert.equal(uri.port, 5061);
    assert.equal(uri.params.get('transport'), 'tcp');
    assert.equal(uri.params.get('lr'), null);
    assert.equal(formatUri(uri), 'sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x');
    const escaped = parseSipUri('sip:%61lice;phone-context=x@example.com');
    assert.equal(escaped.user, '%61lice;phone-context=x');
  });

  it('keeps non-SIP URIs opaque and rejects bad ones', () => {
    const tel = parseNameAddr('<tel:+4930123;phone-context=+49>;tag=t');
    assert.equal(isSipUri(tel.uri), false);
    assert.equal(tel.params.get('tag'), 't');
    for (const bad of ['sip:', 'sip:a@', 'sip:a@host:99999', 'sip:a b@host', 'nocolon', 'sip:a@[::1']) {
      assert.throws(() => parseSipUri(bad), SipParseError, bad);
    }
  });

  it('treats addr-spec parameters as header parameters', () => {
    const na = parseNameAddr('sip:bob@example.com;tag=abc');
    assert.equal(na.params.get('tag'), 'abc');
    assert.equal((na.uri as { params: Map<string, string> }).params.size, 0);
  });

  it('parses CSeq strictly', () => {
    assert.deepEqual(parseCSeq('  42   REGISTER '), { seq: 42, method: 'REGISTER' });
    assert.throws(() => parseCSeq('x INVITE'), SipParseError);
    assert.throws(() => parseCSeq('1'), SipParseError);
  });
});

describe('SIP stream framing', () => {
  it('frames messages split across chunks, skipping keep-alives', () => {
    const one = crlf([...MINIMAL, 'Content-Length: 5', '', 'hello']);
    const two = crlf([...MINIMAL, 'l: 0', '', '']);
    const stream = bytes(`\r\n\r\n${one}${two}\r\n`);
    const framer = new SipStreamFramer();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 7) got.push(...framer.push(stream.subarray(i, i + 7)));
    assert.equal(got.length, 2);
    assert.equal(parseSipMessage(got[0]!, { requireContentLength: true }).body.toString(), 'hello');
    assert.equal(parseSipMessage(got[1]!, { requireContentLength: true }).body.length, 0);
    assert.equal(framer.buffered, 0);
  });

  it('rejects a stream without Content-Length or with an endless header section', () => {
    assert.throws(() => new SipStreamFramer().push(bytes(crlf([...MINIMAL, '', '']))), SipParseError);
    assert.throws(() => new SipStreamFramer(1000).push(Buffer.alloc(2000, 0x41)), SipParseError);
    assert.throws(() => new SipStreamFramer(1000, 100).push(bytes(crlf([...MINIMAL, 'l: 1000', '', '']))), {
      code: 'body-too-large',
    });
  });
});
