/**
 * @module store/open-database.fixture
 * A process that opens (and so migrates) the SQLite file named by its argument, waits for the start
 * signal file to exist so that several such processes migrate at the same moment, and prints the
 * migrations the file records.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openDatabase } from './database.ts';

const [path, goFile] = process.argv.slice(2) as [string, string];
while (!existsSync(goFile)) await sleep(2);
const database = await openDatabase({ engine: 'sqlite', path });
const { rows } = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
  database.db,
);
await database.close();
process.stdout.write(`${JSON.stringify(rows.map((r) => r.name))}\n`);
