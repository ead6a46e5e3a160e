/**
 * @module spandsp-peer
 * Test helper around the spandsp T.38 peer (peer.c): builds the C program on demand (cached by a hash of
 * its sources), runs it, and parses the JSON line it prints. The peer is the reference far end that
 * Faxwire's own T.30/T.38 stack must interoperate with.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { cachedCBuild, lastJsonLine } from './cached-c-build.ts';

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

export interface SpandspPeerRun {
  exitCode: number | null;
  json: SpandspPeerResult | null;
  stdout: string;
  stderr: string;
}

/** A started peer: `ready` resolves once its UDP socket is bound, `done` when it exits; `kill` ends the call. */
export interface SpandspPeerProcess {
  ready: Promise<void>;
  done: Promise<SpandspPeerRun>;
  kill(): void;
}

export interface SpandspPeerOptions {
  /** Stop the process after this long (ms); the peer's own --timeout-s should normally fire first. */
  killAfterMs?: number;
}

let building: Promise<string> | undefined;

function compile(): Promise<string> {
  return cachedCBuild({
    name: 'spandsp-peer',
    dir: here,
    pkgConfig: ['spandsp', 'libtiff-4'],
    installHint: 'apt-get install -y gcc pkg-config libspandsp-dev libtiff-dev',
  });
}

/** Compiles the peer if its sources changed since the last build; returns the binary's path. */
export function buildSpandspPeer(): Promise<string> {
  building ??= compile().catch((err: unknown) => {
    building = undefined;
    throw err;
  });
  return building;
}

/** Starts the peer with `args` (e.g. `['send', 'doc.tif', '--local-port', …]`). */
export async function startSpandspPeer(
  args: readonly string[],
  options: SpandspPeerOptions = {},
): Promise<SpandspPeerProcess> {
  const binary = await buildSpandspPeer();
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  let failReady: (err: Error) => void = () => {};
  const ready = new Promise<void>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.includes('spandsp-peer: listening')) markReady();
  });
  // SIGTERM lets the peer end the call and still print its JSON; SIGKILL follows if it does not exit.
  let hardKill: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    hardKill ??= setTimeout(() => child.kill('SIGKILL'), 2000);
  };
  const killer = options.killAfterMs === undefined ? undefined : setTimeout(stop, options.killAfterMs);
  const done = new Promise<SpandspPeerRun>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(killer);
      clearTimeout(hardKill);
      failReady(err);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      clearTimeout(hardKill);
      failReady(new Error(`spandsp-peer exited (${code}) before binding its socket:\n${stderr}`));
      resolve({ exitCode: code, json: lastJsonLine<SpandspPeerResult>(stdout), stdout, stderr });
    });
  });
  // A peer that fails before `ready` is reported through `done`; keep `ready` from being an unhandled rejection.
  ready.catch(() => {});
  return { ready, done, kill: stop };
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
