/**
 * @module
 * TIA TSB-85 test procedures (spandsp's tsb85.xml) translated to conformance cases for T.38: preambles become
 * indicators (carrier events), HDLC steps become frames, TCF becomes training plus zero data, MSG/PP steps become
 * non-ECM pages and ECM bursts of synthetic stand-ins for the ETSI test images. Times are scaled by TIME_SCALE
 * together with the engine's timers, so the procedures keep their timing relations but run quickly.
 */

import { encodePage } from '../../codec/index.ts';
import { samplePage } from '../../codec/sample-pages.ts';
import { type BilevelPage, createPage, setPixel } from '../../image/bilevel-page.ts';
import { type DcsParameters, decodeDcs } from '../dis-dcs.ts';
import { Fcf } from '../fcf.ts';
import { fromT30Notation, parseFrame, toT30Notation } from '../hdlc-frame.ts';
import { kFactorFor } from '../page-codec.ts';
import { standardPageCodec } from '../standard-page-codec.ts';
import type { FaxModem } from '../t30-port.ts';
import type { T30Timers } from '../timers.ts';
import type { ConformanceCase } from './conformance-case.ts';
import type { ScriptKit } from './script-kit.ts';
import { ConformanceError, type ScriptedPeer } from './scripted-peer.ts';

/** TSB-85 times (waits, timeouts) and the engine's timers are both multiplied by this. */
export const TIME_SCALE = 0.1;

/** The standard's timers scaled like the procedures' times. */
export const TSB85_TIMERS: T30Timers = Object.freeze({
  t1: 35_000 * TIME_SCALE,
  t2: 6_000 * TIME_SCALE,
  t3: 10_000 * TIME_SCALE,
  t4: 3_000 * TIME_SCALE,
  t5: 30_000 * TIME_SCALE,
});

export interface Tsb85Step {
  readonly type: string;
  readonly dir?: 'T' | 'R';
  readonly attrs: Readonly<Record<string, string>>;
}

export type Tsb85Item = Tsb85Step | { readonly repeat: Tsb85Item[] };

export interface Tsb85Test {
  readonly name: string;
  readonly group: string;
  readonly items: Tsb85Item[];
}

const ATTR = /([\w-]+)="([^"]*)"/g;

function attrsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(ATTR)) out[m[1]] = m[2];
  return out;
}

/** Parses tsb85.xml (well-formed, no entities) into tests; comments are dropped. */
export function parseTsb85(xml: string): Tsb85Test[] {
  const text = xml.replace(/<!--[\s\S]*?-->/g, '');
  const tests: Tsb85Test[] = [];
  for (const group of text.matchAll(/<test-group name="([^"]*)">([\s\S]*?)<\/test-group>/g)) {
    for (const t of group[2].matchAll(/<test name="([^"]*)">([\s\S]*?)<\/test>/g)) {
      const root: Tsb85Item[] = [];
      const stack: Tsb85Item[][] = [root];
      for (const tag of t[2].matchAll(/<(\/?)(step|repeat)\b([^>]*?)(\/?)>/g)) {
        const [, closing, name, body] = tag;
        const top = stack[stack.length - 1];
        if (name === 'repeat') {
          if (closing) {
            if (stack.length > 1) stack.pop();
          } else {
            const items: Tsb85Item[] = [];
            top.push({ repeat: items });
            stack.push(items);
          }
        } else if (!closing) {
          const attrs = attrsOf(body);
          top.push({ type: attrs.type ?? '', dir: attrs.dir as 'T' | 'R' | undefined, attrs });
        }
      }
      tests.push({ name: t[1], group: group[1], items: root });
    }
  }
  return tests;
}

const MODEMS: Readonly<Record<string, FaxModem>> = {
  'V.21': 'v21',
  'V.27ter/2400': 'v27ter-2400',
  'V.27ter/4800': 'v27ter-4800',
  'V.29/7200': 'v29-7200',
  'V.29/9600': 'v29-9600',
  'V.17/7200': 'v17-7200',
  'V.17/9600': 'v17-9600',
  'V.17/12000': 'v17-12000',
  'V.17/14400': 'v17-14400',
};

function modemOf(name: string | undefined): FaxModem {
  const m = name ? MODEMS[name] : undefined;
  if (!m) throw new ConformanceError(`unknown modem "${name}"`);
  return m;
}

function stairstep(height: number): BilevelPage {
  const page = createPage(1728, height, 204, 98);
  for (let y = 0; y < height; y++) {
    const edge = Math.floor((y * 1728) / height / 64) * 64;
    for (let x = edge; x < Math.min(1728, edge + 64); x++) setPixel(page, x, y, true);
  }
  return page;
}

/** Synthetic stand-ins for the ETSI 300 242 test images (the originals are not distributed with TSB-85's XML). */
export function tsb85Pages(file: string): BilevelPage[] {
  const std = (p: BilevelPage): BilevelPage => ({ ...p, yDpi: 98 });
  const white = () => createPage(1728, 1143, 204, 98);
  const impress = () => std(samplePage('text', 1728, 1143, 7));
  if (file.includes('white_2p')) return [white(), white()];
  if (file.includes('impress_white')) return [impress(), white()];
  if (file.includes('impress')) return [impress()];
  if (file.includes('stairstep')) return [stairstep(1728)];
  // 390 rows: the 19 and 59 bad rows of MRGN04 are 4.9 % and 15.1 % of it.
  if (file.includes('error')) return [std(samplePage('text', 1728, 390, 5))];
  if (file.includes('diago') || file.includes('duration')) {
    return [std(samplePage('random', 1728, 600, 3))];
  }
  return [white()];
}

/** The engine's role, ident and pages from a test's CALL/ANSWER/SET steps. */
function engineOf(test: Tsb85Test): Pick<ConformanceCase, 'engine' | 'pages'> {
  const flat = test.items.filter((i): i is Tsb85Step => 'type' in i);
  const ident = flat.find((s) => s.type === 'SET' && s.attrs.tag === 'IDENT')?.attrs.value;
  const call = flat.find((s) => s.type === 'CALL' || s.type === 'ANSWER');
  const common = { ident, ecm: true, compression: 'mmr' as const };
  if (call?.type === 'ANSWER' && !call.attrs.value) {
    // The DUT calls to poll: it is the receiving side.
    return { engine: { direction: 'receive', calling: true, ...common } };
  }
  if (call?.type === 'ANSWER') {
    // SET TXFILE during the call: a second document follows the first (EOM between them).
    const more = flat
      .filter((s) => s.type === 'SET' && s.attrs.tag === 'TXFILE' && s.attrs.value)
      .flatMap((s) => tsb85Pages(s.attrs.value!).map((p, i) => ({ ...p, newDocument: i === 0 })));
    return {
      engine: { direction: 'send', calling: true, ...common },
      pages: [...tsb85Pages(call.attrs.value ?? 'white'), ...more],
    };
  }
  if (call?.type === 'CALL' && call.attrs.value) {
    return { engine: { direction: 'send', calling: false, ...common }, pages: tsb85Pages(call.attrs.value) };
  }
  return { engine: { direction: 'receive', calling: false, ...common } };
}

interface RunState {
  lastDcs: DcsParameters | null;
  group: { modem: FaxModem; frames: Uint8Array[]; bad: number[] } | null;
  /** ECM page being sent by PP steps, cut into frames, and the next block. */
  pp: { frames: Uint8Array[]; nextBlock: number; file: string } | null;
  lastBurstFrames: number;
  /** Frame counts of the PPS frames the procedure sends after its PP steps, in order. */
  ppsFrames: number[];
  /** The engine answered the last PPS with PPR. */
  afterPpr: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function expectedBytes(value: string): { bytes: Uint8Array; wildcard: boolean } {
  const wildcard = value.includes('...');
  return { bytes: fromT30Notation(value.replace('...', '').split('|')[0]), wildcard };
}

function timeoutOf(step: Tsb85Step, kit: ScriptKit): number {
  const t = Number(step.attrs.timeout ?? 0) * TIME_SCALE;
  return Math.max(kit.wait, Math.min(t || 0, 4000));
}

/**
 * The page coded MH row by row (each row's EOL octet-aligned), with the listed rows replaced by rows that decode to
 * the wrong width: exactly those rows are bad for the receiver (TSB-85 MRGN04's 4.9 % and 15.1 % pages).
 */
function withBadRows(page: BilevelPage, badRows: ReadonlySet<number>): Uint8Array {
  const options = { compression: 'mh', bitOrder: 'lsb-first', byteAlignEol: true, rtc: false } as const;
  const parts: Uint8Array[] = [];
  const wrong = encodePage(createPage(1000, 1), options);
  for (let y = 0; y < page.height; y++) {
    const row = { ...page, height: 1, data: page.data.subarray(y * page.stride, (y + 1) * page.stride) };
    parts.push(badRows.has(y) ? wrong : encodePage(row, options));
  }
  parts.push(encodePage(createPage(page.width, 0), { ...options, rtc: true }));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function coded(file: string, dcs: DcsParameters, minBits: number): Uint8Array {
  const page = tsb85Pages(file)[0];
  return standardPageCodec.encode(page, {
    compression: dcs.compression,
    kFactor: kFactorFor(page.yDpi),
    minBitsPerRow: minBits,
  });
}

async function runStep(step: Tsb85Step, peer: ScriptedPeer, kit: ScriptKit, st: RunState): Promise<void> {
  const a = step.attrs;
  if (step.type === 'WAIT') {
    await sleep(Number(a.value ?? 0) * TIME_SCALE);
    return;
  }
  if (step.dir === 'T') {
    switch (step.type) {
      case 'CNG':
        return peer.tone('cng');
      case 'CED':
        return peer.tone('ced');
      case 'PREAMBLE':
        // A preamble inside an open carrier is only more flags between frames.
        if (st.group && (!a.modem || modemOf(a.modem) === st.group.modem)) return;
        st.group = { modem: modemOf(a.modem), frames: [], bad: [] };
        return;
      case 'POSTAMBLE': {
        const g = st.group;
        st.group = null;
        if (g && g.frames.length > 0) await peer.frames(g.frames, g.bad);
        return;
      }
      case 'HDLC': {
        const frame = fromT30Notation((a.value ?? '').replace('...', '')).slice();
        const parsed = parseFrame(frame);
        if (parsed?.command === Fcf.DCS) {
          try {
            st.lastDcs = decodeDcs(parsed.fif);
          } catch {
            st.lastDcs = null;
          }
        }
        // The procedures' PPS frame counts describe their own images; ours are synthetic, so count what was sent.
        if (
          parsed?.command === Fcf.PPS &&
          frame.length >= 7 &&
          st.lastBurstFrames > 0 &&
          frame[6] + 1 !== st.lastBurstFrames
        ) {
          frame[6] = st.lastBurstFrames - 1;
        }
        const bad = a.crc_error !== undefined;
        if (st.group) {
          if (bad) st.group.bad.push(st.group.frames.length);
          st.group.frames.push(frame);
        } else {
          await peer.frames([frame], bad ? [0] : []);
        }
        return;
      }
      case 'TCF': {
        if (!a.modem && st.lastDcs) return peer.image(st.lastDcs.modem, new Uint8Array(Number(a.value ?? 0)));
        // pattern="N": the first N octets are 0101… instead of zeros (N = the whole TCF makes it fail).
        const data = new Uint8Array(Number(a.value ?? 0));
        if (a.pattern) data.fill(0x55, 0, Number(a.pattern));
        return peer.image(modemOf(a.modem), data);
      }
      case 'MSG': {
        const dcs = st.lastDcs;
        if (!dcs) throw new ConformanceError('MSG before any DCS');
        const min = Number(a.min_bits ?? Math.ceil((dcs.bitRate * dcs.minScanLineMs) / 1000));
        const rows = (a.bad_rows ?? '')
          .split(',')
          .map((r) => Number(r.trim()))
          .filter((r) => r > 0 && Number.isInteger(r));
        const data =
          rows.length > 0 && dcs.compression === 'mh'
            ? withBadRows(tsb85Pages(a.value ?? 'white')[0], new Set(rows))
            : coded(a.value ?? 'white', dcs, min);
        return peer.image(a.modem ? modemOf(a.modem) : dcs.modem, data);
      }
      case 'PP': {
        const dcs = st.lastDcs;
        if (!dcs) throw new ConformanceError('PP before any DCS');
        const size = Number(a.frame_size ?? 256);
        const file = a.value ?? 'white';
        if (!st.pp || (!st.afterPpr && st.pp.nextBlock * 256 >= st.pp.frames.length) || st.pp.file !== file) {
          const compression = a.compression === 'T.6' ? 'mmr' : dcs.compression;
          const data = coded(file, { ...dcs, compression }, Number(a.min_bits ?? 0));
          const frames: Uint8Array[] = [];
          for (let off = 0; off < data.length; off += size) {
            const f = new Uint8Array(size);
            f.set(data.subarray(off, off + size));
            frames.push(f);
          }
          st.pp = { frames, nextBlock: 0, file };
        }
        // After a PPR the same block goes again (with the frames the procedure corrupts again).
        const block =
          a.block !== undefined ? Number(a.block) : st.afterPpr ? st.pp.nextBlock - 1 : st.pp.nextBlock;
        st.afterPpr = false;
        const start = block * 256;
        // As many frames as the procedure's PPS will announce (its images are not ours), zero-padded if needed.
        const count = st.ppsFrames.shift() ?? Math.min(256, st.pp.frames.length - start);
        const burst = new Map<number, Uint8Array>();
        for (let i = 0; i < count; i++) burst.set(i, st.pp.frames[start + i] ?? new Uint8Array(size));
        const corrupt = new Set<number>();
        if (a.crc_error !== undefined) corrupt.add(Number(a.crc_error) - start);
        st.pp.nextBlock = block + 1;
        st.lastBurstFrames = burst.size;
        return peer.ecmBurst(dcs.modem, burst, corrupt);
      }
      case 'CLEAR':
        await peer.port.close();
        return;
      default:
        return;
    }
  }
  if (step.dir === 'R') {
    switch (step.type) {
      case 'CNG':
        return peer.expectTone('cng', kit.wait);
      case 'CED':
        return peer.expectTone('ced', kit.wait);
      case 'HDLC': {
        const { bytes, wildcard } = expectedBytes(a.value ?? '');
        for (;;) {
          const got = await peer.anyFrame(timeoutOf(step, kit));
          const n = wildcard ? bytes.length : Math.max(bytes.length, got.bytes.length);
          let same = true;
          for (let i = 0; i < n; i++) if (got.bytes[i] !== bytes[i]) same = false;
          if (same) {
            if (a.tag === 'PPR') st.afterPpr = true;
            return;
          }
          // NSF is optional: our engine sends none.
          if (a.tag === 'NSF') {
            peer.unreadFrame(got);
            return;
          }
          // CSI is optional before DIS (T.30 §5.3.6.2.4); some procedures do not list it.
          if (got.frame.command === Fcf.CSI && a.tag !== 'CSI') continue;
          throw new ConformanceError(
            `expected ${a.tag} ${a.value}, got ${toT30Notation(got.bytes.subarray(0, 24))}${got.bytes.length > 24 ? ' …' : ''}`,
          );
        }
      }
      case 'TCF':
      case 'MSG': {
        const got = await peer.expectImage(timeoutOf(step, kit));
        if (a.modem && got.modem !== modemOf(a.modem)) {
          throw new ConformanceError(`expected ${step.type} at ${a.modem}, got ${got.modem}`);
        }
        return;
      }
      case 'PP': {
        const got = await peer.expectEcmBurst(timeoutOf(step, kit));
        if (a.modem && got.modem !== modemOf(a.modem)) {
          throw new ConformanceError(`expected PP at ${a.modem}, got ${got.modem}`);
        }
        return;
      }
      default:
        return;
    }
  }
}

async function runItems(items: readonly Tsb85Item[], peer: ScriptedPeer, kit: ScriptKit, st: RunState) {
  for (const item of items) {
    if ('repeat' in item) {
      // An optional, repeatable group: entered while its first expected frame is what the engine sends.
      const first = item.repeat.find(
        (i): i is Tsb85Step => 'type' in i && i.dir === 'R' && i.type === 'HDLC',
      );
      for (;;) {
        if (!first) break;
        let got: Awaited<ReturnType<ScriptedPeer['anyFrame']>>;
        try {
          got = await peer.anyFrame(kit.wait);
        } catch {
          break;
        }
        peer.unreadFrame(got);
        const { bytes } = expectedBytes(first.attrs.value ?? '');
        if (!bytes.every((b, i) => got.bytes[i] === b)) break;
        await runItems(item.repeat, peer, kit, st);
      }
      continue;
    }
    await runStep(item, peer, kit, st);
  }
}

/** For each T PP step, the frame count of the PPS that follows it. */
function ppsCounts(test: Tsb85Test): number[] {
  const steps: Tsb85Step[] = [];
  const walk = (items: readonly Tsb85Item[]) => {
    for (const i of items) {
      if ('repeat' in i) walk(i.repeat);
      else steps.push(i);
    }
  };
  walk(test.items);
  const counts: number[] = [];
  steps.forEach((s, i) => {
    if (s.dir !== 'T' || s.type !== 'PP') return;
    const pps = steps
      .slice(i + 1)
      .find((n) => n.dir === 'T' && n.type === 'HDLC' && (n.attrs.tag ?? '').startsWith('PPS'));
    const bytes = pps ? fromT30Notation(pps.attrs.value ?? '') : null;
    counts.push(bytes && bytes.length >= 7 ? bytes[6] + 1 : 0);
  });
  return counts.map((c) => c || 256);
}

export function tsb85Case(test: Tsb85Test): ConformanceCase {
  const flat = test.items.filter((i): i is Tsb85Step => 'type' in i);
  const status = flat.find((s) => s.type === 'STATUS')?.attrs.value;
  const role = engineOf(test);
  return {
    name: test.name,
    description: `TSB-85 ${test.group}: ${test.name} (expects ${status ?? 'no status'})`,
    ...role,
    timers: TSB85_TIMERS,
    async script(peer, kit) {
      const st: RunState = {
        lastDcs: null,
        group: null,
        pp: null,
        lastBurstFrames: 0,
        ppsFrames: ppsCounts(test),
        afterPpr: false,
      };
      await runItems(test.items, peer, kit, st);
    },
    expect: { ok: status === undefined ? undefined : status === 'OK' },
  };
}
