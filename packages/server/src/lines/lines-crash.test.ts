/**
 * @module lines/lines-crash.test
 * A server killed (SIGKILL) in the middle of sending a fax over the loopback carrier: after a restart on the same
 * data, the queue's lease runs out, the send job runs again and the fax is delivered — once: one delivery, two
 * attempts, nothing left queued. The reception the crash cut off is closed as failed, keeping its pages.
 * The servers run with a short job lease (FAXWIRE_JOB_LEASE_MS), so the takeover comes within seconds.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { postScriptToPdf, textPagesPostScript } from '../documents/sample-documents.ts';
import { openDatabase } from '../store/database.ts';

const FIXTURE = fileURLToPath(new URL('./platform-process.fixture.ts', import.meta.url));
const LEASE_MS = 3000;

interface FaxView {
  readonly id: string;
  readonly status: string;
  readonly attempts: number;
  readonly pagesTransferred: number;
}

interface Server {
  readonly child: ChildProcess;
  readonly address: string;
}

async function startServer(dataDir: string, pacing: 'realtime' | 'none'): Promise<Server> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: {
      ...process.env,
      FAXWIRE_DATA_DIR: dataDir,
      FAXWIRE_PORT: '0',
      FAXWIRE_LOOPBACK_PACING: pacing,
      FAXWIRE_LOG_LEVEL: 'silent',
      FAXWIRE_JOB_LEASE_MS: String(LEASE_MS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => Promise.reject(new Error('the server exited before it was up'))),
  ])) as [string];
  return { child, address: JSON.parse(first).address };
}

async function stop(server: Server, signal: NodeJS.Signals): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = once(server.child, 'exit');
  server.child.kill(signal);
  await exited;
}

describe('a server killed mid-send', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-lines-crash-'));
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) await stop(s, 'SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers the fax after a restart, once', { timeout: 120_000 }, async () => {
    // Paced like a real line, so the kill lands while the call is on.
    const first = await startServer(dataDir, 'realtime');
    servers.push(first);
    const auth = { authorization: `Bearer ${readFileSync(join(dataDir, 'initial-api-key'), 'utf8').trim()}` };
    const api = async <T = FaxView>(path: string, init: RequestInit = {}): Promise<T> => {
      const server = servers.at(-1)!;
      const res = await fetch(`${server.address}${path}`, {
        ...init,
        headers: { ...auth, 'content-type': 'application/json', ...init.headers },
      });
      return (await res.json()) as T;
    };
    const numbers = (await api<{ data: Array<{ number: string }> }>('/v1/numbers')).data.map((n) => n.number);
    const pdf = Buffer.from(postScriptToPdf(textPagesPostScript(2))).toString('base64');
    const created = await api('/v1/faxes', {
      method: 'POST',
      body: JSON.stringify({ to: numbers[1], from: numbers[0], documents: [{ content: pdf }] }),
    });
    const id = created.id as string;
    let status = '';
    for (let i = 0; i < 600 && status !== 'sending'; i++) {
      await sleep(50);
      status = (await api(`/v1/faxes/${id}`)).status;
    }
    assert.equal(status, 'sending', 'the fax was on the line when the server was killed');
    await stop(first, 'SIGKILL');

    // The dead server's lease, as the restarted one will find it: held by the killed process, under the
    // configured lease (renewals set it to their time plus the lease).
    const store = await openDatabase({ engine: 'sqlite', path: join(dataDir, 'faxwire.db') });
    const held = await store.db
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', 'fax.send')
      .executeTakeFirstOrThrow()
      .finally(() => store.close());
    assert.match(held.locked_by ?? '', new RegExp(`:${first.child.pid}:`));
    assert.equal(held.attempts, 1);
    assert.equal(held.locked_until! - held.updated_at, LEASE_MS);

    servers.push(await startServer(dataDir, 'none'));
    let fax = await api(`/v1/faxes/${id}`);
    for (let i = 0; i < 1200 && fax.status !== 'delivered' && fax.status !== 'failed'; i++) {
      await sleep(100);
      fax = await api(`/v1/faxes/${id}`);
    }
    assert.equal(fax.status, 'delivered', JSON.stringify(fax));
    assert.equal(fax.attempts, 2);
    assert.equal(fax.pagesTransferred, 2);
    await stop(servers.at(-1)!, 'SIGTERM');

    const database = await openDatabase({ engine: 'sqlite', path: join(dataDir, 'faxwire.db') });
    try {
      const events = await database.db
        .selectFrom('fax_events')
        .select(['type', 'created_at'])
        .where('fax_id', '=', id)
        .orderBy('sequence')
        .execute();
      const count = (type: string) => events.filter((e) => e.type === type).length;
      assert.equal(count('fax.delivered'), 1);
      assert.equal(count('fax.sending.started'), 2);
      const retry = events.filter((e) => e.type === 'fax.sending.started')[1]!;
      assert.ok(retry.created_at > held.locked_until!, 'the send ran again only once the lease had run out');
      assert.equal(count('fax.failed'), 0);
      const jobs = await database.db.selectFrom('jobs').select('id').execute();
      assert.deepEqual(jobs, [], 'no job left behind');
      const inbound = await database.db
        .selectFrom('faxes')
        .select(['status', 'page_count', 'failure_code'])
        .where('direction', '=', 'inbound')
        .orderBy('created_at')
        .execute();
      const received = inbound.filter((f) => f.status === 'received');
      assert.equal(received.length, 1);
      assert.equal(received[0]!.page_count, 2);
      for (const cut of inbound.filter((f) => f.status !== 'received')) {
        assert.equal(cut.status, 'failed');
        assert.equal(cut.failure_code, 'call_dropped');
      }
    } finally {
      await database.close();
    }
  });
});
