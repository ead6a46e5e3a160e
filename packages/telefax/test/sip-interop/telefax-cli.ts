/**
 * @module telefax-cli
 * Test helper: runs the `telefax` CLI as a child process and reads what it prints: the SIP port `sip answer`
 * listens on, the final JSON line, and the SIP messages of `--sip-trace`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin/telefax.js', import.meta.url));

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  /** The SIP port once `sip answer` listens. */
  ready: Promise<number>;
  done: Promise<CliRun>;
}

export function runTelefax(args: readonly string[], killAfterMs = 30_000): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let markReady: (port: number) => void = () => {};
  const ready = new Promise<number>((resolve) => {
    markReady = resolve;
  });
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
    const m = /telefax: listening on sip port (\d+)/.exec(stderr);
    if (m) markReady(Number(m[1]));
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (status) => {
      clearTimeout(killer);
      resolve({ status, stdout, stderr });
    });
  });
  return { ready, done };
}

// biome-ignore lint/suspicious/noExplicitAny: the JSON line is checked field by field by the tests
export function lastJson(stdout: string): any {
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null');
}

export function explain(run: CliRun): string {
  return `exit ${run.status}\n${run.stdout}\n${run.stderr.slice(-4000)}`;
}

export interface TracedMessage {
  direction: 'in' | 'out';
  /** `PROTO address:port` of the far end. */
  peer: string;
  text: string;
}

/** The SIP messages printed by `--sip-trace` (`>> UDP 127.0.0.1:5060` or `<< …`, the message, a blank line). */
export function tracedMessages(stderr: string): TracedMessage[] {
  const out: TracedMessage[] = [];
  const parts = stderr.split(/^(>>|<<) (\S+ \S+)\n/m);
  for (let i = 1; i + 2 < parts.length + 1; i += 3) {
    out.push({ direction: parts[i] === '>>' ? 'out' : 'in', peer: parts[i + 1]!, text: parts[i + 2] ?? '' });
  }
  return out;
}
