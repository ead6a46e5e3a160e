/**
 * @module kamailio
 * Test helper: runs Kamailio (Debian package `kamailio`) in the foreground as a child process with kamailio.cfg
 * beside this file, on a free 127.0.0.1 port (UDP and TCP) and its own runtime/working dir in a temporary folder,
 * and stops it when the test is done. No system service is involved.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from './find-binary.ts';
import { freeUdpTcpPort } from './free-port.ts';

const here = dirname(fileURLToPath(import.meta.url));

export interface KamailioProcess {
  /** UDP and TCP port on 127.0.0.1. */
  readonly port: number;
  /** Everything Kamailio logged so far (stderr), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** Path of the kamailio binary, or undefined when the package is not installed. */
export function kamailioBinary(): string | undefined {
  return findBinary('kamailio', ['/usr/sbin/kamailio', '/usr/local/sbin/kamailio']);
}

/** Sends OPTIONS to the proxy itself until it answers (the config replies 200 Keepalive). */
async function waitUntilAnswering(port: number, child: ChildProcess, deadlineMs: number): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const local = socket.address().port;
  try {
    const start = Date.now();
    for (let i = 0; Date.now() - start < deadlineMs; i++) {
      if (child.exitCode !== null) throw new Error('kamailio exited');
      const branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
      const probe =
        `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${local};branch=${branch}\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p${i}\r\nTo: <sip:127.0.0.1:${port}>\r\n` +
        `Call-ID: probe-${branch}\r\nCSeq: ${i + 1} OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      const answered = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 200);
        socket.once('message', (m) => {
          clearTimeout(timer);
          resolve(m.toString().startsWith('SIP/2.0 200'));
        });
      });
      socket.send(probe, port, '127.0.0.1');
      if (await answered) return;
    }
    throw new Error(`kamailio did not answer OPTIONS on 127.0.0.1:${port} within ${deadlineMs} ms`);
  } finally {
    socket.close();
  }
}

export async function startKamailio(): Promise<KamailioProcess> {
  const binary = kamailioBinary();
  if (!binary) throw new Error('kamailio is not installed (Debian package kamailio)');
  const runDir = await mkdtemp(join(tmpdir(), 'faxwire-kamailio-'));
  const port = await freeUdpTcpPort();
  // -DD: stay in the foreground (no daemon), -E: log to stderr; small memory pools, own runtime dir.
  const child = spawn(
    binary,
    [
      '-DD',
      '-E',
      '-f',
      join(here, 'kamailio.cfg'),
      '-l',
      `udp:127.0.0.1:${port}`,
      '-l',
      `tcp:127.0.0.1:${port}`,
      '-Y',
      runDir,
      '-w',
      runDir,
      '-m',
      '32',
      '-M',
      '4',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    log = (log + c).slice(-200_000);
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(hard);
    }
    await rm(runDir, { recursive: true, force: true });
  };
  try {
    await waitUntilAnswering(port, child, 8000);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${log.slice(-3000)}`);
  }
  return { port, log: () => log, stop };
}
