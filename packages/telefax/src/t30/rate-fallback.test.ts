import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { samplePage } from '../codec/sample-pages.ts';
import { type BilevelPage, samePixels } from '../image/bilevel-page.ts';
import { T38Transport } from '../t38/t38-transport.ts';
import type { FaxOutcome } from './fax-outcome.ts';
import { createMemoryPortPair, type MemoryLinkFaults } from './memory-port-pair.ts';
import {
  AUDIO_RATE_FALLBACK,
  PACKET_RATE_FALLBACK,
  type RateFallbackCounts,
  resolveRateFallback,
} from './rate-fallback.ts';
import type { ReceivedPageInfo } from './t30-context.ts';
import type { LineMedium, T30Port } from './t30-port.ts';
import { T30Session } from './t30-session.ts';

const FAST = { t1: 3000, t2: 1500, t3: 1000, t4: 400, t5: 3000 };

interface Run {
  sender: FaxOutcome;
  receiver: FaxOutcome;
  received: BilevelPage[];
  infos: ReceivedPageInfo[];
  /** The modem of each TCF the sender sent, in order. */
  tcf: string[];
  /** What the receiver answered (CFR, FTT, MCF, RTP, RTN), in order. */
  answers: string[];
  receiverTrace: string[];
}

/** A non-ECM MR call from a V.17 sender to a V.17 receiver over the memory pair, faults on the sender's side. */
async function call(
  pages: BilevelPage[],
  rateFallback: LineMedium | RateFallbackCounts,
  faults: MemoryLinkFaults,
): Promise<Run> {
  const { a, b } = createMemoryPortPair({ a: faults });
  const run: Omit<Run, 'sender' | 'receiver'> = {
    received: [],
    infos: [],
    tcf: [],
    answers: [],
    receiverTrace: [],
  };
  const sender = new T30Session({
    port: a,
    direction: 'send',
    calling: true,
    pages,
    ecm: false,
    compression: 'mr',
    timers: FAST,
    rateFallback,
    onTrace: (e) => {
      if (e.dir === 'tx' && e.what.startsWith('TCF ')) run.tcf.push(e.what.slice(4));
    },
  });
  const receiver = new T30Session({
    port: b,
    direction: 'receive',
    calling: false,
    ecm: false,
    timers: FAST,
    onPage: (page, info) => {
      run.received.push(page);
      run.infos.push(info);
    },
    onTrace: (e) => {
      run.receiverTrace.push(`${e.dir} ${e.what}`);
      if (e.dir === 'tx' && /^(CFR|FTT|MCF|RTP|RTN)$/.test(e.what)) run.answers.push(e.what);
    },
  });
  const [s, r] = await Promise.all([sender.run(), receiver.run()]);
  return { sender: s, receiver: r, ...run };
}

function pagesOf(count: number): BilevelPage[] {
  return Array.from({ length: count }, (_, i) => samplePage('text', 1728, 400, 7 + i));
}

/**
 * Loses blocks of page data (TCF, all zeros, always arrives): `lost(attempt, block)` says whether block n (1-based,
 * the memory pair's 1024 octets) of the attempt-th page transmission goes missing.
 */
function losePageData(lost: (attempt: number, block: number) => boolean): MemoryLinkFaults {
  let attempt = 0;
  let isPage = false;
  return {
    image: (data, _modem, { block }) => {
      if (block === 1) {
        // A page starts with EOL, so its first block is never all zeros.
        isPage = data.some((octet) => octet !== 0);
        if (isPage) attempt++;
      }
      return isPage && lost(attempt, block) ? null : data;
    },
  };
}

describe('rate fallback after RTP, RTN and FTT', () => {
  test('the policy follows the port: T.38 is a packet line, a port that says nothing an audio line', async () => {
    const { a } = createMemoryPortPair();
    assert.deepEqual(resolveRateFallback(undefined, a), AUDIO_RATE_FALLBACK);
    const t38 = await T38Transport.open({ udptl: { localAddress: '127.0.0.1', localPort: 0 }, pace: 'none' });
    try {
      assert.equal(t38.medium, 'packet');
      assert.deepEqual(resolveRateFallback(undefined, t38), PACKET_RATE_FALLBACK);
      // Counts without ctc take the medium's.
      assert.deepEqual(resolveRateFallback({ rtp: 3, rtn: 1, ftt: 1 }, t38), {
        rtp: 3,
        rtn: 1,
        ftt: 1,
        ctc: 2,
      });
    } finally {
      await t38.close();
    }
    assert.deepEqual(resolveRateFallback('audio', t38), AUDIO_RATE_FALLBACK);
    assert.deepEqual(resolveRateFallback({ rtp: 3, rtn: 1, ftt: 1 }, a), { rtp: 3, rtn: 1, ftt: 1, ctc: 1 });
    assert.deepEqual(resolveRateFallback({ rtp: 0, rtn: 2, ftt: 2, ctc: 3 }, a), {
      rtp: 0,
      rtn: 2,
      ftt: 2,
      ctc: 3,
    });
    assert.equal(AUDIO_RATE_FALLBACK.ctc, 1);
    assert.equal(PACKET_RATE_FALLBACK.ctc, 2);
    const port = a as T30Port;
    assert.throws(() => resolveRateFallback({ rtp: 0, rtn: 0, ftt: 0 }, port), /ftt must be ≥ 1/);
    assert.throws(() => resolveRateFallback({ rtp: -1, rtn: 1, ftt: 1 }, port), /rtp must be a whole number/);
    assert.throws(() => resolveRateFallback({ rtp: 1, rtn: 1, ftt: 1, ctc: 0 }, port), /ctc must be ≥ 1/);
    assert.throws(
      () => resolveRateFallback({ rtp: 1, rtn: 1, ftt: 1, ctc: 1.5 }, port),
      /ctc must be a whole/,
    );
    assert.throws(() => resolveRateFallback('radio' as LineMedium, port), /'audio', 'packet'/);
  });

  test('packet line: after one RTP the next pages go at the same rate (one retrain, no step down)', async () => {
    const pages = pagesOf(3);
    const r = await call(
      pages,
      'packet',
      losePageData((attempt, block) => attempt === 1 && block === 2),
    );
    assert.ok(r.sender.ok && r.receiver.ok, JSON.stringify(r));
    assert.deepEqual(r.answers, ['CFR', 'RTP', 'CFR', 'MCF', 'MCF']);
    assert.deepEqual(r.tcf, ['v17-14400', 'v17-14400']);
    assert.deepEqual(
      r.infos.map((i) => [i.quality, i.line.bitRate]),
      [
        ['poor', 14400],
        ['good', 14400],
        ['good', 14400],
      ],
    );
    assert.equal(r.sender.line?.bitRate, 14400);
    assert.ok(samePixels(r.received[1], pages[1]) && samePixels(r.received[2], pages[2]));
  });

  test('audio line: the same RTP steps one rate down for the rest of the call (spandsp, TSB-85 MTGN24)', async () => {
    const r = await call(
      pagesOf(3),
      'audio',
      losePageData((attempt, block) => attempt === 1 && block === 2),
    );
    assert.ok(r.sender.ok && r.receiver.ok, JSON.stringify(r));
    assert.deepEqual(r.tcf, ['v17-14400', 'v17-12000']);
    assert.deepEqual(
      r.infos.map((i) => i.line.bitRate),
      [14400, 12000, 12000],
    );
  });

  test('packet line: RTN retrains at the same rate once, the second RTN at that rate steps down', async () => {
    const pages = pagesOf(1);
    // The first two transmissions of the page lose most of their data (RTN); the third arrives whole.
    const r = await call(
      pages,
      'packet',
      losePageData((attempt, block) => attempt <= 2 && block >= 2),
    );
    assert.ok(r.sender.ok && r.receiver.ok, JSON.stringify(r));
    assert.deepEqual(r.answers, ['CFR', 'RTN', 'CFR', 'RTN', 'CFR', 'MCF']);
    assert.deepEqual(r.tcf, ['v17-14400', 'v17-14400', 'v17-12000']);
    assert.equal(r.infos.length, 1);
    assert.equal(r.infos[0].quality, 'good');
    assert.equal(r.infos[0].line.bitRate, 12000);
    assert.ok(samePixels(r.received[0], pages[0]));
  });

  test('packet line: a page rejected every time ends the call after 3 RTNs (page_rejected), no endless loop', async () => {
    const r = await call(
      pagesOf(2),
      'packet',
      losePageData((_attempt, block) => block >= 2),
    );
    assert.equal(!r.sender.ok && r.sender.reason, 'page_rejected', JSON.stringify(r.sender));
    assert.match(!r.sender.ok ? r.sender.message : '', /page 1 rejected 3 times \(RTN\)/);
    assert.equal(r.sender.pages, 0);
    assert.deepEqual(r.answers, ['CFR', 'RTN', 'CFR', 'RTN', 'CFR', 'RTN']);
    assert.deepEqual(r.tcf, ['v17-14400', 'v17-14400', 'v17-12000']);
    // The receiver kept nothing and learns of the end from DCN.
    assert.equal(r.receiver.ok, false);
    assert.equal(r.received.length, 0);
  });

  test('audio line: the same rejected page steps down at each RTN and ends after 3', async () => {
    const r = await call(
      pagesOf(1),
      'audio',
      losePageData((_attempt, block) => block >= 2),
    );
    assert.equal(!r.sender.ok && r.sender.reason, 'page_rejected', JSON.stringify(r.sender));
    assert.deepEqual(r.tcf, ['v17-14400', 'v17-12000', 'v17-9600']);
  });

  test('counts per verdict: RTP steps down on the second at one rate, MCF clears the count', async () => {
    // Pages 1 and 3 lose a little (RTP), page 2 arrives whole (MCF): no two RTPs in a row, the rate stays.
    const policy = { rtp: 2, rtn: 1, ftt: 1 };
    const spaced = await call(
      pagesOf(3),
      policy,
      losePageData((attempt, block) => (attempt === 1 || attempt === 3) && block === 2),
    );
    assert.ok(spaced.sender.ok, JSON.stringify(spaced.sender));
    assert.deepEqual(spaced.answers, ['CFR', 'RTP', 'CFR', 'MCF', 'RTP']);
    assert.deepEqual(spaced.tcf, ['v17-14400', 'v17-14400']);
    // Pages 1 and 2 both RTP: the retrain after the second is one step down.
    const repeated = await call(
      pagesOf(3),
      policy,
      losePageData((attempt, block) => attempt <= 2 && block === 2),
    );
    assert.ok(repeated.sender.ok, JSON.stringify(repeated.sender));
    assert.deepEqual(repeated.answers, ['CFR', 'RTP', 'CFR', 'RTP', 'CFR', 'MCF']);
    assert.deepEqual(repeated.tcf, ['v17-14400', 'v17-14400', 'v17-12000']);
    assert.equal(repeated.infos[2].line.bitRate, 12000);
  });

  /** Loses the last block of the TCFs the predicate picks (by TCF number, from 1): 652 of 2,700 octets at 14,400. */
  function loseTcfTail(which: (tcf: number, modem: string) => boolean): MemoryLinkFaults {
    let tcf = 0;
    return {
      image: (data, modem, { block }) => {
        const zeros = data.every((octet) => octet === 0);
        if (block === 1 && zeros) tcf++;
        // 2,700 octets at 14,400: blocks 1 and 2 (2,048 zeros, over 1 s) arrive, block 3 is lost.
        return zeros && block === 3 && which(tcf, modem) ? null : data;
      },
    };
  }

  test('TCF with lost data: FTT although the zeros that came last over 1 s; the retrain at the same rate passes', async () => {
    const pages = pagesOf(1);
    const r = await call(
      pages,
      'packet',
      loseTcfTail((tcf) => tcf === 1),
    );
    assert.ok(r.sender.ok && r.receiver.ok, JSON.stringify(r));
    assert.ok(r.receiverTrace.includes('rx TCF 2048 octets, about 652 lost bad'), r.receiverTrace.join('\n'));
    assert.deepEqual(r.answers, ['FTT', 'CFR', 'MCF']);
    assert.deepEqual(r.tcf, ['v17-14400', 'v17-14400']);
    assert.equal(r.infos[0].line.bitRate, 14400);
    assert.ok(samePixels(r.received[0], pages[0]));
  });

  test('TCF with lost data on an audio-line policy: FTT, the retrain is one step down', async () => {
    const r = await call(
      pagesOf(1),
      'audio',
      loseTcfTail((tcf) => tcf === 1),
    );
    assert.ok(r.sender.ok && r.receiver.ok, JSON.stringify(r));
    assert.deepEqual(r.answers, ['FTT', 'CFR', 'MCF']);
    assert.deepEqual(r.tcf, ['v17-14400', 'v17-12000']);
  });

  test('packet line: TCF data lost at every try at 14,400: the second FTT at that rate steps down, then CFR', async () => {
    const r = await call(
      pagesOf(1),
      'packet',
      loseTcfTail((_tcf, modem) => modem === 'v17-14400'),
    );
    assert.ok(r.sender.ok && r.receiver.ok, JSON.stringify(r));
    assert.deepEqual(r.answers, ['FTT', 'FTT', 'CFR', 'MCF']);
    assert.deepEqual(r.tcf, ['v17-14400', 'v17-14400', 'v17-12000']);
  });
});
