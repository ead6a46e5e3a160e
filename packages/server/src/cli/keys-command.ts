/**
 * @module cli/keys-command
 * `faxwire keys create [--name N]` prints a new API key for the first account (creating the account,
 * numbers included, on an empty database); `faxwire keys list` shows the keys without their secrets.
 * Works beside a running server: SQLite in WAL mode takes a second writer.
 */
import type { Command } from 'commander';
import { bootstrapAccount, firstAccountId, issueApiKey } from '../domain/accounts.ts';
import { claimableLoopbackRange } from '../domain/claim-loopback-number.ts';
import { openDatabase } from '../store/database.ts';
import { loadConfigOrExit } from './start-command.ts';

export function registerKeysCommand(program: Command): void {
  const keys = program.command('keys').description('Manage API keys');
  keys
    .command('create')
    .description('Create an API key and print it (shown only once)')
    .option('--name <name>', 'a name to tell the key apart', 'cli')
    .action(async (options: { name: string }) => {
      const config = loadConfigOrExit();
      const database = await openDatabase(config.database);
      try {
        await bootstrapAccount(database, claimableLoopbackRange(config));
        const accountId = (await firstAccountId(database.db))!;
        const { key } = await issueApiKey(database.db, accountId, options.name);
        process.stdout.write(`${key}\n`);
      } finally {
        await database.close();
      }
    });
  keys
    .command('list')
    .description('List API keys (prefixes only)')
    .action(async () => {
      const config = loadConfigOrExit();
      const database = await openDatabase(config.database);
      try {
        const rows = await database.db.selectFrom('api_keys').selectAll().orderBy('id').execute();
        for (const row of rows) {
          const state = row.revoked_at ? 'revoked' : 'active';
          process.stdout.write(`${row.id}  ${row.prefix}…  ${state}  ${row.name}\n`);
        }
      } finally {
        await database.close();
      }
    });
}
