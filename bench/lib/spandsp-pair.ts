/**
 * @module
 * One fax call between two spandsp test peers (packages/telefax/test/spandsp-peer), or one peer and a caller-given
 * far end: spawns the processes with a known pid, so the benchmark can sample their memory, and returns each peer's
 * JSON result. The caller starts first and the answerer once the caller's socket is bound (the answerer sends DIS
 * at once; see the peer's README).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import {
  buildSpandspPeer,
  type SpandspPeerResult,
} from '../../packages/telefax/test/spandsp-peer/spandsp-peer.ts';

export type { SpandspPeerResult } from '../../packages/telefax/test/spandsp-peer/spandsp-peer.ts';

export interface PeerHandle {
  readonly pid: number;
  /** Resolves once the peer's socket is bound. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited (and been reaped), with its JSON line if it printed one. */
  readonly done: Promise<{ exitCode: number | null; json: SpandspPeerResult | null; stderr: string }>;
  kill(): void;
}

/** Starts one peer with `args` (send FILE … | receive --out FILE …). */
export async function startPeer(args: readonly string[]): Promise<PeerHandle> {
  const binary = await buildSpandspPeer();
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.includes('spandsp-peer: listening')) markReady();
  });
  const done = new Promise<{ exitCode: number | null; json: SpandspPeerResult | null; stderr: string }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => {
        markReady();
        const last = stdout.trim().split('\n').pop() ?? '';
        let json: SpandspPeerResult | null = null;
        try {
          json = last.startsWith('{') ? (JSON.parse(last) as SpandspPeerResult) : null;
        } catch {
          json = null;
        }
        resolve({ exitCode: code, json, stderr });
      });
    },
  );
  if (child.pid === undefined) throw new Error('spandsp-peer did not start');
  return {
    pid: child.pid,
    ready,
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

export interface SpandspPairOptions {
  /** The TIFF to send. */
  readonly document: string;
  /** Where the receiver writes the received TIFF. */
  readonly out: string;
  readonly senderPort: number;
  readonly receiverPort: number;
  /** Extra options for both peers (e.g. --pace, --timeout-s). */
  readonly common: readonly string[];
}

/** Starts the calling sender, then the answering receiver; returns both handles. */
export async function startSpandspPair(options: SpandspPairOptions): Promise<[PeerHandle, PeerHandle]> {
  const { senderPort, receiverPort } = options;
  const sender = await startPeer([
    'send',
    options.document,
    '--local-port',
    String(senderPort),
    '--remote',
    `127.0.0.1:${receiverPort}`,
    '--ident',
    'spandsp-tx',
    ...options.common,
  ]);
  await sender.ready;
  const receiver = await startPeer([
    'receive',
    '--out',
    options.out,
    '--local-port',
    String(receiverPort),
    '--remote',
    `127.0.0.1:${senderPort}`,
    '--ident',
    'spandsp-rx',
    ...options.common,
  ]);
  return [sender, receiver];
}
