/**
 * @module
 * Runs a test peer's binary (spandsp-peer, spandsp-sip-peer): collects its output, tells when it is ready from
 * a line on stderr, and parses the JSON line it prints when it ends. SIGTERM lets a peer end its call and still
 * print that line; SIGKILL follows if it does not exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { lastJsonLine } from './cached-c-build.ts';

export interface PeerRun<Result> {
  exitCode: number | null;
  json: Result | null;
  stdout: string;
  stderr: string;
}

/** A started peer: `ready` resolves once it is up, `done` when it exits; `kill` ends the call. */
export interface PeerProcess<Ready, Result> {
  ready: Promise<Ready>;
  done: Promise<PeerRun<Result>>;
  kill(): void;
}

export interface PeerProcessOptions<Ready> {
  /** The program's name, for errors. */
  readonly name: string;
  /** The stderr line that says the peer is up; `ready` resolves with what `readyValue` makes of the match. */
  readonly readyLine: RegExp;
  readonly readyValue: (match: RegExpExecArray) => Ready;
  /** How long SIGTERM has before SIGKILL (ms). */
  readonly hardKillAfterMs: number;
  /** Stop the process after this long (ms); the peer's own --timeout-s should normally fire first. */
  readonly killAfterMs?: number;
}

export function startPeerProcess<Ready, Result>(
  binary: string,
  args: readonly string[],
  options: PeerProcessOptions<Ready>,
): PeerProcess<Ready, Result> {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: (value: Ready) => void = () => {};
  let failReady: (err: Error) => void = () => {};
  const ready = new Promise<Ready>((resolve, reject) => {
    markReady = resolve;
    failReady = reject;
  });
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    const match = options.readyLine.exec(stderr);
    if (match) markReady(options.readyValue(match));
  });
  let hardKill: NodeJS.Timeout | undefined;
  const stop = () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    hardKill ??= setTimeout(() => child.kill('SIGKILL'), options.hardKillAfterMs);
  };
  const killer = options.killAfterMs === undefined ? undefined : setTimeout(stop, options.killAfterMs);
  const done = new Promise<PeerRun<Result>>((resolve, reject) => {
    child.on('error', (err) => {
      clearTimeout(killer);
      clearTimeout(hardKill);
      failReady(err);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      clearTimeout(hardKill);
      failReady(new Error(`${options.name} exited (${code}) before it was ready:\n${stderr}`));
      resolve({ exitCode: code, json: lastJsonLine<Result>(stdout), stdout, stderr });
    });
  });
  // A peer that fails before `ready` is reported through `done`; keep `ready` from being an unhandled rejection.
  ready.catch(() => {});
  return { ready, done, kill: stop };
}

/** A finished run for an assertion message: exit code, JSON line and the end of stderr. */
export function describePeerRun(
  run: { readonly exitCode: number | null; readonly json: unknown; readonly stderr: string },
  stderrChars = 2000,
): string {
  return `exit ${run.exitCode} ${JSON.stringify(run.json)}\n${run.stderr.slice(-stderrChars)}`;
}
