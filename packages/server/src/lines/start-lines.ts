/**
 * @module lines/start-lines
 * The lines of one process from its configuration: the loopback carrier (embedded default) and the SIP trunks,
 * under one channel manager that sends for `fax.send` jobs and answers inbound calls.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { finishInboundFax } from '../domain/inbound-fax.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { Database } from '../store/database.ts';
import type { Carrier } from './carrier.ts';
import { ChannelManager } from './channel-manager.ts';
import { LoopbackCarrier } from './loopback-carrier.ts';
import { SipTrunkCarrier } from './sip-trunk-carrier.ts';
import { testNumbersFrom } from './test-numbers.ts';

export interface StartLinesDeps {
  readonly config: Config;
  readonly database: Database;
  readonly blobs: BlobStore;
  readonly logger?: Logger;
}

/**
 * An embedded instance is the only one that could be receiving: a fax still `receiving` when it starts was cut
 * off by a crash. Its pages stay; the fax fails as dropped.
 */
async function failOrphanedReceptions(database: Database): Promise<number> {
  const orphans = await database.db
    .selectFrom('faxes')
    .select('id')
    .where('direction', '=', 'inbound')
    .where('status', '=', 'receiving')
    .execute();
  for (const { id } of orphans) {
    await finishInboundFax(database, id, {
      status: 'failed',
      failure: 'call_dropped',
      message: 'The server stopped during the call.',
    });
  }
  return orphans.length;
}

/** Starts the configured carriers and the channel manager; null when this process runs no lines. */
export async function startLines(deps: StartLinesDeps): Promise<ChannelManager | null> {
  const { config, database, blobs, logger } = deps;
  const lines = config.lines;
  if (!lines.enabled) return null;
  const carriers: Carrier[] = [];
  try {
    if (lines.loopback.enabled) {
      carriers.push(
        new LoopbackCarrier({
          range: config.loopbackRange,
          testNumbers:
            lines.loopback.testNumbersFirst === null
              ? new Map()
              : testNumbersFrom(lines.loopback.testNumbersFirst),
          pacing: lines.loopback.pacing,
          sipPort: lines.loopback.sipPort,
          testNumberTimeoutMs: lines.loopback.testNumberTimeoutMs,
        }),
      );
    }
    for (const trunk of lines.trunks) carriers.push(await SipTrunkCarrier.start(trunk));
  } catch (error) {
    for (const c of carriers) await c.close();
    throw error;
  }
  if (lines.trunks.length === 0) {
    const orphans = await failOrphanedReceptions(database);
    if (orphans > 0) logger?.warn({ faxes: orphans }, 'inbound faxes cut off by a restart marked failed');
  }
  const manager = new ChannelManager({
    database,
    blobs,
    carriers,
    ...(logger ? { logger: logger.child({ component: 'lines' }) } : {}),
  });
  try {
    await manager.listen();
  } catch (error) {
    await manager.close();
    throw error;
  }
  logger?.info({ carriers: carriers.map((c) => c.id), pacing: lines.loopback.pacing }, 'lines started');
  return manager;
}
