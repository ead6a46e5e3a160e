/**
 * @module lines/sip-trunk-carrier.test
 * What only a trunk does: register with digest credentials (RFC 3261 §10, §22) before it takes calls and remove
 * the binding when closed; dial through its dial plan; route an inbound DID through its DID table; and, when
 * IP-authenticated, refuse INVITEs from addresses that are not the carrier's (403).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { formatDigestChallenge, verifyAuthorization } from 'telefax/sip/digest-auth';
import { FaxCallError, placeFaxCall } from 'telefax/sip/fax-call';
import { parseSdp, serializeSdp } from 'telefax/sip/sdp';
import { audioMedia, createSessionDescription } from 'telefax/sip/sdp-offer-answer';
import { UserAgent } from 'telefax/sip/user-agent';
import { UdptlEndpoint } from 'telefax/t38/udptl-endpoint';
import type { InboundCallHandler, InboundCallOffer } from './carrier.ts';
import { SipTrunkCarrier } from './sip-trunk-carrier.ts';
import { dialUri, parseTrunks, type TrunkConfig } from './trunk-config.ts';

function trunk(fields: Record<string, unknown>): TrunkConfig {
  const problems: string[] = [];
  const [config] = parseTrunks(
    JSON.stringify([{ name: 't', localHost: '127.0.0.1', localPort: 0, ...fields }]),
    problems,
  );
  assert.deepEqual(problems, []);
  return config!;
}

const refuseAll = (offers: InboundCallOffer[]): InboundCallHandler => ({
  offer: async (offer) => {
    offers.push(offer);
    return 480;
  },
  answered: () => {},
  failed: () => {},
});

describe('SipTrunkCarrier', () => {
  const closing: Array<() => Promise<void>> = [];
  after(async () => {
    for (const close of closing.reverse()) await close();
  });

  it('registers with digest credentials and unregisters when closed', async () => {
    const registrar = await UserAgent.create({ host: '127.0.0.1', port: 0 });
    closing.push(() => registrar.close());
    const expires: string[] = [];
    registrar.onRequest = (request, respond) => {
      const auth = request.headers.get('authorization');
      const check = auth
        ? verifyAuthorization(auth, request, (u) => (u === 'fax1' ? 'secret' : undefined))
        : null;
      if (!check?.ok) {
        respond(401, { headers: [['WWW-Authenticate', formatDigestChallenge('carrier', 'n1')]] });
        return;
      }
      expires.push(request.headers.get('expires') ?? request.headers.get('contact')!);
      respond(200, { headers: [['Contact', `${request.headers.get('contact')!};expires=600`]] });
    };
    const carrier = await SipTrunkCarrier.start(
      trunk({
        proxy: `sip:127.0.0.1:${registrar.stack.port('UDP')}`,
        auth: 'register',
        username: 'fax1',
        password: 'secret',
        registerExpiresS: 600,
      }),
    );
    assert.equal(expires.length, 1);
    await carrier.close();
    assert.equal(expires.length, 2);
    assert.match(expires[1]!, /^0$|expires=0/);
  });

  it('a wrong password fails the start', async () => {
    const registrar = await UserAgent.create({ host: '127.0.0.1', port: 0 });
    closing.push(() => registrar.close());
    registrar.onRequest = (_request, respond) =>
      respond(401, { headers: [['WWW-Authenticate', formatDigestChallenge('carrier', 'n1')]] });
    await assert.rejects(
      SipTrunkCarrier.start(
        trunk({
          proxy: `sip:127.0.0.1:${registrar.stack.port('UDP')}`,
          auth: 'register',
          username: 'u',
          password: 'p',
        }),
      ),
    );
  });

  it('routes an inbound DID through its table and refuses callers not of the trunk (IP authentication)', async () => {
    const offers: InboundCallOffer[] = [];
    const carrier = await SipTrunkCarrier.start(
      trunk({ proxy: 'sip:127.0.0.1:9', inboundFrom: ['127.0.0.1'], dids: { '5550100': '+14155550100' } }),
    );
    closing.push(() => carrier.close());
    await carrier.listen(refuseAll(offers));
    const call = async (host: string, user: string) => {
      const ua = await UserAgent.create({ host, port: 0 });
      const udptl = await UdptlEndpoint.open({ localAddress: host });
      try {
        return await placeFaxCall({
          target: `sip:${user}@127.0.0.1:${carrier.sipPort}`,
          userAgent: ua,
          t38: { localPort: udptl.localPort, address: host },
        }).then(
          () => 200,
          (error: unknown) => (error instanceof FaxCallError ? (error.status ?? -1) : -2),
        );
      } finally {
        await udptl.close();
        await ua.close();
      }
    };
    assert.equal(await call('127.0.0.1', '5550100'), 480);
    assert.equal(offers.at(-1)?.to, '+14155550100');
    assert.equal(await call('127.0.0.2', '5550100'), 403);
    assert.equal(offers.length, 1, 'a refused source is not offered');
  });

  it('offers only the configured codecs: ["PCMA"] makes an audio m-line of payload types 8 and 101', async () => {
    const sbc = await UserAgent.create({ host: '127.0.0.1', port: 0 });
    closing.push(() => sbc.close());
    const offers: string[][] = [];
    sbc.onInvite = (invite) => {
      offers.push(invite.offer!.media.flatMap((m) => [m.type, ...m.formats]));
      invite.reject(486);
    };
    const carrier = await SipTrunkCarrier.start(
      trunk({ proxy: `sip:127.0.0.1:${sbc.stack.port('UDP')}`, codecs: ['PCMA'] }),
    );
    closing.push(() => carrier.close());
    await assert.rejects(
      carrier.placeCall({ to: '+14155550100', from: '+14155550199', signal: new AbortController().signal }),
      (error: unknown) => error instanceof FaxCallError && error.reason === 'busy',
    );
    assert.deepEqual(offers, [['audio', '8', '101']]);
  });

  it('answers only with its configured codecs: a PCMU-only offer to a PCMA trunk is refused with 488', async () => {
    const failed: string[] = [];
    const carrier = await SipTrunkCarrier.start(trunk({ proxy: 'sip:127.0.0.1:9', codecs: ['PCMA'] }));
    closing.push(() => carrier.close());
    await carrier.listen({
      offer: async () => true,
      answered: () => {},
      failed: (_o, reason) => failed.push(reason),
    });
    const ua = await UserAgent.create({ host: '127.0.0.1', port: 0 });
    closing.push(() => ua.close());
    const udptl = await UdptlEndpoint.open({ localAddress: '127.0.0.1' });
    closing.push(() => udptl.close());
    const status = await placeFaxCall({
      target: `sip:5550100@127.0.0.1:${carrier.sipPort}`,
      userAgent: ua,
      t38: { localPort: udptl.localPort, codecs: ['PCMU'] },
    }).then(
      () => 200,
      (error: unknown) => (error instanceof FaxCallError ? (error.status ?? -1) : -2),
    );
    assert.equal(status, 488);
    assert.deepEqual(failed, ['t38_not_supported']);
  });

  it('answers an offer of PCMU then PCMA with PCMA when configured with ["PCMA"]', async () => {
    const carrier = await SipTrunkCarrier.start(trunk({ proxy: 'sip:127.0.0.1:9', codecs: ['PCMA'] }));
    closing.push(() => carrier.close());
    await carrier.listen({
      offer: async () => true,
      answered: (_offer, taken) => closing.push(() => taken.udptl.close()),
      failed: () => {},
    });
    const ua = await UserAgent.create({ host: '127.0.0.1', port: 0 });
    closing.push(() => ua.close());
    const offer = createSessionDescription({ address: '127.0.0.1', sessionId: '3', sessionVersion: 1 }, [
      audioMedia(9, ['PCMU', 'PCMA']),
    ]);
    let answer: string[] = [];
    const dialog = await ua.invite(`sip:5550100@127.0.0.1:${carrier.sipPort}`, {
      sdp: serializeSdp(offer),
      onDialog: (d) => {
        answer = parseSdp(d.remoteSdp!).media.flatMap((m) => [m.type, ...m.formats]);
      },
    }).dialog;
    await dialog.bye('local-bye');
    assert.deepEqual(answer, ['audio', '8', '101']);
  });

  it('dials through its dial plan template', () => {
    const config = trunk({
      proxy: 'sip:sbc.example.net',
      prefixes: ['+1', '+1415'],
      dialTemplate: 'sip:{digits}@{domain};user=phone',
    });
    assert.equal(dialUri(config, '+14155550100'), 'sip:14155550100@sbc.example.net;user=phone');
    assert.equal(
      dialUri({ ...config, dialTemplate: 'sip:{e164}@{domain}' }, '+4930123'),
      'sip:+4930123@sbc.example.net',
    );
  });
});
