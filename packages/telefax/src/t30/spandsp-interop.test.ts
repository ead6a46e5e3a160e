/**
 * @module spandsp-interop.test
 * Our T.30 engine against spandsp's (t38_terminal in test/spandsp-peer) over T.38/UDPTL on 127.0.0.1, both
 * directions: pass = both ends report success, page counts match, the received pages are pixel-identical.
 */
import assert from 'node:assert/strict';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { samplePage } from '../codec/sample-pages.ts';
import { type BilevelPage, samePixels } from '../image/bilevel-page.ts';
import { readTiff } from '../image/tiff-reader.ts';
import { writeTiff } from '../image/tiff-writer.ts';
import { T38Transport } from '../t38/t38-transport.ts';
import { T30Session } from './t30-session.ts';

/** The parts of test/spandsp-peer/spandsp-peer.ts used here (it lives outside this package's rootDir). */
interface PeerRun {
  exitCode: number | null;
  json: { ok: boolean; pages: number; compression: string; remoteIdent: string } | null;
  stderr: string;
}
interface PeerHelper {
  freeUdpPorts(n: number): Promise<number[]>;
  startSpandspPeer(
    args: readonly string[],
    options?: { killAfterMs?: number },
  ): Promise<{ ready: Promise<void>; done: Promise<PeerRun>; kill(): void }>;
}
const helperUrl = new URL('../../test/spandsp-peer/spandsp-peer.ts', import.meta.url).href;
const { freeUdpPorts, startSpandspPeer } = (await import(helperUrl)) as PeerHelper;

const PAGES: BilevelPage[] = [
  samplePage('text', 1728, 300, 1),
  samplePage('random', 1728, 120, 2),
  samplePage('stripes', 1728, 200, 3),
];

/**
 * Without ECM nothing repairs a datagram lost on the loopback (an unpaced peer sends a page in one burst that can
 * overflow the socket buffer on a busy machine), so the non-ECM runs from spandsp use the two lighter pages.
 */
const LIGHT_PAGES: BilevelPage[] = [PAGES[0], PAGES[2]];

let dir = '';
let doc = '';
let lightDoc = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 't30-spandsp-'));
  doc = join(dir, 'doc.tif');
  await writeFile(doc, writeTiff(PAGES, { compression: 'mh' }));
  lightDoc = join(dir, 'light.tif');
  await writeFile(lightDoc, writeTiff(LIGHT_PAGES, { compression: 'mh' }));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const MODES = [
  { ecm: true, compression: 'mmr' },
  { ecm: true, compression: 'mh' },
  { ecm: false, compression: 'mh' },
  { ecm: false, compression: 'mr' },
] as const;

async function ourPort(localPort: number, remotePort: number, redundancy = true) {
  return T38Transport.open({
    udptl: {
      localPort,
      localAddress: '127.0.0.1',
      remoteHost: '127.0.0.1',
      remotePort,
      ...(redundancy ? {} : { errorCorrection: { mode: 'none' as const } }),
    },
    pace: 'none',
  });
}

describe('spandsp ↔ Faxwire T.30 over T.38', () => {
  for (const mode of MODES) {
    const label = `ECM ${mode.ecm ? 'on' : 'off'}, ${mode.compression}`;
    const peerMode = ['--ecm', mode.ecm ? 'on' : 'off', '--compression', mode.compression, '--pace', 'none'];

    test(`we send (calling), spandsp receives: ${label}`, async () => {
      const [peerPort, localPort] = await freeUdpPorts(2);
      const out = join(dir, `rx-${mode.ecm}-${mode.compression}.tif`);
      const port = await ourPort(localPort, peerPort);
      try {
        const session = new T30Session({
          port,
          direction: 'send',
          calling: true,
          pages: PAGES,
          ecm: mode.ecm,
          compression: mode.compression,
          ident: 'faxwire',
        });
        const running = session.run();
        const peer = await startSpandspPeer(
          [
            'receive',
            '--out',
            out,
            '--local-port',
            String(peerPort),
            '--remote',
            `127.0.0.1:${localPort}`,
            ...peerMode,
          ],
          { killAfterMs: 60_000 },
        );
        const [outcome, run] = await Promise.all([running, peer.done]);
        assert.equal(outcome.ok, true, JSON.stringify(outcome));
        assert.equal(run.json?.ok, true, run.stderr.slice(-2000));
        assert.equal(run.json?.pages, PAGES.length);
        assert.equal(run.json?.compression, mode.compression);
        assert.equal(run.json?.remoteIdent.trim(), 'faxwire');
        assert.equal(outcome.remoteIdent, 'spandsp-peer');
        const got = readTiff(await readFile(out)).pages.map((p) => p.page);
        assert.equal(got.length, PAGES.length);
        for (let i = 0; i < got.length; i++) assert.ok(samePixels(got[i], PAGES[i]), `page ${i + 1} differs`);
      } finally {
        await port.close();
      }
    });

    test(`spandsp sends (calling), we receive: ${label}`, async () => {
      const [peerPort, localPort] = await freeUdpPorts(2);
      const pages = mode.ecm ? PAGES : LIGHT_PAGES;
      const peer = await startSpandspPeer(
        [
          'send',
          mode.ecm ? doc : lightDoc,
          '--local-port',
          String(peerPort),
          '--remote',
          `127.0.0.1:${localPort}`,
          ...peerMode,
        ],
        { killAfterMs: 60_000 },
      );
      await peer.ready;
      const port = await ourPort(localPort, peerPort);
      const received: BilevelPage[] = [];
      try {
        const session = new T30Session({
          port,
          direction: 'receive',
          calling: false,
          ecm: mode.ecm,
          compression: mode.compression,
          ident: 'faxwire',
          onPage: (p) => {
            received.push(p);
          },
        });
        const [outcome, run] = await Promise.all([session.run(), peer.done]);
        assert.equal(outcome.ok, true, JSON.stringify(outcome));
        assert.equal(run.json?.ok, true, run.stderr.slice(-2000));
        assert.equal(outcome.pages, pages.length);
        assert.equal(outcome.line?.compression, mode.compression);
        assert.equal(received.length, pages.length);
        for (let i = 0; i < received.length; i++) {
          assert.ok(
            samePixels(received[i], pages[i]),
            `page ${i + 1} differs (${JSON.stringify(port.stats)})`,
          );
        }
      } finally {
        await port.close();
      }
    });
  }

  test('spandsp polls us (calling receiver), we send as the called station', async () => {
    const [peerPort, localPort] = await freeUdpPorts(2);
    const out = join(dir, 'rx-poll.tif');
    const port = await ourPort(localPort, peerPort);
    try {
      const session = new T30Session({
        port,
        direction: 'send',
        calling: false,
        pages: PAGES,
        ident: 'faxwire',
      });
      const peer = await startSpandspPeer(
        [
          'receive',
          '--caller',
          '--out',
          out,
          '--local-port',
          String(peerPort),
          '--remote',
          `127.0.0.1:${localPort}`,
          '--pace',
          'none',
        ],
        { killAfterMs: 60_000 },
      );
      const [outcome, run] = await Promise.all([session.run(), peer.done]);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      assert.equal(run.json?.ok, true, run.stderr.slice(-2000));
      const got = readTiff(await readFile(out)).pages.map((p) => p.page);
      for (let i = 0; i < got.length; i++) assert.ok(samePixels(got[i], PAGES[i]), `page ${i + 1} differs`);
      assert.equal(got.length, PAGES.length);
    } finally {
      await port.close();
    }
  });

  test('lossy line both ways (every 20th datagram lost): ECM repairs with PPR, pages identical', async () => {
    // We send through a relay that loses every 20th of our datagrams; spandsp drops 5 % of its own.
    const [peerPort, localPort, relayPort] = await freeUdpPorts(3);
    const relay = createSocket('udp4');
    let ours: RemoteInfo | null = null;
    let n = 0;
    relay.on('message', (msg, from) => {
      if (from.port === peerPort) {
        if (ours) relay.send(msg, ours.port, ours.address);
        return;
      }
      ours = from;
      if (++n % 20 !== 0) relay.send(msg, peerPort, '127.0.0.1');
    });
    await new Promise<void>((resolve) => relay.bind(relayPort, '127.0.0.1', () => resolve()));
    const out = join(dir, 'rx-lossy.tif');
    // No UDPTL redundancy on our side, so lost datagrams reach T.30 and ECM has to repair them.
    const port = await ourPort(localPort, relayPort, false);
    let pprs = 0;
    try {
      const session = new T30Session({
        port,
        direction: 'send',
        calling: true,
        pages: PAGES,
        ident: 'faxwire',
        onTrace: (e) => {
          if (e.dir === 'rx' && e.what === 'PPR') pprs++;
        },
      });
      const running = session.run();
      const peer = await startSpandspPeer(
        [
          'receive',
          '--out',
          out,
          '--local-port',
          String(peerPort),
          '--remote',
          `127.0.0.1:${relayPort}`,
          '--pace',
          'none',
          '--loss',
          '5',
          '--seed',
          '3',
        ],
        { killAfterMs: 60_000 },
      );
      const [outcome, run] = await Promise.all([running, peer.done]);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      assert.equal(run.json?.ok, true, run.stderr.slice(-2000));
      assert.ok(pprs > 0, 'the loss was repaired by ECM (PPR)');
      const got = readTiff(await readFile(out)).pages.map((p) => p.page);
      assert.equal(got.length, PAGES.length);
      for (let i = 0; i < got.length; i++) assert.ok(samePixels(got[i], PAGES[i]), `page ${i + 1} differs`);
    } finally {
      relay.close();
      await port.close();
    }
  });

  test('spandsp sends over a lossy line (5 % of its datagrams lost, redundancy 1): we repair with PPR', async () => {
    const [peerPort, localPort] = await freeUdpPorts(2);
    const peer = await startSpandspPeer(
      [
        'send',
        doc,
        '--local-port',
        String(peerPort),
        '--remote',
        `127.0.0.1:${localPort}`,
        '--pace',
        'none',
        '--loss',
        '5',
        '--seed',
        '4',
        '--redundancy',
        '1',
      ],
      { killAfterMs: 60_000 },
    );
    await peer.ready;
    const port = await ourPort(localPort, peerPort);
    const received: BilevelPage[] = [];
    try {
      const session = new T30Session({
        port,
        direction: 'receive',
        calling: false,
        onPage: (p) => {
          received.push(p);
        },
      });
      const [outcome, run] = await Promise.all([session.run(), peer.done]);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      assert.equal(run.json?.ok, true, run.stderr.slice(-2000));
      assert.equal(received.length, PAGES.length);
      for (let i = 0; i < received.length; i++)
        assert.ok(samePixels(received[i], PAGES[i]), `page ${i + 1} differs`);
    } finally {
      await port.close();
    }
  });
});
