import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { samplePage } from '../codec/sample-pages.ts';
import { type BilevelPage, createPage, samePixels } from '../image/bilevel-page.ts';
import { convertResolution } from '../image/convert-resolution.ts';
import type { FaxOutcome } from './fax-outcome.ts';
import { Fcf } from './fcf.ts';
import { buildFrame } from './hdlc-frame.ts';
import { createMemoryPortPair, type MemoryLinkFaults } from './memory-port-pair.ts';
import { type ReceivedPageInfo, T30Session, type T30SessionOptions } from './t30-session.ts';

const FAST = { t1: 3000, t2: 1500, t3: 1000, t4: 400, t5: 3000 };

function pagesOf(count: number, height = 120, yDpi = 196): BilevelPage[] {
  return Array.from({ length: count }, (_, i) => {
    const p = samplePage(i % 2 ? 'random' : 'text', 1728, height, i + 1);
    return { ...p, yDpi };
  });
}

interface Pair {
  sender: FaxOutcome;
  receiver: FaxOutcome;
  received: BilevelPage[];
}

async function exchange(
  pages: BilevelPage[],
  opts: {
    senderCalls?: boolean;
    sender?: Partial<T30SessionOptions>;
    receiver?: Partial<T30SessionOptions>;
    faults?: { a?: MemoryLinkFaults; b?: MemoryLinkFaults };
  } = {},
): Promise<Pair> {
  const { a, b } = createMemoryPortPair(opts.faults);
  const senderCalls = opts.senderCalls ?? true;
  const received: BilevelPage[] = [];
  const sender = new T30Session({
    port: senderCalls ? a : b,
    direction: 'send',
    calling: senderCalls,
    ident: '+1 555 0100',
    pages,
    timers: FAST,
    ...opts.sender,
  });
  const receiver = new T30Session({
    port: senderCalls ? b : a,
    direction: 'receive',
    calling: !senderCalls,
    ident: '+1 555 0199',
    onPage: (page) => {
      received.push(page);
    },
    timers: FAST,
    ...opts.receiver,
  });
  const [s, r] = await Promise.all([sender.run(), receiver.run()]);
  return { sender: s, receiver: r, received };
}

function assertSame(received: BilevelPage[], pages: BilevelPage[]) {
  assert.equal(received.length, pages.length);
  for (let i = 0; i < pages.length; i++)
    assert.ok(samePixels(received[i], pages[i]), `page ${i + 1} differs`);
}

describe('T30Session over the memory port', () => {
  for (const ecm of [false, true]) {
    for (const compression of ['mh', 'mr', 'mmr'] as const) {
      if (compression === 'mmr' && !ecm) continue;
      test(`caller sends, answerer receives: ECM ${ecm ? 'on' : 'off'}, ${compression}`, async () => {
        const pages = pagesOf(3);
        const r = await exchange(pages, { sender: { ecm, compression } });
        assert.equal(r.sender.ok, true, JSON.stringify(r.sender));
        assert.equal(r.receiver.ok, true, JSON.stringify(r.receiver));
        assert.equal(r.sender.pages, 3);
        assert.equal(r.receiver.pages, 3);
        assert.equal(r.sender.line?.compression, compression);
        assert.equal(r.sender.line?.ecm, ecm);
        assert.equal(r.sender.line?.bitRate, 14400);
        assert.equal(r.sender.remoteIdent, '+1 555 0199');
        assert.equal(r.receiver.remoteIdent, '+1 555 0100');
        assertSame(r.received, pages);
      });
    }
  }

  test('caller receives by polling, answerer sends', async () => {
    const pages = pagesOf(2);
    const r = await exchange(pages, { senderCalls: false });
    assert.equal(r.sender.ok, true, JSON.stringify(r.sender));
    assert.equal(r.receiver.ok, true, JSON.stringify(r.receiver));
    assertSame(r.received, pages);
  });

  test('mixed resolutions and widths: EOM, phase B again, new DCS per document part', async () => {
    const pages = [
      { ...samplePage('text', 1728, 60, 1), yDpi: 98 },
      { ...samplePage('text', 1728, 90, 2), yDpi: 196 },
      { ...samplePage('random', 2048, 70, 3), yDpi: 391 },
    ];
    for (const ecm of [false, true]) {
      const modes: string[] = [];
      const { a, b } = createMemoryPortPair();
      const received: BilevelPage[] = [];
      const sender = new T30Session({ port: a, direction: 'send', calling: true, pages, ecm, timers: FAST });
      sender.on('phaseB', (line) => modes.push(`${line.resolution}/${line.width}`));
      const receiver = new T30Session({
        port: b,
        direction: 'receive',
        calling: false,
        ecm,
        timers: FAST,
        onPage: (p) => {
          received.push(p);
        },
      });
      const [s, r] = await Promise.all([sender.run(), receiver.run()]);
      assert.equal(s.ok, true, JSON.stringify(s));
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.deepEqual(modes, ['standard/1728', 'fine/1728', 'superfine/2048']);
      assertSame(received, pages);
      assert.deepEqual(
        received.map((p) => p.yDpi),
        [98, 196, 391],
      );
    }
  });

  test('a superfine page to a station without superfine goes out at fine (rows dropped)', async () => {
    for (const ecm of [false, true]) {
      const page = { ...samplePage('text', 1728, 120, 9), yDpi: 391 };
      const r = await exchange([page], {
        sender: { ecm },
        receiver: { ecm, capabilities: { resolutions: ['standard', 'fine'] } },
      });
      assert.equal(r.sender.ok, true, JSON.stringify(r.sender));
      assert.equal(r.sender.line?.resolution, 'fine');
      assert.equal(r.received.length, 1);
      assert.equal(r.received[0].yDpi, 196);
      assert.ok(samePixels(r.received[0], convertResolution(page, 'fine')));
    }
  });

  test('newDocument: EOM between documents, phase B again, all pages arrive', async () => {
    const pages = pagesOf(3, 40);
    const withBreak = [pages[0], { ...pages[1], newDocument: true }, pages[2]];
    const modes: string[] = [];
    const { a, b } = createMemoryPortPair();
    const received: BilevelPage[] = [];
    const sender = new T30Session({
      port: a,
      direction: 'send',
      calling: true,
      pages: withBreak,
      timers: FAST,
    });
    sender.on('phaseB', (l) => modes.push(l.modem));
    const receiver = new T30Session({
      port: b,
      direction: 'receive',
      calling: false,
      timers: FAST,
      onPage: (p) => {
        received.push(p);
      },
    });
    const [s, r] = await Promise.all([sender.run(), receiver.run()]);
    assert.equal(s.ok, true, JSON.stringify(s));
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(modes.length, 2, 'phase B ran once per document');
    assertSame(received, pages);
  });

  test('a page source that is still rendering: pages arrive slowly, all are sent', async () => {
    const pages = pagesOf(3, 40);
    async function* slow() {
      for (const p of pages) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        yield p;
      }
    }
    const r = await exchange(pages, { sender: { pages: slow() } });
    assert.equal(r.sender.ok, true, JSON.stringify(r.sender));
    assertSame(r.received, pages);
  });

  test('events: phaseB, pageSent, pageReceived, phaseE', async () => {
    const pages = pagesOf(2, 40);
    const { a, b } = createMemoryPortPair();
    const log: string[] = [];
    const sender = new T30Session({ port: a, direction: 'send', calling: true, pages, timers: FAST });
    const receiver = new T30Session({ port: b, direction: 'receive', calling: false, timers: FAST });
    sender.on('phaseB', (l) => log.push(`tx phaseB ${l.bitRate}`));
    sender.on('pageSent', (n) => log.push(`tx page ${n}`));
    sender.on('phaseE', (o) => log.push(`tx phaseE ${o.ok}`));
    receiver.on('pageReceived', (_p, info) => log.push(`rx page ${info.pageNumber} ${info.quality}`));
    await Promise.all([sender.run(), receiver.run()]);
    assert.deepEqual(
      log.filter((l) => l.startsWith('tx')),
      ['tx phaseB 14400', 'tx page 1', 'tx page 2', 'tx phaseE true'],
    );
    assert.deepEqual(
      log.filter((l) => l.startsWith('rx')),
      ['rx page 1 good', 'rx page 2 good'],
    );
  });

  test('onPage throws → storage_failed, the page is not confirmed, DCN ends the call', async () => {
    const pages = pagesOf(2, 40);
    const r = await exchange(pages, {
      receiver: {
        onPage: () => {
          throw new Error('disk full');
        },
      },
    });
    assert.equal(r.receiver.ok, false);
    assert.equal(!r.receiver.ok && r.receiver.reason, 'storage_failed');
    assert.equal(r.receiver.pages, 0);
    assert.equal(r.sender.ok, false);
    assert.equal(!r.sender.ok && r.sender.reason, 'remote_disconnected');
    assert.equal(r.sender.pages, 0);
  });

  test('a slow onPage in ECM: RNR/RR flow control until the page is stored', async () => {
    const pages = pagesOf(2, 40);
    const received: BilevelPage[] = [];
    const r = await exchange(pages, {
      receiver: {
        onPage: async (p) => {
          await new Promise((resolve) => setTimeout(resolve, FAST.t4 * 2));
          received.push(p);
        },
      },
    });
    assert.equal(r.sender.ok, true, JSON.stringify(r.sender));
    assert.equal(r.receiver.ok, true, JSON.stringify(r.receiver));
    assertSame(received, pages);
  });

  test('cancel with an AbortSignal: DCN to the far end, outcome canceled', async () => {
    const pages = pagesOf(3, 40);
    const abort = new AbortController();
    const { a, b } = createMemoryPortPair();
    const sender = new T30Session({
      port: a,
      direction: 'send',
      calling: true,
      pages,
      timers: FAST,
      signal: abort.signal,
    });
    sender.on('pageSent', (n) => {
      if (n === 1) abort.abort();
    });
    const receiver = new T30Session({ port: b, direction: 'receive', calling: false, timers: FAST });
    const [s, r] = await Promise.all([sender.run(), receiver.run()]);
    assert.equal(!s.ok && s.reason, 'canceled');
    assert.equal(s.pages, 1);
    assert.equal(!r.ok && r.reason, 'remote_disconnected');
    assert.equal(r.pages, 1);
  });

  test('the transport closing mid-call ends the call with transport_closed', async () => {
    const pages = pagesOf(3, 40);
    const { a, b } = createMemoryPortPair();
    const sender = new T30Session({ port: a, direction: 'send', calling: true, pages, timers: FAST });
    sender.on('pageSent', () => void b.close());
    const receiver = new T30Session({ port: b, direction: 'receive', calling: false, timers: FAST });
    const [s, r] = await Promise.all([sender.run(), receiver.run()]);
    assert.equal(!s.ok && s.reason, 'transport_closed');
    assert.equal(!r.ok && r.reason, 'transport_closed');
  });

  test('lossy line between two engines: dropped frames and bad FCS are recovered by repeats and PPR', async () => {
    for (const ecm of [false, true]) {
      const pages = pagesOf(3, 60);
      const lossy: MemoryLinkFaults = {
        frame: (_f, i) => (i % 7 === 3 ? 'drop' : i % 11 === 5 ? 'bad-fcs' : 'pass'),
      };
      const r = await exchange(pages, { sender: { ecm }, receiver: { ecm }, faults: { a: lossy, b: lossy } });
      assert.equal(r.sender.ok, true, `ECM ${ecm}: ${JSON.stringify(r.sender)}`);
      assert.equal(r.receiver.ok, true, `ECM ${ecm}: ${JSON.stringify(r.receiver)}`);
      assertSame(r.received, pages);
    }
  });

  /** Loses the image chunks numbered in `lost` (1-based, page data only: TCF is all zeros) of the first try. */
  function losePageData(lost: readonly number[]): MemoryLinkFaults {
    let n = 0;
    return {
      image: (data) => (data.some((octet) => octet !== 0) && lost.includes(++n) ? null : data),
    };
  }

  test('non-ECM page data lost on the way: RTP, never MCF; the page is kept as poor with its loss', async () => {
    const pages = [samplePage('text', 1728, 400, 7)];
    const infos: ReceivedPageInfo[] = [];
    const trace: string[] = [];
    const r = await exchange(pages, {
      sender: { ecm: false, compression: 'mr' },
      receiver: {
        ecm: false,
        onPage: (_page, info) => {
          infos.push(info);
        },
        onTrace: (e) => trace.push(`${e.dir} ${e.what}`),
      },
      faults: { a: losePageData([2]) },
    });
    assert.ok(r.sender.ok && r.receiver.ok, JSON.stringify(r));
    assert.equal(infos.length, 1);
    assert.equal(infos[0].quality, 'poor');
    assert.equal(infos[0].lostOctets, 1024);
    assert.ok(infos[0].badRows > 0);
    assert.ok(trace.includes('tx RTP') && !trace.includes('tx MCF'), trace.join('\n'));
  });

  test('non-ECM page data lost beyond the copy-quality limit: RTN, the page comes again and arrives whole', async () => {
    const pages = [samplePage('text', 1728, 400, 7)];
    const infos: ReceivedPageInfo[] = [];
    const received: BilevelPage[] = [];
    const trace: string[] = [];
    const r = await exchange(pages, {
      sender: { ecm: false, compression: 'mh' },
      receiver: {
        ecm: false,
        onPage: (page, info) => {
          received.push(page);
          infos.push(info);
        },
        onTrace: (e) => trace.push(`${e.dir} ${e.what}`),
      },
      faults: { a: losePageData([2, 3, 4, 5, 6, 7, 8, 9]) },
    });
    assert.ok(r.sender.ok && r.receiver.ok, JSON.stringify(r));
    assert.ok(trace.includes('tx RTN'), trace.join('\n'));
    assert.equal(infos.length, 1);
    assert.equal(infos[0].lostOctets, 0);
    assert.equal(infos[0].quality, 'good');
    assert.ok(samePixels(received[0], pages[0]));
  });

  test('no pages to send → document_error', async () => {
    const r = await exchange([]);
    assert.equal(!r.sender.ok && r.sender.reason, 'document_error');
  });

  test('a page of a non-fax width → document_error', async () => {
    const r = await exchange([createPage(1000, 20)]);
    assert.equal(!r.sender.ok && r.sender.reason, 'document_error');
  });

  test('the page source throws → document_error, DCN', async () => {
    async function* failing() {
      yield pagesOf(1, 40)[0];
      throw new Error('renderer crashed');
    }
    const r = await exchange([], { sender: { pages: failing() } });
    assert.equal(!r.sender.ok && r.sender.reason, 'document_error');
    assert.equal(!r.receiver.ok && r.receiver.reason, 'remote_disconnected');
  });

  test('both sides want to receive: negotiation fails cleanly on both', async () => {
    const { a, b } = createMemoryPortPair();
    const caller = new T30Session({ port: a, direction: 'receive', calling: true, timers: FAST });
    const answerer = new T30Session({ port: b, direction: 'receive', calling: false, timers: FAST });
    const [c, d] = await Promise.all([caller.run(), answerer.run()]);
    assert.equal(!c.ok && c.reason, 'negotiation_failed');
    assert.equal(d.ok, false);
  });

  test('DCN injected at every point of the exchange: both ends stop with a clean outcome', async () => {
    const runs: Promise<void>[] = [];
    for (const ecm of [false, true]) {
      for (const side of ['a', 'b'] as const) {
        for (let n = 1; n <= 9; n++) {
          const dcnAt: MemoryLinkFaults = {
            frame: (f, i) => (i === n && f[2] !== Fcf.FCD ? buildFrame(Fcf.DCN) : 'pass'),
          };
          const where = `ECM ${ecm}, DCN as frame ${n} from ${side}`;
          runs.push(
            exchange(pagesOf(2, 30), { sender: { ecm }, receiver: { ecm }, faults: { [side]: dcnAt } }).then(
              (r) => {
                const victim = side === 'a' ? r.receiver : r.sender;
                assert.ok(
                  victim.ok || victim.reason === 'remote_disconnected',
                  `${where}: ${JSON.stringify(victim)}`,
                );
                for (const o of [r.sender, r.receiver]) {
                  assert.ok(o.ok || REASONS.has(o.reason), `${where}: ${JSON.stringify(o)}`);
                }
              },
            ),
          );
        }
      }
    }
    await Promise.all(runs);
  });

  test('maxCallMs is a backstop for the whole call', async () => {
    const { a } = createMemoryPortPair();
    const s = await new T30Session({
      port: a,
      direction: 'send',
      calling: true,
      pages: pagesOf(1, 20),
      timers: FAST,
      maxCallMs: 300,
    }).run();
    assert.equal(!s.ok && s.reason, 'call_timeout');
  });
});

/** Reasons a call may legitimately end with when the far end hangs up mid-call. */
const REASONS = new Set([
  'remote_disconnected',
  'timeout_t2',
  'no_response',
  'timeout_t1',
  'fax_not_detected',
]);
