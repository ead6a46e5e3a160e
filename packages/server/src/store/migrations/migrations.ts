/**
 * @module store/migrations/migrations
 * The static, ordered map of every migration, so they ship inside the code with no directory scan.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001-init.ts';

export const migrations: Record<string, Migration> = {
  '0001-init': m0001,
};
