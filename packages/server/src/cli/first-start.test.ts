/**
 * @module cli/first-start.test
 * Two `faxwire start` processes on one empty data directory (and, for PostgreSQL, one database) at the
 * same moment: one creates the account, its two numbers and the key file; the other creates nothing and
 * serves the same account, so the one key in the file works on both.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../store/database.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { INITIAL_KEY_FILE } from './start-command.ts';

const FIXTURE = fileURLToPath(new URL('../lines/platform-process.fixture.ts', import.meta.url));

interface Started {
  readonly child: ChildProcess;
  readonly address: string;
  readonly initialKeyPath: string | null;
}

async function start(env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, FAXWIRE_PORT: '0', FAXWIRE_LINES: 'off', FAXWIRE_LOG_LEVEL: 'silent', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await Promise.race([
    once(createInterface({ input: child.stdout! }), 'line'),
    once(child, 'exit').then(() => Promise.reject(new Error('the server exited before it was up'))),
  ])) as [string];
  return { child, ...JSON.parse(line) };
}

for (const engine of TEST_ENGINES) {
  describe(`two first starts at once (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let dataDir: string;
    const servers: Started[] = [];
    before(async () => {
      t = await engine.open();
      dataDir = mkdtempSync(join(tmpdir(), 'faxwire-first-start-'));
    });
    after(async () => {
      for (const s of servers) {
        if (s.child.exitCode === null && s.child.signalCode === null) {
          const exited = once(s.child, 'exit');
          s.child.kill('SIGTERM');
          await exited;
        }
      }
      await t.dispose();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('bootstraps once; the second process serves the same account', { timeout: 60_000 }, async () => {
      // SQLite: the data directory's own database, which the two processes also create and migrate together.
      const env: Record<string, string> = { FAXWIRE_DATA_DIR: dataDir };
      if (t.config.engine === 'postgres') env.FAXWIRE_DATABASE_URL = t.config.url;
      servers.push(...(await Promise.all([start(env), start(env)])));

      const keyPath = join(dataDir, INITIAL_KEY_FILE);
      assert.deepEqual(
        servers.map((s) => s.initialKeyPath).sort(),
        [keyPath, null].sort(),
        'one process created the key, the other found the account',
      );
      assert.equal(statSync(keyPath).mode & 0o777, 0o600);
      assert.deepEqual(
        readdirSync(dataDir).filter((f) => f.includes(INITIAL_KEY_FILE)),
        [INITIAL_KEY_FILE],
        'no temporary key file left',
      );

      const database =
        t.config.engine === 'postgres'
          ? t.database
          : await openDatabase({ engine: 'sqlite', path: join(dataDir, 'faxwire.db') });
      try {
        const count = async (table: 'accounts' | 'numbers' | 'api_keys') =>
          (await database.db.selectFrom(table).select('id').execute()).length;
        assert.deepEqual(
          [await count('accounts'), await count('numbers'), await count('api_keys')],
          [1, 2, 1],
        );
      } finally {
        if (database !== t.database) await database.close();
      }

      const key = readFileSync(keyPath, 'utf8').trim();
      for (const server of servers) {
        const res = await fetch(`${server.address}/v1/numbers`, {
          headers: { authorization: `Bearer ${key}` },
        });
        assert.equal(res.status, 200);
        assert.equal(((await res.json()) as { data: unknown[] }).data.length, 2);
      }
    });
  });
}
