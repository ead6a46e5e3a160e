/**
 * @module lines/carrier.test
 * One contract for every carrier (Kysely-style: the same cases loop over each implementation): the loopback
 * carrier, and a SIP trunk whose proxy is the loopback test far end and whose inbound side is called directly.
 * Outbound: a fax machine takes the pages, a busy line is `busy`. Inbound: the handler sees the DID and caller as
 * E.164, a refused call gets the handler's status, an accepted one carries pages pixel for pixel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { samplePage } from 'telefax/codec/sample-pages';
import { type BilevelPage, samePixels } from 'telefax/image/bilevel-page';
import { FaxCallError, placeFaxCall } from 'telefax/sip/fax-call';
import { UserAgent } from 'telefax/sip/user-agent';
import { UdptlEndpoint } from 'telefax/t38/udptl-endpoint';
import type { Carrier, CarrierCall, InboundCallHandler, InboundCallOffer } from './carrier.ts';
import { LoopbackCarrier } from './loopback-carrier.ts';
import { LoopbackFarEnd } from './loopback-far-end.ts';
import { runT30OverCall } from './run-t30-over-call.ts';
import { SipTrunkCarrier } from './sip-trunk-carrier.ts';
import { testNumbersFrom } from './test-numbers.ts';
import { parseTrunks } from './trunk-config.ts';

const RANGE = { first: '+14155550100', last: '+14155550199' };
const TEST_NUMBERS = testNumbersFrom('+14155550190');
const FAX_MACHINE = '+14155550190';
const BUSY = '+14155550191';
const PAGES: BilevelPage[] = [samplePage('text', 1728, 240, 5), samplePage('random', 1728, 100, 6)];

interface CarrierUnderTest {
  readonly carrier: Carrier;
  /** SIP URI that reaches the carrier's inbound side for `number`. */
  inboundUri(number: string): string;
  close(): Promise<void>;
}

interface Implementation {
  readonly name: string;
  start(): Promise<CarrierUnderTest>;
}

const IMPLEMENTATIONS: Implementation[] = [
  {
    name: 'LoopbackCarrier',
    async start() {
      const carrier = new LoopbackCarrier({ range: RANGE, testNumbers: TEST_NUMBERS, pacing: 'none' });
      return {
        carrier,
        inboundUri: (n) => `sip:${n}@127.0.0.1:${carrier.sipPort}`,
        close: () => carrier.close(),
      };
    },
  },
  {
    name: 'SipTrunkCarrier (IP-authenticated, proxy = the loopback far end)',
    async start() {
      const farEnd = await LoopbackFarEnd.start({ host: '127.0.0.1', numbers: TEST_NUMBERS, pacing: 'none' });
      const problems: string[] = [];
      const [config] = parseTrunks(
        JSON.stringify([
          {
            name: 'test',
            proxy: `sip:127.0.0.1:${farEnd.port}`,
            localHost: '127.0.0.1',
            localPort: 0,
            channels: 4,
            prefixes: ['+1415'],
            inboundFrom: ['127.0.0.1'],
            t38: { reinviteWaitMs: 200, switchTimeoutMs: 5000 },
          },
        ]),
        problems,
      );
      assert.deepEqual(problems, []);
      const carrier = await SipTrunkCarrier.start(config!, { pacing: 'none' });
      return {
        carrier,
        inboundUri: (n) => `sip:${n}@127.0.0.1:${carrier.sipPort}`,
        close: async () => {
          await carrier.close();
          await farEnd.close();
        },
      };
    },
  },
];

/** Records offers; accepts or refuses by number; receives the pages of answered calls. */
class RecordingHandler implements InboundCallHandler {
  readonly offers: InboundCallOffer[] = [];
  readonly refuse = new Map<string, number>();
  received: Promise<BilevelPage[]> | null = null;

  async offer(offer: InboundCallOffer): Promise<true | number> {
    this.offers.push(offer);
    return this.refuse.get(offer.to ?? '') ?? true;
  }

  answered(_offer: InboundCallOffer, call: CarrierCall): void {
    const pages: BilevelPage[] = [];
    this.received = runT30OverCall(call, { direction: 'receive', onPage: (p) => void pages.push(p) }).then(
      async (r) => {
        await call.udptl.close();
        assert.equal(r.outcome.ok, true, JSON.stringify(r.outcome));
        return pages;
      },
    );
  }

  failed(): void {}
}

async function sendOver(call: CarrierCall): Promise<void> {
  try {
    const { outcome } = await runT30OverCall(call, { direction: 'send', pages: PAGES });
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.equal(outcome.pages, PAGES.length);
  } finally {
    await call.udptl.close();
  }
}

for (const impl of IMPLEMENTATIONS) {
  describe(`carrier contract: ${impl.name}`, () => {
    let under: CarrierUnderTest;
    const handler = new RecordingHandler();
    let caller: UserAgent;

    before(async () => {
      under = await impl.start();
      await under.carrier.listen(handler);
      caller = await UserAgent.create({ host: '127.0.0.1', port: 0 });
    });
    after(async () => {
      await caller.close();
      await under.close();
    });

    it('routes the numbers it can dial', () => {
      assert.ok(under.carrier.routes(FAX_MACHINE) > 0);
      assert.equal(under.carrier.routes('+4930123456'), 0);
    });

    it('places a call to a fax machine and carries the pages', async () => {
      const call = await under.carrier.placeCall({
        to: FAX_MACHINE,
        from: '+14155550100',
        signal: new AbortController().signal,
      });
      await sendOver(call);
    });

    it('reports a busy line as busy', async () => {
      await assert.rejects(
        under.carrier.placeCall({ to: BUSY, from: '+14155550100', signal: new AbortController().signal }),
        (error: unknown) => error instanceof FaxCallError && error.reason === 'busy',
      );
    });

    it('offers an inbound call with its DID and caller as E.164, and carries its pages', async () => {
      const udptl = await UdptlEndpoint.open({ localAddress: '127.0.0.1' });
      const call = await placeFaxCall({
        target: under.inboundUri('+14155550100'),
        userAgent: caller,
        from: 'sip:14155550123@127.0.0.1',
        t38: { localPort: udptl.localPort, address: '127.0.0.1' },
        policy: { reinviteWaitMs: 200 },
      });
      await sendOver({ call, udptl, pacing: 'none' });
      const offer = handler.offers.at(-1)!;
      assert.equal(offer.to, '+14155550100');
      assert.equal(offer.from, '+14155550123');
      assert.equal(offer.carrierId, under.carrier.id);
      const pages = await handler.received!;
      assert.equal(pages.length, PAGES.length);
      for (let i = 0; i < pages.length; i++) assert.ok(samePixels(pages[i]!, PAGES[i]!), `page ${i + 1}`);
    });

    it('refuses an inbound call with the status the handler gives', async () => {
      handler.refuse.set('+14155550150', 404);
      const udptl = await UdptlEndpoint.open({ localAddress: '127.0.0.1' });
      try {
        await assert.rejects(
          placeFaxCall({
            target: under.inboundUri('+14155550150'),
            userAgent: caller,
            t38: { localPort: udptl.localPort, address: '127.0.0.1' },
          }),
          (error: unknown) => error instanceof FaxCallError && error.status === 404,
        );
      } finally {
        await udptl.close();
      }
    });
  });
}
