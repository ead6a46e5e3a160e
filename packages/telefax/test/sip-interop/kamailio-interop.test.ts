/**
 * @module kamailio-interop.test
 * Faxwire's SIP user agent against Kamailio (kamailio.cfg beside this file), the SIP proxy most carriers and PBX
 * front ends run: as a registrar (REGISTER answered 401, digest with the password, refresh before expiry, removal
 * with Expires: 0) and as a record-routing proxy in the middle of a fax call (INVITE answered 407, the callee found
 * by its registration, the T.38 re-INVITE, ACK and BYE loose-routed through Kamailio, RFC 3261 §16.12).
 * Skips with the reason when kamailio is not installed.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { samplePage } from '../../src/codec/sample-pages.ts';
import { samePixels } from '../../src/image/bilevel-page.ts';
import { readTiff } from '../../src/image/tiff-reader.ts';
import { writeTiff } from '../../src/image/tiff-writer.ts';
import type { SipMessage } from '../../src/sip/sip-message.ts';
import { SipRequestError } from '../../src/sip/sip-request-error.ts';
import { serializeSipMessage } from '../../src/sip/sip-serializer.ts';
import type { SipEndpoint } from '../../src/sip/transport.ts';
import { UserAgent } from '../../src/sip/user-agent.ts';
import { type KamailioProcess, kamailioBinary, startKamailio } from './kamailio.ts';
import { explain, lastJson, runTelefax, tracedMessages } from './telefax-cli.ts';

const skip = kamailioBinary() ? false : 'kamailio is not installed (Debian package kamailio)';

const PAGES = [
  samplePage('text', 1728, 300, 1),
  samplePage('random', 1728, 160, 2),
  samplePage('stripes', 1728, 240, 3),
];

let kamailio: KamailioProcess | undefined;
let dir = '';
let doc = '';

before(async () => {
  if (skip) return;
  kamailio = await startKamailio();
  dir = await mkdtemp(join(tmpdir(), 'faxwire-kamailio-test-'));
  doc = join(dir, 'doc.tif');
  await writeFile(doc, writeTiff(PAGES, { compression: 'mh' }));
});

after(async () => {
  await kamailio?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function kamailioLog(): string {
  return `\nkamailio log:\n${kamailio?.log().slice(-3000) ?? ''}`;
}

interface Traced {
  direction: 'in' | 'out';
  peer: SipEndpoint;
  text: string;
}

async function userAgent(contactUser: string, trace?: Traced[]): Promise<UserAgent> {
  return UserAgent.create({
    host: '127.0.0.1',
    port: 0,
    transports: ['UDP', 'TCP'],
    contactUser,
    ...(trace
      ? {
          trace: (direction: 'in' | 'out', message: SipMessage, peer: SipEndpoint) =>
            trace.push({ direction, peer, text: serializeSipMessage(message).toString('utf8') }),
        }
      : {}),
  });
}

for (const transport of ['udp', 'tcp'] as const) {
  test(`Kamailio as registrar over ${transport.toUpperCase()}: digest REGISTER, the binding routes requests to us, refresh keeps it, Expires: 0 removes it`, {
    skip,
  }, async () => {
    const k = kamailio!;
    const suffix = transport === 'tcp' ? ';transport=tcp' : '';
    const registrar = `sip:127.0.0.1:${k.port}${suffix}`;
    const trace: Traced[] = [];
    const fax = await userAgent('fax', trace);
    const alice = await userAgent('alice');
    const reached: string[] = [];
    fax.onRequest = (request, respond) => {
      reached.push(request.uri);
      respond(200);
    };
    // Out-of-dialog OPTIONS to the AOR: Kamailio relays it to the registered contact, or answers 404 itself.
    const probe = async () => (await alice.request('OPTIONS', `sip:fax@127.0.0.1:${k.port}${suffix}`)).status;
    try {
      assert.equal(await probe(), 404, `no binding yet${kamailioLog()}`);

      await assert.rejects(
        fax.register({
          registrar,
          aor: 'sip:fax@127.0.0.1',
          credentials: { username: 'fax', password: 'wrong' },
        }),
        (err: unknown) => err instanceof SipRequestError && err.code === 'auth_failed' && err.status === 401,
      );
      // Someone else's AOR with valid credentials of another user: the config answers 403.
      await assert.rejects(
        fax.register({
          registrar,
          aor: 'sip:alice@127.0.0.1',
          credentials: { username: 'fax', password: 'faxsecret' },
        }),
        (err: unknown) => err instanceof SipRequestError && err.status === 403,
      );

      const registration = await fax.register({
        registrar,
        aor: 'sip:fax@127.0.0.1',
        credentials: { username: 'fax', password: 'faxsecret' },
        expiresS: 2,
      });
      assert.equal(registration.expiresS, 2, 'Kamailio grants the 2 s asked for (min_expires 1)');
      const authorized = trace.find(
        (m) =>
          m.direction === 'out' &&
          m.text.startsWith('REGISTER ') &&
          /\r\nAuthorization: Digest /i.test(m.text),
      );
      assert.ok(authorized, 'a REGISTER with an Authorization header was sent');
      assert.match(authorized.text, /username="fax"/);
      assert.match(authorized.text, /realm="faxwire\.test"/);
      assert.equal(authorized.peer.protocol, transport.toUpperCase());

      assert.equal(await probe(), 200, `routed to the binding${kamailioLog()}`);
      assert.equal(reached.length, 1);
      assert.match(reached[0]!, /^sip:fax@127\.0\.0\.1:\d+/);

      // Past the 2 s expiry: only the refreshes keep the binding alive.
      await new Promise((r) => setTimeout(r, 2600));
      assert.ok(registration.refreshCount >= 2, `refreshed (${registration.refreshCount} REGISTERs)`);
      assert.equal(await probe(), 200, `still bound after the first expiry${kamailioLog()}`);

      await registration.stop();
      assert.equal(await probe(), 404, 'the binding is gone after Expires: 0');
    } finally {
      await alice.close();
      await fax.close();
    }
  });
}

const fast = ['--pace', 'none', '--json', '--local-address', '127.0.0.1', '--sip-trace'];

interface ProxyCase {
  transport: 'udp' | 'tcp';
  /** Who sends the T.38 re-INVITE: the called side (its route set is the Record-Route as received) or the caller (reversed). */
  reinvitedBy: 'callee' | 'caller';
  /** Both UAs send everything outside dialogs to Kamailio as outbound proxy (--proxy), the URIs name a domain. */
  outboundProxy?: boolean;
}

const proxyCases: ProxyCase[] = [
  { transport: 'udp', reinvitedBy: 'callee' },
  { transport: 'tcp', reinvitedBy: 'callee' },
  { transport: 'udp', reinvitedBy: 'caller' },
  { transport: 'udp', reinvitedBy: 'callee', outboundProxy: true },
];

for (const { transport, reinvitedBy, outboundProxy } of proxyCases) {
  const mode = outboundProxy ? ' as outbound proxy' : '';
  test(`a fax through Kamailio${mode} over ${transport.toUpperCase()}: 407 to the INVITE, the callee found by REGISTER, the ${reinvitedBy}'s T.38 re-INVITE and the BYE loose-routed`, {
    skip,
  }, async () => {
    const k = kamailio!;
    const out = join(dir, `out-${transport}-${reinvitedBy}${outboundProxy ? '-proxy' : ''}`);
    const proxyArgs = outboundProxy ? ['--proxy', `sip:127.0.0.1:${k.port}`] : [];
    const domain = outboundProxy ? 'faxwire.test' : `127.0.0.1:${k.port}`;
    const [calleePolicy, callerPolicy] =
      reinvitedBy === 'callee' ? [[], ['--no-reinvite']] : [['--no-reinvite'], ['--reinvite-wait-ms', '100']];
    const answer = runTelefax([
      'sip',
      'answer',
      '--sip-port',
      '0',
      '--out-dir',
      out,
      '--register',
      `sip:${domain}`,
      ...proxyArgs,
      '--user',
      'fax',
      '--password',
      'faxsecret',
      '--transport',
      transport,
      '--wait-s',
      '20',
      '--ident',
      'FAX RX',
      ...calleePolicy,
      ...fast,
    ]);
    await answer.ready;
    const call = runTelefax([
      'sip',
      'call',
      `sip:fax@${domain}`,
      doc,
      ...proxyArgs,
      '--user',
      'alice',
      '--password',
      'alicesecret',
      '--transport',
      transport,
      '--ident',
      'FAX TX',
      ...callerPolicy,
      ...fast,
    ]);
    const [rx, tx] = await Promise.all([answer.done, call.done]);
    assert.equal(tx.status, 0, `caller: ${explain(tx)}\ncallee: ${explain(rx)}${kamailioLog()}`);
    assert.equal(rx.status, 0, `callee: ${explain(rx)}${kamailioLog()}`);
    const txJson = lastJson(tx.stdout);
    const rxJson = lastJson(rx.stdout);
    assert.equal(txJson.pages, 3);
    assert.equal(txJson.remoteIdent, 'FAX RX');
    assert.equal(rxJson.remoteIdent, 'FAX TX');
    assert.equal(rxJson.sip.registered, true);
    const got = readTiff(await readFile(join(out, 'fax.tif'))).pages;
    assert.equal(got.length, PAGES.length);
    for (let i = 0; i < got.length; i++)
      assert.ok(samePixels(got[i]!.page, PAGES[i]!), `page ${i + 1} differs`);

    const proxy = `${transport.toUpperCase()} 127.0.0.1:${k.port}`;
    const callerSaw = tracedMessages(tx.stderr);
    const calleeSaw = tracedMessages(rx.stderr);
    // The caller's first INVITE is challenged by the proxy (407) and resent with Proxy-Authorization.
    assert.ok(
      callerSaw.some(
        (m) => m.direction === 'in' && /^SIP\/2\.0 407 /.test(m.text) && /CSeq: \d+ INVITE/.test(m.text),
      ),
    );
    assert.ok(
      callerSaw.some(
        (m) =>
          m.direction === 'out' &&
          m.text.startsWith('INVITE ') &&
          /\r\nProxy-Authorization: Digest /i.test(m.text),
      ),
    );
    // The initial INVITE reaches the callee at its registered Contact, any pre-loaded Route consumed by the proxy.
    const initial = calleeSaw.find(
      (m) => m.direction === 'in' && m.text.startsWith('INVITE ') && !/\r\nTo: [^\r]*;tag=/i.test(m.text),
    );
    assert.ok(initial, 'the callee received the INVITE');
    assert.match(initial.text, /^INVITE sip:fax@127\.0\.0\.1:\d+/);
    assert.doesNotMatch(initial.text, /\r\nRoute:/i);
    assert.match(initial.text, new RegExp(`\\r\\nRecord-Route: <sip:127\\.0\\.0\\.1:${k.port}[^>]*;lr`, 'i'));
    // The T.38 re-INVITE goes through the proxy, with the Record-Route as its Route set.
    const [sender, receiver] = reinvitedBy === 'callee' ? [calleeSaw, callerSaw] : [callerSaw, calleeSaw];
    const isT38Reinvite = (m: { text: string }) =>
      m.text.startsWith('INVITE ') &&
      /\r\nTo: [^\r]*;tag=/i.test(m.text) &&
      /\r\nm=image \d+ udptl t38/i.test(m.text);
    const reinvite = sender.find((m) => m.direction === 'out' && isT38Reinvite(m));
    assert.ok(
      reinvite,
      `the ${reinvitedBy} sent a T.38 re-INVITE\n${(reinvitedBy === 'callee' ? rx : tx).stderr.slice(-3000)}`,
    );
    assert.equal(reinvite.peer, proxy);
    assert.match(reinvite.text, new RegExp(`\\r\\nRoute: <sip:127\\.0\\.0\\.1:${k.port}[^>]*;lr`, 'i'));
    // Only one side re-INVITEs: no glare.
    assert.ok(!receiver.some((m) => m.direction === 'out' && isT38Reinvite(m)));
    const relayed = receiver.find((m) => m.direction === 'in' && isT38Reinvite(m));
    assert.ok(relayed, 'the other side received the T.38 re-INVITE');
    // Relayed by the proxy: its Via on top (over TCP it connects from an ephemeral port, so the source says less).
    assert.match(
      relayed.text,
      new RegExp(`\\r\\nVia: SIP/2\\.0/${transport.toUpperCase()} 127\\.0\\.0\\.1:${k.port};`, 'i'),
    );
    // The sender hangs up after DCN; its BYE goes through the proxy as well.
    const bye = callerSaw.find((m) => m.direction === 'out' && m.text.startsWith('BYE '));
    assert.ok(bye, 'the caller sent BYE');
    assert.equal(bye.peer, proxy);
  });
}

test('wrong passwords: the caller (407 twice) and the registering callee (401 twice) end with auth_failed, exit 1', {
  skip,
}, async () => {
  const k = kamailio!;
  const common = ['--pace', 'none', '--json', '--local-address', '127.0.0.1'];
  const [tx, rx] = await Promise.all([
    runTelefax([
      'sip',
      'call',
      `sip:fax@127.0.0.1:${k.port}`,
      doc,
      '--user',
      'alice',
      '--password',
      'wrong',
      ...common,
    ]).done,
    runTelefax([
      'sip',
      'answer',
      '--sip-port',
      '0',
      '--out-dir',
      join(dir, 'never'),
      '--register',
      `sip:127.0.0.1:${k.port}`,
      '--user',
      'fax',
      '--password',
      'wrong',
      ...common,
    ]).done,
  ]);
  for (const [run, status] of [
    [tx, 407],
    [rx, 401],
  ] as const) {
    assert.equal(run.status, 1, explain(run));
    const json = lastJson(run.stdout);
    assert.equal(json.reason, 'auth_failed', explain(run));
    assert.equal(json.sip.status, status);
    assert.match(run.stderr, /^telefax: auth_failed: /m);
  }
  assert.equal(lastJson(rx.stdout).sip.registered, false);
});
