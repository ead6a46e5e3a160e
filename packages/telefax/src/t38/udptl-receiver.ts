/**
 * @module
 * The receiving half of UDPTL: puts IFPs back in sequence order, drops repeats and late packets, recovers lost
 * ones from the secondary IFPs or the FEC parity of later packets (T.38 §9.4.1, Annex C), and delivers each IFP exactly once.
 *
 * A gap is held open while later packets may still fill it (reordering, or FEC parity still to come): until
 * `holdPackets` newer packets have arrived (more for FEC, whose parity arrives up to span × entries packets later)
 * or `holdMs` have passed. Then the missing packets are reported lost and delivery moves on.
 *
 * Sequence numbers wrap 65535 → 0 (T.38 §9.2.1); some peers roll 65535 → 1 instead (spandsp t38_core.c notes it), which
 * is recognised when the first secondary IFP of packet 1 repeats packet 65535. A jump of more than 2,000 either
 * way restarts the sequence (as spandsp does, but only once a second packet confirms it) rather than stalling on a
 * stream that was switched under us; so do four consecutive packets from far behind (a peer numbering from 0 again).
 */

import type { UdptlPacket } from './udptl.ts';

export type UdptlRecovery = 'primary' | 'redundancy' | 'fec';

export interface UdptlReceiverSink {
  /** One IFP, in sequence order. The bytes are views into a received datagram; copy them to keep them. */
  ifp(ifp: Uint8Array, seq: number, recovery: UdptlRecovery): void;
  /** `count` packets from `firstSeq` on were lost for good. */
  loss(firstSeq: number, count: number): void;
}

export interface UdptlReceiverOptions {
  /** Newer packets to wait for before giving a gap up (default 3; FEC waits for its whole parity window). */
  readonly holdPackets?: number;
  /** Time to wait before giving a gap up (default 60 ms: two 30 ms IFP intervals). */
  readonly holdMs?: number;
}

export interface UdptlReceiverStats {
  /** Packets fed in. */
  packetsIn: number;
  /** Repeats of packets already delivered or held (including the deliberate ×3 copies). */
  duplicates: number;
  /** Packets that arrived after their gap had been given up. */
  late: number;
  /** IFPs recovered from secondary IFPs or FEC parity. */
  recovered: number;
  /** IFPs lost for good. */
  lost: number;
  /** Sequence restarts (jumps over 2,000 confirmed by a following packet). */
  restarts: number;
  /** Packets far outside the sequence that no other packet followed (ignored). */
  strays: number;
}

const RING = 64;
const AHEAD = 31;
const JUMP = 2000;
const PRIMARY = 0;
const REDUNDANCY = 1;
const FEC = 2;
const RECOVERY_NAMES: readonly UdptlRecovery[] = ['primary', 'redundancy', 'fec'];

function signed16(x: number): number {
  const v = x & 0xffff;
  return v >= 0x8000 ? v - 0x10000 : v;
}

export class UdptlReceiver {
  readonly stats: UdptlReceiverStats = {
    packetsIn: 0,
    duplicates: 0,
    late: 0,
    recovered: 0,
    lost: 0,
    restarts: 0,
    strays: 0,
  };
  private readonly sink: UdptlReceiverSink;
  private readonly holdPackets: number;
  private readonly holdMs: number;
  /** Next logical sequence number to deliver; −1 before the first packet. */
  private expected = -1;
  /** Logical seq = wire seq − offset; grows by one each time a peer skips 0 on wrap. */
  private offset = 0;
  /** Newest logical seq received. */
  private highest = 0;
  private gapDeadline = Number.POSITIVE_INFINITY;
  private jumpCandidate: UdptlPacket | null = null;
  private lateRun = 0;
  private lastLate = 0;
  private fecWindow = 0;
  private readonly tag = new Int32Array(RING).fill(-1);
  private readonly data: (Uint8Array | null)[] = new Array(RING).fill(null);
  private readonly how = new Uint8Array(RING);
  private readonly fecTag = new Int32Array(RING).fill(-1);
  private readonly fecSpan = new Int32Array(RING);
  private readonly fecData: (readonly Uint8Array[] | null)[] = new Array(RING).fill(null);

  constructor(sink: UdptlReceiverSink, options: UdptlReceiverOptions = {}) {
    this.sink = sink;
    this.holdPackets = Math.max(1, Math.min(AHEAD, options.holdPackets ?? 3));
    this.holdMs = options.holdMs ?? 60;
  }

  /**
   * Feeds one decoded packet received at `nowMs`. Returns the time at which {@link expire} must be called because
   * a gap is held open, or +Infinity.
   */
  receive(packet: UdptlPacket, nowMs: number): number {
    this.stats.packetsIn++;
    let s = (packet.seq - this.offset) & 0xffff;
    const ec = packet.errorRecovery;
    if (this.expected < 0) {
      // Any first number is accepted; its secondary IFPs may still bring back the packets lost before it.
      const before = ec.kind === 'redundancy' ? Math.min(ec.secondary.length, AHEAD) : 0;
      this.expected = (s - before) & 0xffff;
      this.highest = s;
    }
    let d = signed16(s - this.expected);
    if (
      d === 1 &&
      this.expected === 0 &&
      ec.kind === 'redundancy' &&
      ec.secondary.length > 0 &&
      this.has(0xffff) &&
      sameBytes(ec.secondary[0], this.data[0xffff & (RING - 1)]!)
    ) {
      this.offset = (this.offset + 1) & 0xffff;
      s = 0;
      d = 0;
    }
    if (d < -JUMP || d > JUMP) {
      // A new sequence counts once a second packet follows it; a lone stray (a late duplicate, a packet from an
      // old stream) must not throw the current one away.
      const candidate = this.jumpCandidate;
      const follows =
        candidate !== null &&
        signed16(packet.seq - candidate.seq) > 0 &&
        signed16(packet.seq - candidate.seq) <= AHEAD;
      if (!follows) {
        this.stats.strays++;
        this.jumpCandidate = packet;
        return this.gapDeadline;
      }
      this.stats.strays--;
      this.jumpCandidate = null;
      this.restart();
      // Both packets were counted on arrival and are counted again on the way through.
      this.stats.packetsIn -= 2;
      this.receive(candidate, nowMs);
      return this.receive(packet, nowMs);
    }
    this.jumpCandidate = null;
    if (d < 0) {
      if (this.has(s)) {
        this.stats.duplicates++;
        return this.gapDeadline;
      }
      this.stats.late++;
      // A peer that numbers a new stream from behind us (restarted at 0 on the same port) shows up as consecutive
      // packets far behind anything a reorder hold gives up; four in a row are taken as the new sequence.
      if (d < -RING) {
        this.lateRun = this.lateRun > 0 && s === ((this.lastLate + 1) & 0xffff) ? this.lateRun + 1 : 1;
        this.lastLate = s;
        if (this.lateRun >= 4) {
          this.stats.late--;
          this.stats.packetsIn--;
          this.restart();
          return this.receive(packet, nowMs);
        }
      }
      return this.gapDeadline;
    }
    this.lateRun = 0;
    if (d > AHEAD) this.giveUpBefore((s - AHEAD) & 0xffff);
    if (this.has(s)) {
      this.stats.duplicates++;
      return this.gapDeadline;
    }
    if (signed16(s - this.highest) > 0) this.highest = s;
    this.put(s, packet.primary, PRIMARY);
    if (ec.kind === 'redundancy') {
      for (let i = 0; i < ec.secondary.length; i++) {
        const t = (s - 1 - i) & 0xffff;
        if (signed16(t - this.expected) < 0) break;
        if (ec.secondary[i].length > 0 && !this.has(t)) this.put(t, ec.secondary[i], REDUNDANCY);
      }
    } else {
      const slot = s & (RING - 1);
      this.fecTag[slot] = s;
      this.fecSpan[slot] = ec.span;
      this.fecData[slot] = ec.entries;
      this.fecWindow = Math.min(AHEAD, ec.span * ec.entries.length);
    }
    this.deliver();
    if (this.fecWindow > 0 && this.gapOpen()) {
      this.repairFromFec();
      this.deliver();
    }
    const hold = Math.max(this.holdPackets, this.fecWindow);
    while (!this.has(this.expected) && signed16(this.highest - this.expected) >= hold) {
      this.loseRun();
      this.deliver();
    }
    if (!this.gapOpen()) {
      this.gapDeadline = Number.POSITIVE_INFINITY;
    } else if (this.gapDeadline === Number.POSITIVE_INFINITY) {
      this.gapDeadline = nowMs + this.holdMs;
    }
    return this.gapDeadline;
  }

  /** Gives up held gaps whose time is up; returns the next deadline (+Infinity when none). */
  expire(nowMs: number): number {
    if (nowMs >= this.gapDeadline) this.flush();
    return this.gapDeadline;
  }

  /** Gives up every held gap now and delivers what is held behind it. */
  flush(): void {
    if (this.expected >= 0) this.giveUpBefore((this.highest + 1) & 0xffff);
    this.gapDeadline = Number.POSITIVE_INFINITY;
  }

  /** Something newer than a missing packet is held. */
  private gapOpen(): boolean {
    return signed16(this.highest - this.expected) >= 0 && !this.has(this.expected);
  }

  private has(s: number): boolean {
    const slot = s & (RING - 1);
    return this.tag[slot] === s && this.data[slot] !== null;
  }

  private put(s: number, bytes: Uint8Array, how: number): void {
    const slot = s & (RING - 1);
    this.tag[slot] = s;
    this.data[slot] = bytes;
    this.how[slot] = how;
    if (how !== PRIMARY) this.stats.recovered++;
  }

  private deliver(): void {
    while (this.has(this.expected)) {
      const s = this.expected;
      const slot = s & (RING - 1);
      this.expected = (s + 1) & 0xffff;
      this.sink.ifp(this.data[slot]!, (s + this.offset) & 0xffff, RECOVERY_NAMES[this.how[slot]]);
    }
  }

  /** Declares the run of missing packets at `expected` lost. */
  private loseRun(): void {
    const first = this.expected;
    let n = 0;
    while (!this.has(this.expected) && signed16(this.highest - this.expected) >= 0) {
      this.expected = (this.expected + 1) & 0xffff;
      n++;
    }
    if (n > 0) {
      this.stats.lost += n;
      this.sink.loss((first + this.offset) & 0xffff, n);
    }
  }

  /** Delivers or declares lost everything before logical seq `end`. */
  private giveUpBefore(end: number): void {
    while (signed16(end - this.expected) > 0) {
      if (this.has(this.expected)) {
        this.deliver();
        continue;
      }
      const first = this.expected;
      let n = 0;
      while (!this.has(this.expected) && signed16(end - this.expected) > 0) {
        this.expected = (this.expected + 1) & 0xffff;
        n++;
      }
      this.stats.lost += n;
      this.sink.loss((first + this.offset) & 0xffff, n);
    }
    if (signed16(this.highest - this.expected) < 0) this.highest = (this.expected - 1) & 0xffff;
  }

  /** Forgets the current sequence; the next packet starts a new one. */
  private restart(): void {
    this.flush();
    this.stats.restarts++;
    this.tag.fill(-1);
    this.fecTag.fill(-1);
    this.data.fill(null);
    this.fecData.fill(null);
    this.expected = -1;
    this.offset = 0;
    this.lateRun = 0;
    this.gapDeadline = Number.POSITIVE_INFINITY;
  }

  /** Rebuilds missing IFPs from the parity of the packets held (T.38 Annex C.2.2): one unknown per XOR group. */
  private repairFromFec(): void {
    for (let progress = true, rounds = 0; progress && rounds < 8; rounds++) {
      progress = false;
      const last = signed16(this.highest - this.expected);
      for (let d = -AHEAD; d <= last; d++) {
        const t = (this.expected + d) & 0xffff;
        const slot = t & (RING - 1);
        const parity = this.fecData[slot];
        if (this.fecTag[slot] !== t || parity === null) continue;
        const span = this.fecSpan[slot];
        const entries = parity.length;
        for (let k = 0; k < entries; k++) {
          let missing = -1;
          let unknown = 0;
          for (let j = 0; j < span; j++) {
            const c = (t + k - span * entries + j * entries) & 0xffff;
            if (!this.has(c)) {
              missing = c;
              unknown++;
            }
          }
          if (unknown !== 1) continue;
          const dm = signed16(missing - this.expected);
          if (dm < 0 || dm > AHEAD) continue;
          const rebuilt = Uint8Array.from(parity[k]);
          for (let j = 0; j < span; j++) {
            const c = (t + k - span * entries + j * entries) & 0xffff;
            if (c === missing) continue;
            const other = this.data[c & (RING - 1)]!;
            const n = Math.min(other.length, rebuilt.length);
            for (let i = 0; i < n; i++) rebuilt[i] ^= other[i];
          }
          this.put(missing, rebuilt, FEC);
          progress = true;
        }
      }
    }
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
