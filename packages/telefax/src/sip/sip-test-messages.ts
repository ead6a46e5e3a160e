/**
 * @module
 * Hand-written SIP messages shaped like those real equipment sends (and the RFC 4475 torture cases), shared by the
 * parser tests and the fuzzer as seeds.
 */

export function crlf(lines: readonly string[]): string {
  return lines.join('\r\n');
}

const SDP_BODY = crlf([
  'v=0',
  'o=- 1 1 IN IP4 192.0.2.10',
  's=-',
  'c=IN IP4 192.0.2.10',
  't=0 0',
  'm=audio 16384 RTP/AVP 0 8 101',
  'a=rtpmap:101 telephone-event/8000',
  '',
]);

/** An INVITE as a Cisco CUBE sends it towards a trunk. */
export const CISCO_INVITE = crlf([
  'INVITE sip:+4930123456@198.51.100.7:5060 SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1A2B3C;rport',
  'Remote-Party-ID: <sip:+4930999@192.0.2.10>;party=calling;screen=no;privacy=off',
  'From: <sip:+4930999@192.0.2.10>;tag=3F2E1D-9C',
  'To: <sip:+4930123456@198.51.100.7>',
  'Date: Mon, 23 Nov 2026 10:00:00 GMT',
  'Call-ID: 5B0F1E2A-8C1D11EF-8001A1B2-C3D4E5F6@192.0.2.10',
  'Supported: 100rel,timer,resource-priority,replaces,sdp-anat',
  'Min-SE:  1800',
  'Cisco-Guid: 1527700266-2350731759-2147590578-3285509622',
  'User-Agent: Cisco-SIPGateway/IOS-15.x',
  'Allow: INVITE, OPTIONS, BYE, CANCEL, ACK, PRACK, UPDATE, REFER, SUBSCRIBE, NOTIFY, INFO, REGISTER',
  'CSeq: 101 INVITE',
  'Timestamp: 1790000000',
  'Contact: <sip:+4930999@192.0.2.10:5060>',
  'Expires: 180',
  'Allow-Events: telephone-event',
  'Max-Forwards: 69',
  'Session-Expires:  1800',
  'Content-Type: application/sdp',
  'Content-Disposition: session;handling=required',
  `Content-Length: ${SDP_BODY.length}`,
  '',
  SDP_BODY,
]);

/** Compact forms, folded lines, several Vias on one line, escaped user part (RFC 4475 §3.1.1.1 in spirit). */
export const TORTURE_INVITE = crlf([
  'INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0',
  'TO :',
  ' sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n',
  'from   : "J Rosenberg \\\\\\"" <sip:jdrosen@example.com>',
  '  ;',
  '  tag = 98asjd8',
  'MaX-fOrWaRdS: 0068',
  'Call-ID: wsinv.ndaksdj@192.0.2.1',
  'Content-Length   : 0',
  'cseq: 0009',
  '  INVITE',
  'Via  : SIP  /   2.0',
  ' /UDP',
  '    192.0.2.2;branch=390skdjuw',
  's :',
  'NewFangledHeader:   newfangled value',
  ' continued newfangled value',
  'UnknownHeaderWithUnusualValue: ;;,,;;,;',
  'm:"Quoted string \\"\\"" <sip:jdrosen@example.com> ; newparam =',
  '      newvalue ;',
  '  secondparam ; q = 0.33',
  'v: SIP/2.0/TCP 192.0.2.3:5061;branch=z9hG4bKaaa, SIP/2.0/UDP [2001:db8::10]:5070;branch=z9hG4bKbbb;received=192.0.2.4',
  '',
  '',
]);

export const OPTIONS_REQUEST = crlf([
  'OPTIONS sip:fax@127.0.0.1:5080;transport=tcp SIP/2.0',
  'v: SIP/2.0/TCP 127.0.0.1:40000;branch=z9hG4bKopt1;rport',
  'f: <sip:probe@127.0.0.1>;tag=p1',
  't: <sip:fax@127.0.0.1>',
  'i: opt-1@127.0.0.1',
  'CSeq: 1 OPTIONS',
  'Max-Forwards: 70',
  'l: 0',
  '',
  '',
]);

export const RINGING_RESPONSE = crlf([
  'SIP/2.0 180 Ringing',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK1A2B3C;rport=5060;received=192.0.2.10',
  'Record-Route: <sip:198.51.100.1;lr>, <sip:198.51.100.2;lr;ftag=x>',
  'From: <sip:+4930999@192.0.2.10>;tag=3F2E1D-9C',
  'To: <sip:+4930123456@198.51.100.7>;tag=as58f4201b',
  'Call-ID: 5B0F1E2A-8C1D11EF-8001A1B2-C3D4E5F6@192.0.2.10',
  'CSeq: 101 INVITE',
  'Contact: <sip:+4930123456@198.51.100.7:5060>',
  'Content-Length: 0',
  '',
  '',
]);

export const SEED_MESSAGES: readonly string[] = [
  CISCO_INVITE,
  TORTURE_INVITE,
  OPTIONS_REQUEST,
  RINGING_RESPONSE,
];

/** Deterministic xorshift so a failure reproduces. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const INTERESTING = [
  ':',
  ';',
  ',',
  '"',
  '<',
  '>',
  '\r\n',
  '\r\n ',
  '\\',
  '=',
  '@',
  '[',
  ']',
  '%',
  '\0',
  '\xff',
  ' ',
];

export function mutate(input: Buffer, random: () => number): Buffer {
  let out = Buffer.from(input);
  const rounds = 1 + Math.floor(random() * 6);
  for (let r = 0; r < rounds; r++) {
    const pos = Math.floor(random() * (out.length + 1));
    switch (Math.floor(random() * 7)) {
      case 0:
        if (out.length > 0) out[Math.min(pos, out.length - 1)] = Math.floor(random() * 256);
        break;
      case 1:
        out = Buffer.concat([out.subarray(0, pos), out.subarray(pos + 1 + Math.floor(random() * 20))]);
        break;
      case 2: {
        const s = INTERESTING[Math.floor(random() * INTERESTING.length)]!;
        out = Buffer.concat([out.subarray(0, pos), Buffer.from(s, 'latin1'), out.subarray(pos)]);
        break;
      }
      case 3:
        out = out.subarray(0, pos);
        break;
      case 4: {
        const from = Math.floor(random() * out.length);
        const chunk = out.subarray(from, from + Math.floor(random() * 80));
        out = Buffer.concat([out.subarray(0, pos), chunk, out.subarray(pos)]);
        break;
      }
      case 5: {
        const digits = String(Math.floor(random() * 2 ** 40));
        out = Buffer.concat([out.subarray(0, pos), Buffer.from(digits), out.subarray(pos)]);
        break;
      }
      default: {
        const lines = out.toString('latin1').split('\r\n');
        const a = Math.floor(random() * lines.length);
        lines.splice(Math.floor(random() * lines.length), 0, lines[a]!);
        out = Buffer.from(lines.join('\r\n'), 'latin1');
      }
    }
  }
  return out;
}

/** Polls until `condition` holds; rejects after `timeoutMs` so a broken behaviour fails instead of hanging. */
export async function waitFor(condition: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
