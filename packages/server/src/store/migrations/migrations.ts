/**
 * @module store/migrations/migrations
 * The static, ordered map of every migration, so they ship inside the code with no directory scan.
 */
import type { Migration } from 'kysely';
import * as m0001 from './0001-init.ts';
import * as m0002 from './0002-webhooks.ts';
import * as m0003 from './0003-event-streams.ts';
import * as m0004 from './0004-bootstrap.ts';
import * as m0005 from './0005-blob-key-indexes.ts';
import * as m0006 from './0006-webhook-retention.ts';
import * as m0007 from './0007-blob-spool.ts';
import * as m0008 from './0008-unnumbered-events.ts';

export const migrations: Record<string, Migration> = {
  '0001-init': m0001,
  '0002-webhooks': m0002,
  '0003-event-streams': m0003,
  '0004-bootstrap': m0004,
  '0005-blob-key-indexes': m0005,
  '0006-webhook-retention': m0006,
  '0007-blob-spool': m0007,
  '0008-unnumbered-events': m0008,
};
