import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  decodeCtc,
  decodeDcs,
  decodeDis,
  defaultCapabilities,
  encodeCtc,
  encodeDcs,
  encodeDis,
  InvalidDcsError,
  negotiate,
  nextLowerModem,
} from './dis-dcs.ts';
import { Fcf } from './fcf.ts';
import { buildFrame, fromT30Notation, parseFrame, toT30Notation } from './hdlc-frame.ts';

/** The FIF of a TSB-85 frame written in T.30 notation ("FF C8 41 00 50 00" → FIF octets in our order). */
const fifOf = (t30: string) => fromT30Notation(t30).subarray(3);

describe('DIS', () => {
  test('TSB-85 "FF C8 01 00 50 00": V.27ter, standard, A4, MH', () => {
    const caps = decodeDis(fifOf('FF C8 01 00 50 00'));
    assert.deepEqual(caps.modems, ['v27ter']);
    assert.deepEqual(caps.resolutions, ['standard']);
    assert.deepEqual(caps.compressions, ['mh']);
    assert.equal(caps.canReceive, true);
    assert.equal(caps.ecm, false);
    assert.equal(caps.maxWidth, 1728);
    assert.equal(caps.maxLength, 'a4');
    assert.equal(caps.minScanLineMs, 20);
  });

  test('TSB-85 "FF C8 01 00 76 20": V.17, fine, B4', () => {
    const caps = decodeDis(fifOf('FF C8 01 00 76 20'));
    assert.deepEqual(caps.modems, ['v27ter', 'v29', 'v17']);
    assert.deepEqual(caps.resolutions, ['standard', 'fine']);
    assert.equal(caps.maxLength, 'b4');
  });

  test('spandsp 0.0.6 DIS as seen over T.38: V.17, ECM, MMR, superfine', () => {
    const caps = decodeDis(Uint8Array.of(0x04, 0xee, 0xf8, 0xc4, 0x80, 0x91, 0x80, 0x80, 0x80, 0x18));
    assert.ok(caps.modems.includes('v17'));
    assert.equal(caps.ecm, true);
    assert.ok(caps.compressions.includes('mmr'));
    assert.ok(caps.resolutions.includes('superfine'));
    assert.equal(caps.minScanLineMs, 0);
  });

  test('our DIS is pruned with extension bits set, and round-trips', () => {
    const caps = defaultCapabilities();
    const fif = encodeDis(caps);
    assert.equal(fif.length, 7);
    assert.equal(fif[2] & 0x80, 0x80);
    assert.equal(fif[fif.length - 1] & 0x80, 0);
    const back = decodeDis(fif);
    assert.deepEqual(back.modems, ['v27ter', 'v29', 'v17']);
    assert.deepEqual(back.compressions, ['mh', 'mr', 'mmr']);
    assert.deepEqual(back.resolutions, ['standard', 'fine', 'superfine']);
    assert.equal(back.maxWidth, 2432);
    assert.equal(back.maxLength, 'unlimited');
    assert.equal(back.subaddress, true);
  });

  test('a minimal DIS stays 3 octets; MMR is never offered without ECM', () => {
    const fif = encodeDis(
      defaultCapabilities({
        ecm: false,
        resolutions: ['standard'],
        maxWidth: 1728,
        maxLength: 'a4',
        subaddress: false,
        password: false,
      }),
    );
    assert.equal(fif.length, 3);
    assert.equal(decodeDis(fif).compressions.includes('mmr'), false);
  });

  test('octets after a clear extension bit are ignored', () => {
    const caps = decodeDis(Uint8Array.of(0x00, 0x6e, 0x00, 0x44));
    assert.equal(caps.ecm, false);
  });
});

describe('DCS', () => {
  test('TSB-85 "FF C8 41 00 50 00" is V.27ter 4800, standard, MH — and we encode it byte-exact', () => {
    const dcs = decodeDcs(fifOf('FF C8 41 00 50 00'));
    assert.equal(dcs.modem, 'v27ter-4800');
    assert.equal(dcs.resolution, 'standard');
    assert.equal(dcs.compression, 'mh');
    assert.equal(dcs.ecm, false);
    assert.equal(dcs.minScanLineMs, 20);
    const frame = buildFrame(Fcf.DCS, encodeDcs(dcs));
    assert.equal(toT30Notation(frame), 'FF C8 41 00 50 00');
  });

  test('TSB-85 "FF C8 41 00 50 1F 30": ECM with 64-octet frames, unlimited length — byte-exact', () => {
    const dcs = decodeDcs(fifOf('FF C8 41 00 50 1F 30'));
    assert.equal(dcs.ecm, true);
    assert.equal(dcs.ecmFrameSize, 64);
    assert.equal(dcs.length, 'unlimited');
    assert.equal(dcs.minScanLineMs, 0);
    assert.equal(toT30Notation(buildFrame(Fcf.DCS, encodeDcs(dcs))), 'FF C8 41 00 50 1F 30');
  });

  test('TSB-85 "FF C8 41 00 44 0F 30" is V.17 14400 — byte-exact', () => {
    const dcs = decodeDcs(fifOf('FF C8 41 00 44 0F 30'));
    assert.equal(dcs.modem, 'v17-14400');
    assert.equal(dcs.bitRate, 14400);
    assert.equal(toT30Notation(buildFrame(Fcf.DCS, encodeDcs(dcs))), 'FF C8 41 00 44 0F 30');
  });

  test('every modem round-trips through DCS and CTC', () => {
    for (const modem of [
      'v27ter-2400',
      'v27ter-4800',
      'v29-7200',
      'v29-9600',
      'v17-7200',
      'v17-9600',
      'v17-12000',
      'v17-14400',
    ] as const) {
      const dcs = decodeDcs(
        encodeDcs({
          modem,
          bitRate: 0,
          resolution: 'superfine',
          width: 2048,
          length: 'b4',
          compression: 'mmr',
          ecm: true,
          ecmFrameSize: 256,
          minScanLineMs: 0,
        }),
      );
      assert.equal(dcs.modem, modem);
      assert.equal(dcs.resolution, 'superfine');
      assert.equal(dcs.width, 2048);
      assert.equal(dcs.compression, 'mmr');
      assert.equal(decodeCtc(encodeCtc(modem)), modem);
    }
  });

  test('fine resolution uses the "half" minimum scan line time of DIS', () => {
    const remote = decodeDis(Uint8Array.of(0x00, 0x6e, 0x30)); // code 110: 20 ms, 10 ms at fine
    const request = {
      local: defaultCapabilities(),
      maxBitRate: 14400,
      resolution: 'fine' as const,
      width: 1728 as const,
      ecm: false,
      compression: 'mr' as const,
    };
    const r = negotiate(request, remote);
    assert.ok(r.ok);
    assert.equal(r.dcs.minScanLineMs, 10);
    assert.equal(decodeDcs(encodeDcs(r.dcs)).minScanLineMs, 10);
  });

  test('impossible DCS values are typed errors', () => {
    assert.throws(() => decodeDcs(Uint8Array.of(0x00, 0x12, 0x00)), InvalidDcsError); // bits 11–14 = 0100? no: 1000+b13
    assert.throws(() => decodeDcs(Uint8Array.of(0x00, 0x02, 0x80, 0x40)), InvalidDcsError); // T.6 without ECM
    assert.throws(() => decodeDcs(Uint8Array.of(0x00)), InvalidDcsError);
  });
});

describe('negotiation', () => {
  const local = defaultCapabilities();
  const base = { local, maxBitRate: 14400, resolution: 'fine' as const, width: 1728 as const };

  test('best common mode: V.17 14400, MMR with ECM', () => {
    const r = negotiate({ ...base, ecm: true, compression: 'mmr' }, local);
    assert.ok(r.ok);
    assert.equal(r.dcs.modem, 'v17-14400');
    assert.equal(r.dcs.compression, 'mmr');
    assert.equal(r.dcs.ecm, true);
  });

  test('MMR falls to MR without ECM, and to MH when the far end lacks MR', () => {
    const r1 = negotiate({ ...base, ecm: false, compression: 'mmr' }, local);
    assert.ok(r1.ok);
    assert.equal(r1.dcs.compression, 'mr');
    const remote = decodeDis(fifOf('FF C8 01 00 76 20'));
    const r2 = negotiate({ ...base, ecm: true, compression: 'mmr' }, remote);
    assert.ok(r2.ok);
    assert.equal(r2.dcs.compression, 'mh');
    assert.equal(r2.dcs.ecm, false);
  });

  test('max rate and fallback order (§1.2 table)', () => {
    const r = negotiate({ ...base, maxBitRate: 9600, ecm: false, compression: 'mh' }, local);
    assert.ok(r.ok);
    assert.equal(r.dcs.modem, 'v17-9600');
    const chain = [];
    let m: ReturnType<typeof nextLowerModem> = 'v17-14400';
    while (m) {
      chain.push(m);
      m = nextLowerModem(m, local, local, 14400);
    }
    assert.deepEqual(chain, [
      'v17-14400',
      'v17-12000',
      'v17-9600',
      'v29-9600',
      'v17-7200',
      'v29-7200',
      'v27ter-4800',
      'v27ter-2400',
    ]);
  });

  test('no common resolution or width: a reason, not a throw', () => {
    const remote = decodeDis(fifOf('FF C8 01 00 50 00'));
    const r = negotiate({ ...base, ecm: false, compression: 'mh' }, remote);
    assert.equal(r.ok, false);
    const r2 = negotiate(
      { ...base, resolution: 'standard', width: 2432, ecm: false, compression: 'mh' },
      remote,
    );
    assert.equal(r2.ok, false);
  });
});

describe('frames', () => {
  test('X bit: set on commands after DIS, masked on receive; DIS/DTC keep their first bit', () => {
    const dcs = buildFrame(Fcf.DCS, undefined, { x: true });
    assert.equal(dcs[2], 0x83);
    assert.equal(parseFrame(dcs)?.command, Fcf.DCS);
    assert.equal(parseFrame(dcs)?.xBit, true);
    assert.equal(buildFrame(Fcf.DIS, undefined, { x: true })[2], 0x80);
    assert.equal(parseFrame(Uint8Array.of(0xff, 0x13, 0x81))?.command, Fcf.DTC);
    assert.equal(parseFrame(fromT30Notation('FF C8 21'))?.command, Fcf.CFR);
    assert.equal(parseFrame(fromT30Notation('FF C8 31'))?.command, Fcf.MCF);
  });

  test('malformed frames parse to null', () => {
    assert.equal(parseFrame(Uint8Array.of(0xff, 0x13)), null);
    assert.equal(parseFrame(Uint8Array.of(0x00, 0x13, 0x84)), null);
    assert.equal(parseFrame(Uint8Array.of(0xff, 0x55, 0x84)), null);
    assert.equal(parseFrame(new Uint8Array(400).fill(0xff)), null);
  });
});
