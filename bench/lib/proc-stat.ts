/**
 * @module
 * CPU and memory of processes from Linux /proc: this process's waited-for children (cutime + cstime), and the
 * resident and proportional set size of one process (PSS splits shared library pages among their users, so the
 * per-process figure of many copies of one program is not inflated by the shared libspandsp/libtiff pages).
 */

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticksPerSecond = 0;

function clockTicks(): number {
  if (ticksPerSecond === 0) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout;
    ticksPerSecond = Number(out.trim()) || 100;
  }
  return ticksPerSecond;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): index 0 is field 3, "state". */
function statFields(pid: number | 'self'): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds of this process's children that have exited and been reaped (proc(5) fields 16 and 17). */
export function childrenCpuSeconds(): number {
  const f = statFields('self');
  return (Number(f[13]) + Number(f[14])) / clockTicks();
}

/** CPU seconds a running process has used so far (fields 14 and 15), or null when it is gone. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const f = statFields(pid);
    return (Number(f[11]) + Number(f[12])) / clockTicks();
  } catch {
    return null;
  }
}

/** Resident and proportional set size of a process in kB, or null when it is gone. */
export function processMemoryKb(pid: number): { rssKb: number; pssKb: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const rss = /^Rss:\s+(\d+)/m.exec(text);
    const pss = /^Pss:\s+(\d+)/m.exec(text);
    return { rssKb: Number(rss?.[1] ?? 0), pssKb: Number(pss?.[1] ?? 0) };
  } catch {
    return null;
  }
}

/** The 1-, 5- and 15-minute load averages. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'n/a';
  }
}
