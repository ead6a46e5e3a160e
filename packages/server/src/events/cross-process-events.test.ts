/**
 * @module events/cross-process-events.test
 * Two platforms as `faxwire start` assembles them, on one PostgreSQL database: faxes queued through
 * platform A's API reach a live stream on platform B and a webhook receiver fed by B's dispatcher
 * (A's dispatcher is stopped). B's own polls of the log are set to a minute, and a stream writes a
 * keep-alive comment before each such poll, so an event that arrives with no keep-alive before it came
 * by LISTEN/NOTIFY. After B's listening session is killed, the bus reconnects, and events still arrive
 * the same way. Both platforms then close and leave no session behind (the database can be dropped).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { StubDocumentInspector } from '../api/test-app.ts';
import { openSse, type SseConnection, type SseMessage } from '../api/test-sse-client.ts';
import { type Platform, type PlatformOptions, startPlatform } from '../cli/start-command.ts';
import { firstAccountOf } from '../cli/test-platform-account.ts';
import { loadConfig } from '../config/config.ts';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { TEST_ENGINES } from '../store/test-databases.ts';
import { startTestReceiver } from '../webhooks/test-receiver.ts';
import { eventBusOf } from './event-bus.ts';
import type { PostgresEventBus } from './postgres-event-bus.ts';
import { terminateEventBusSessions } from './test-event-bus-sessions.ts';

const postgres = TEST_ENGINES.find((e) => e.name === 'postgres')!;
const MINUTE = 60_000;
/** Well under the minute-long polls, generous for a loaded machine. */
const WAIT_MS = 20_000;

/** Messages up to the first that matches; all of them, to see what came before it. */
async function until(sse: SseConnection, match: (m: SseMessage) => boolean): Promise<SseMessage[]> {
  const seen: SseMessage[] = [];
  for (;;) {
    const m = await sse.next(WAIT_MS);
    assert.ok(m, 'the stream ended early');
    seen.push(m);
    if (match(m)) return seen;
  }
}

describe('events across two platforms on one PostgreSQL', { skip: postgres.skip }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-xproc-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('reach the other platform’s streams and webhooks by NOTIFY, also after the bus reconnects', async () => {
    const db = await postgres.open();
    const receiver = await startTestReceiver();
    // No lines: the faxes stay queued, and `fax.queued` is the one event each of them writes.
    const config = {
      ...loadConfig({ FAXWIRE_DATA_DIR: dataDir, FAXWIRE_LINES: 'off' }),
      database: db.config,
    };
    const options: PlatformOptions = {
      listen: false,
      logger: pino({ level: 'silent' }),
      inspector: new StubDocumentInspector(),
      webhookPolicy: new OutboundAddressPolicy(['127.0.0.0/8']),
      eventPolls: {
        streams: { keepAliveMs: MINUTE },
        webhooks: { recentSweepIntervalMs: MINUTE, fullSweepIntervalMs: MINUTE },
      },
    };
    const platforms: Platform[] = [];
    let sse: SseConnection | undefined;
    try {
      const a = await startPlatform(config, options);
      platforms.push(a);
      await a.webhooks.stop();
      const b = await startPlatform(config, options);
      platforms.push(b);
      const address = await b.app.listen({ host: '127.0.0.1', port: 0 });

      const account = await firstAccountOf(a);
      await account.createWebhook({ url: receiver.url, eventTypes: ['fax.queued'] }, b);
      sse = await openSse(`${address}/v1/events`, account.headers);
      assert.equal(sse.status, 200);
      await until(sse, (m) => m.retry !== undefined);

      const queueOnA = () => account.queueFax(1, a);
      const arrivesOnB = async (faxId: string) => {
        const seen = await until(
          sse!,
          (m) => m.data !== undefined && JSON.parse(m.data).data.faxId === faxId,
        );
        assert.equal(seen.at(-1)!.event, 'fax.queued');
        assert.deepEqual(
          seen.filter((m) => m.comment === 'keep-alive'),
          [],
          'the stream did not poll the log before the event arrived',
        );
        const webhook = () => receiver.received.find((r) => JSON.parse(r.body).data.faxId === faxId);
        for (let i = 0; i < WAIT_MS / 20 && !webhook(); i++) await sleep(20);
        assert.ok(webhook(), `B's dispatcher delivered the webhook of ${faxId}`);
      };

      // The first may be found by the stream's opening read of the log; the second only by a wake-up.
      await arrivesOnB(await queueOnA());
      await arrivesOnB(await queueOnA());

      // Kill every listening session of this database; the buses reconnect and re-read the log.
      const busB = eventBusOf(b.database) as PostgresEventBus;
      assert.equal(await terminateEventBusSessions(db.config), 2, 'one listening session per platform');
      for (let i = 0; i < WAIT_MS / 10 && busB.listening; i++) await sleep(10);
      await arrivesOnB(await queueOnA());
      assert.ok(busB.listening, 'B listens again');
      await arrivesOnB(await queueOnA());
      assert.equal(receiver.received.length, 4, 'each event delivered once');
    } finally {
      sse?.close();
      for (const p of platforms.reverse()) await p.close();
      await receiver.close();
      // Fails while any connection (a listening session included) is still open.
      await db.dispose();
    }
  });
});
