/**
 * @module baresip
 * Test helper: runs baresip (Debian package `baresip`) headless as a plain voice phone — PCMU/PCMA only, no T.38 —
 * with its config in a temporary folder: SIP on a free 127.0.0.1 port, no registration, no UI module, audio from a
 * generated WAV of silence (aufile) into a bridge device (aubridge) instead of a sound card. It either auto-answers
 * calls or dials one URI at start. Its `-t` quit timer and our kill timer bound every run.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinary } from './find-binary.ts';
import { freeUdpTcpPort } from './free-port.ts';

export interface BaresipOptions {
  /** Dial this URI at start; without it baresip waits and auto-answers. */
  readonly dial?: string;
  /** baresip quits after this many seconds (its -t option). Default 15. */
  readonly quitAfterS?: number;
}

export interface BaresipRun {
  exitCode: number | null;
  log: string;
}

export interface BaresipProcess {
  /** Its SIP port on 127.0.0.1 (UDP and TCP). */
  readonly port: number;
  log(): string;
  readonly done: Promise<BaresipRun>;
  stop(): Promise<BaresipRun>;
}

export function baresipBinary(): string | undefined {
  return findBinary('baresip', ['/usr/bin/baresip', '/usr/local/bin/baresip']);
}

/**
 * 8 kHz 16-bit mono silence (aufile only reads S16LE WAV), longer than any call here: at the end of its file
 * baresip hangs up ("audio error (end of file)").
 */
function silenceWav(seconds: number): Buffer {
  const samples = 8000 * seconds;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0, 'ascii');
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8, 'ascii');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(8000, 24);
  wav.writeUInt32LE(16000, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'ascii');
  wav.writeUInt32LE(samples * 2, 40);
  return wav;
}

export async function startBaresip(options: BaresipOptions = {}): Promise<BaresipProcess> {
  const binary = baresipBinary();
  if (!binary) throw new Error('baresip is not installed (Debian package baresip)');
  const dir = await mkdtemp(join(tmpdir(), 'faxwire-baresip-'));
  const port = await freeUdpTcpPort();
  const wav = join(dir, 'silence.wav');
  await writeFile(wav, silenceWav((options.quitAfterS ?? 15) + 5));
  const config = [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${port}`,
    'call_local_timeout 20',
    'call_max_calls 1',
    `audio_source aufile,${wav}`,
    'audio_player aubridge,faxwire',
    'audio_alert aubridge,faxwire',
    'module_path /usr/lib/baresip/modules',
    'module g711.so',
    'module aufile.so',
    'module aubridge.so',
    'module_tmp account.so',
    // menu carries auto-answer and the /dial command; without stdio.so there is no interactive UI.
    'module_app menu.so',
  ];
  await writeFile(join(dir, 'config'), `${config.join('\n')}\n`);
  await writeFile(join(dir, 'accounts'), '<sip:voice@127.0.0.1>;regint=0;answermode=auto\n');
  await writeFile(join(dir, 'contacts'), '');
  const args = ['-f', dir, '-t', String(options.quitAfterS ?? 15)];
  if (options.dial) args.push('-e', `/dial ${options.dial}`);
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  let log = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  const onData = (c: string) => {
    log = (log + c).slice(-100_000);
    if (log.includes('baresip is ready.')) markReady();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const done = new Promise<BaresipRun>((resolve) => {
    child.once('close', (code) => {
      void rm(dir, { recursive: true, force: true }).finally(() => resolve({ exitCode: code, log }));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const hard = setTimeout(() => child.kill('SIGKILL'), 2000);
      const run = await done;
      clearTimeout(hard);
      return run;
    }
    return done;
  };
  const started = await Promise.race([
    ready.then(() => true),
    done.then(() => false),
    new Promise<boolean>((r) => setTimeout(() => r(false), 8000).unref()),
  ]);
  if (!started) {
    const run = await stop();
    throw new Error(`baresip did not start (exit ${run.exitCode}):\n${run.log.slice(-3000)}`);
  }
  return { port, log: () => log, done, stop };
}
