/**
 * @module spandsp-peer
 * Test helper around the spandsp T.38 peer (peer.c): builds the C program on demand (cached by a hash of
 * its sources), runs it, and parses the JSON line it prints. The peer is the reference far end that
 * Faxwire's own T.30/T.38 stack must interoperate with.
 */
import { createSocket, type Socket } from 'node:dgram';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cachedCBuildOnce } from './cached-c-build.ts';
import { type PeerProcess, type PeerRun, startPeerProcess } from './peer-process.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** The JSON line the peer prints on stdout when it ends. */
export interface SpandspPeerResult {
  ok: boolean;
  reason: string;
  completionCode: number;
  pages: number;
  bitRate: number;
  ecm: boolean;
  compression: 'mh' | 'mr' | 'mmr' | 'none';
  resolution: 'standard' | 'fine' | 'superfine' | 'unknown';
  remoteIdent: string;
  durationMs: number;
  simulatedMs: number;
  txDatagrams: number;
  txDropped: number;
  rxDatagrams: number;
  rxRecovered: number;
  rxLost: number;
  rxMalformed: number;
  /** datagrams the kernel dropped because the peer's socket buffer was full */
  rxOverflow: number;
}

export type SpandspPeerRun = PeerRun<SpandspPeerResult>;

/** A started peer: `ready` resolves once its UDP socket is bound, `done` when it exits; `kill` ends the call. */
export type SpandspPeerProcess = PeerProcess<void, SpandspPeerResult>;

export interface SpandspPeerOptions {
  /** Stop the process after this long (ms); the peer's own --timeout-s should normally fire first. */
  killAfterMs?: number;
}

/** Compiles the peer if its sources changed since the last build; returns the binary's path. */
export const buildSpandspPeer = cachedCBuildOnce({
  name: 'spandsp-peer',
  dir: here,
  pkgConfig: ['spandsp', 'libtiff-4'],
  installHint: 'apt-get install -y gcc pkg-config libspandsp-dev libtiff-dev',
});

/** Starts the peer with `args` (e.g. `['send', 'doc.tif', '--local-port', …]`). */
export async function startSpandspPeer(
  args: readonly string[],
  options: SpandspPeerOptions = {},
): Promise<SpandspPeerProcess> {
  return startPeerProcess<void, SpandspPeerResult>(await buildSpandspPeer(), args, {
    name: 'spandsp-peer',
    readyLine: /spandsp-peer: listening/,
    readyValue: () => undefined,
    hardKillAfterMs: 2000,
    killAfterMs: options.killAfterMs,
  });
}

/** Runs the peer to completion. */
export async function runSpandspPeer(
  args: readonly string[],
  options: SpandspPeerOptions = {},
): Promise<SpandspPeerRun> {
  return (await startSpandspPeer(args, options)).done;
}

/** `n` distinct UDP ports that were free on 127.0.0.1 a moment ago. */
export async function freeUdpPorts(n: number): Promise<number[]> {
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const socket = createSocket('udp4');
      sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve());
      });
    }
    return sockets.map((s) => s.address().port);
  } finally {
    await Promise.all(
      sockets.map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.close(() => resolve());
            } catch {
              resolve(); // never bound
            }
          }),
      ),
    );
  }
}
