/**
 * @module events/postgres-event-bus.test
 * Two nodes on one PostgreSQL, each with its own pool and bus: an event committed on one reaches the
 * other's listeners (read from the log, so whole and in position), a transient event travels whole, and
 * neither node hears its own events twice.
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
    busA = new PostgresEventBus(t.database, { connectionString: url });
    busB = new PostgresEventBus(nodeB, { connectionString: url });
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
    for (let i = 0; i < 200 && onB.length < 3; i++) await sleep(10);
    await sleep(50);
    const types = (events: BusEvent[]) => events.map((e) => e.envelope.type).sort();
    const expected = ['fax.page.progress', 'fax.page.received', 'fax.receiving.started'];
    assert.deepEqual(types(onB), expected);
    assert.deepEqual(types(onA), expected, 'the publishing node hears each event once');
    const received = onB.find((e) => e.envelope.type === 'fax.page.received')!;
    assert.deepEqual(
      [received.envelope.data.faxId, received.envelope.data.page, received.accountSequence],
      [fax.id, 1, 2],
    );
  });
});
