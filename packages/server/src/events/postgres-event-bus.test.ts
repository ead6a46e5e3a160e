/**
 * @module events/postgres-event-bus.test
 * Two nodes on one PostgreSQL, each with its own pool and bus: an event committed on one reaches the
 * other's listeners (read from the log, so whole and in position), a transient event travels whole, and
 * neither node hears its own events twice. When the listening sessions are killed, each bus reconnects,
 * tells its listeners they may have missed events, and notifications flow again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPage } from 'telefax/image/bilevel-page';
import { bootstrapAccount } from '../domain/accounts.ts';
import { recordReceivedPage, reportPageProgress, startInboundFax } from '../domain/inbound-fax.ts';
import type { Database } from '../store/database.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { setEventBus } from './event-bus.ts';
import type { BusEvent } from './fax-event.ts';
import { PostgresEventBus } from './postgres-event-bus.ts';
import { terminateEventBusSessions } from './test-event-bus-sessions.ts';

const postgres = TEST_ENGINES.find((e) => e.name === 'postgres')!;

describe('PostgresEventBus', { skip: postgres.skip }, () => {
  let t: TestDatabase;
  let nodeB: Database;
  let busA: PostgresEventBus;
  let busB: PostgresEventBus;
  let number: string;
  before(async () => {
    t = await postgres.open();
    nodeB = await t.openAnother();
    const url = t.config.engine === 'postgres' ? t.config.url : '';
    busA = new PostgresEventBus(t.database, { connectionString: url, reconnectMs: 50 });
    busB = new PostgresEventBus(nodeB, { connectionString: url, reconnectMs: 50 });
    await busA.start();
    await busB.start();
    setEventBus(t.database, busA);
    setEventBus(nodeB, busB);
    number = (await bootstrapAccount(t.database, { first: '+14155550100', last: '+14155550109' }))!
      .numbers[0]!.e164;
  });
  after(async () => {
    await busA.close();
    await busB.close();
    await t.dispose();
  });

  it('delivers events committed on one node to listeners on the other, once', async () => {
    const onA: BusEvent[] = [];
    const onB: BusEvent[] = [];
    busA.subscribe({ includeTransient: true }, (e) => onA.push(e));
    busB.subscribe({ includeTransient: true }, (e) => onB.push(e));
    const positionsOnB: BusEvent[] = [];
    busB.subscribe({ accountPositions: true }, (e) => {
      if (e.positionOnly) positionsOnB.push(e);
    });
    const fax = await startInboundFax(t.database, { to: number, from: '+14155550199' });
    reportPageProgress(t.database, fax.id, 1, { ...createPage(64, 40), height: 12 });
    await recordReceivedPage(
      { database: t.database, blobs: { put: async () => ({ size: 3 }) } as never },
      fax.id,
      {
        n: 1,
        bytes: Buffer.from('abc'),
        rows: 40,
        badRows: 0,
      },
    );
    for (let i = 0; i < 200 && (onB.length < 3 || positionsOnB.length < 2); i++) await sleep(10);
    await sleep(50);
    const types = (events: BusEvent[]) => events.map((e) => e.envelope.type).sort();
    const expected = ['fax.page.progress', 'fax.page.received', 'fax.receiving.started'];
    assert.deepEqual(types(onB), expected);
    assert.deepEqual(types(onA), expected, 'the publishing node hears each event once');
    const received = onB.find((e) => e.envelope.type === 'fax.page.received')!;
    assert.deepEqual([received.envelope.data.faxId, received.envelope.data.page], [fax.id, 1]);
    // Account positions come after the commit (events/account-sequencer.ts), announced to account streams.
    assert.deepEqual(
      positionsOnB.map((e) => [e.envelope.type, e.accountSequence]),
      [
        ['fax.receiving.started', 1],
        ['fax.page.received', 2],
      ],
    );
  });

  it('reconnects after losing its session and tells listeners to re-read the log', async () => {
    const resyncs = { a: 0, b: 0 };
    busA.onMaybeMissed(() => resyncs.a++);
    busB.onMaybeMissed(() => resyncs.b++);
    assert.equal(await terminateEventBusSessions(t.config), 2);
    for (let i = 0; i < 500 && (resyncs.a === 0 || resyncs.b === 0); i++) await sleep(10);
    assert.deepEqual(resyncs, { a: 1, b: 1 }, 'each bus announced one resync');
    assert.ok(busA.listening && busB.listening);

    const onB: BusEvent[] = [];
    busB.subscribe({}, (e) => onB.push(e));
    const fax = await startInboundFax(t.database, { to: number, from: '+14155550198' });
    for (let i = 0; i < 500 && onB.length === 0; i++) await sleep(10);
    assert.deepEqual(
      onB.map((e) => [e.faxId, e.envelope.type]),
      [[fax.id, 'fax.receiving.started']],
    );
  });
});
