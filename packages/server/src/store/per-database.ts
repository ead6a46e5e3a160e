/**
 * @module store/per-database
 * One object per open database handle in this process (its event bus, its sequencer, its caches),
 * made on first use and gone with the handle.
 */
import type { Database } from './database.ts';

export interface PerDatabase<T> {
  /** The object of `database`, made by the factory the first time. */
  of(database: Database): T;
  /** Puts `value` in place of what `of` would make or has made. */
  set(database: Database, value: T): void;
}

export function perDatabase<T>(make: (database: Database) => T): PerDatabase<T> {
  const values = new WeakMap<Database, T>();
  return {
    of(database) {
      let value = values.get(database);
      if (value === undefined) {
        value = make(database);
        values.set(database, value);
      }
      return value;
    },
    set(database, value) {
      values.set(database, value);
    },
  };
}
