/**
 * @module store/sqlite-group-commit
 * SQLite write transactions with group commit. Transactions requested in the same turn of the event
 * loop (and those that queue while a group runs) share one `BEGIN IMMEDIATE … COMMIT`; each runs in
 * its own SAVEPOINT, in order, and is rolled back alone when it throws.
 *
 * Durability is that of `synchronous = FULL`, moved off the event loop: the group commits with
 * `synchronous = NORMAL` (WAL frames written, not yet synced), then the WAL file is fsynced on the
 * libuv threadpool, and only then is any caller of the group answered (except a write that asked not
 * to wait for the disk: it is answered at commit). One fsync covers every group committed before it
 * started, so a burst of writers shares it, and the next group runs meanwhile.
 * Writes made outside this path (autocommit statements) keep the connection's FULL setting.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { setTimeout } from 'node:timers/promises';
import type BetterSqlite3 from 'better-sqlite3';
import type { Database, Db, WriteOptions } from './database.ts';

/** Most transactions one commit carries, so no caller waits behind an unbounded group. */
const MAX_GROUP = 64;

interface QueuedWrite {
  readonly fn: (trx: Db) => Promise<unknown>;
  readonly durable: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

export interface GroupCommitOptions {
  /** The database file; its `-wal` file is what gets fsynced. Null for an in-memory database. */
  readonly path: string | null;
  readonly busyTimeoutMs: number;
}

/** @returns `writeTransaction` for the connection `sqlite` that `db` runs on, and what to close with it. */
export function sqliteGroupCommit(
  sqlite: BetterSqlite3.Database,
  db: Db,
  options: GroupCommitOptions,
): { writeTransaction: Database['writeTransaction']; close(): Promise<void> } {
  const queue: QueuedWrite[] = [];
  const wal = options.path === null ? null : coalescedFsync(`${options.path}-wal`);
  // Transaction control bypasses Kysely: fixed texts, run while this code holds the connection.
  const control = (text: string) => {
    const statement = sqlite.prepare(text);
    return () => void statement.run();
  };
  const deferSync = control('pragma synchronous = normal');
  const restoreSync = control('pragma synchronous = full');
  const savepoint = control('savepoint write');
  const release = control('release write');
  const rollbackTo = control('rollback to write');
  const commit = control('commit');
  const rollback = control('rollback');
  const begin = {
    begin: control('begin immediate'),
    failFast: control('pragma busy_timeout = 0'),
    waitBusy: control(`pragma busy_timeout = ${options.busyTimeoutMs}`),
  };
  let busy = false;

  // `conn` is the connection the group's writes run on; holding it keeps everyone else off it.
  const runGroup = async (group: readonly QueuedWrite[], conn: Db): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    const savepoints = group.length > 1;
    deferSync();
    try {
      await beginImmediate(begin, options.busyTimeoutMs);
      for (const write of group) {
        if (savepoints) savepoint();
        try {
          outcomes.push({ ok: true, value: await write.fn(conn) });
          if (savepoints) release();
        } catch (error) {
          outcomes.push({ ok: false, error });
          // Some errors (I/O, a full disk) end the whole transaction: nothing of the group survives.
          if (!sqlite.inTransaction) throw error;
          if (savepoints) {
            rollbackTo();
            release();
          }
        }
      }
      if (outcomes.some((o) => o.ok)) commit();
      else rollback();
      return outcomes;
    } finally {
      if (sqlite.inTransaction) rollback();
      restoreSync();
    }
  };

  const flush = async () => {
    const group = queue.splice(0, MAX_GROUP);
    let outcomes: Outcome[];
    try {
      outcomes = await db.connection().execute((conn) => runGroup(group, conn));
    } catch (error) {
      for (const write of group) write.reject(error);
      return;
    } finally {
      busy = false;
      if (queue.length > 0) schedule();
    }
    const settle = (write: QueuedWrite, outcome: Outcome) => {
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    };
    // Writes that asked not to wait for the disk are answered at commit.
    for (const [i, write] of group.entries()) if (!write.durable) settle(write, outcomes[i]!);
    const durable = group.filter((w) => w.durable);
    try {
      if (wal && group.some((w, i) => w.durable && outcomes[i]!.ok)) await wal.sync();
    } catch (error) {
      // Committed but maybe not on disk: the caller must not be told it is.
      for (const write of durable) write.reject(error);
      return;
    }
    for (const [i, write] of group.entries()) if (write.durable) settle(write, outcomes[i]!);
  };

  const schedule = () => {
    if (busy) return;
    busy = true;
    // After this turn's I/O callbacks, so the writers they start join the same group.
    setImmediate(flush);
  };

  return {
    writeTransaction: <T>(fn: (trx: Db) => Promise<T>, writeOptions?: WriteOptions) =>
      new Promise<T>((resolve, reject) => {
        const durable = writeOptions?.durable !== false;
        queue.push({ fn, durable, resolve: resolve as (value: unknown) => void, reject });
        schedule();
      }),
    close: async () => {
      await wal?.close();
    },
  };
}

/**
 * better-sqlite3 waits for a busy lock synchronously, which stalls the event loop — and with it the
 * very transaction holding the lock when both connections live in one process. So the wait for the
 * write lock is done here, asynchronously, with a short doubling back-off.
 */
async function beginImmediate(
  statements: { begin(): void; failFast(): void; waitBusy(): void },
  busyTimeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + busyTimeoutMs;
  for (let waitMs = 1; ; waitMs = Math.min(waitMs * 2, 32)) {
    statements.failFast();
    try {
      statements.begin();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
    } finally {
      statements.waitBusy();
    }
    await setTimeout(waitMs * (0.5 + Math.random()));
  }
}

/**
 * fsync of one file, shared: a request is served by the first fsync that starts after it, so writes
 * that finished before the request are on disk when it resolves. The file stays open between syncs:
 * SQLite keeps its WAL (same file, rewritten from the start after a checkpoint) while this
 * connection is open, and `close` releases it.
 */
function coalescedFsync(path: string): { sync(): Promise<void>; close(): Promise<void> } {
  let waiting: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  let running: Promise<void> | null = null;
  let handle: FileHandle | null = null;
  const run = async () => {
    while (waiting.length > 0) {
      const round = waiting;
      waiting = [];
      try {
        handle ??= await open(path, 'r');
        await handle.sync();
        for (const w of round) w.resolve();
      } catch (error) {
        for (const w of round) w.reject(error);
      }
    }
    running = null;
  };
  return {
    sync: () =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ resolve, reject });
        running ??= run();
      }),
    async close() {
      await running;
      await handle?.close();
      handle = null;
    },
  };
}
