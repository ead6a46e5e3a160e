/**
 * @module events/account-sequencer.test
 * Account positions handed out after the commit (PostgreSQL): two "processes" (pools) writing events
 * of one account at once end with positions 1…N, gap-free, each once, every fax's events in their own
 * order, the account row at N; the account streams are told each position; events a dead process left
 * unnumbered are numbered by the sweep.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bootstrapAccount } from '../domain/accounts.ts';
import { appendFaxEvent } from '../domain/append-fax-event.ts';
import { startInboundFax } from '../domain/inbound-fax.ts';
import type { Database } from '../store/database.ts';
import type { FaxEventsTable } from '../store/schema.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { AccountSequencer, accountSequencerOf, numberEvents } from './account-sequencer.ts';
import { eventBusOf } from './event-bus.ts';
import type { BusEvent } from './fax-event.ts';
import { writeWithEvents } from './write-with-events.ts';

const row = (fax: string, sequence: number, account = 'acct_a'): FaxEventsTable => ({
  id: `evt_${fax}_${sequence}`,
  fax_id: fax,
  sequence,
  type: 'fax.page.received',
  data_json: '{}',
  created_at: 0,
  account_id: account,
  account_seq: null,
});

describe('numberEvents', () => {
  it('numbers each account on from its last position, every fax in its own order', () => {
    const last = new Map([
      ['acct_a', 10],
      ['acct_b', 0],
    ]);
    // Fax y's events arrive out of order (clocks of two processes); they keep the slots they came in.
    const numbered = numberEvents(
      [row('x', 1), row('y', 3), row('z', 1, 'acct_b'), row('x', 2), row('y', 2), row('y', 4)],
      last,
    );
    assert.deepEqual(
      numbered.filter((e) => e.account_id === 'acct_a').map((e) => [e.account_seq, e.fax_id, e.sequence]),
      [
        [11, 'x', 1],
        [12, 'y', 2],
        [13, 'x', 2],
        [14, 'y', 3],
        [15, 'y', 4],
      ],
    );
    assert.deepEqual(
      numbered.filter((e) => e.account_id === 'acct_b').map((e) => e.account_seq),
      [1],
    );
    assert.deepEqual(
      [...last],
      [
        ['acct_a', 15],
        ['acct_b', 1],
      ],
    );
  });
});

const postgres = TEST_ENGINES.find((e) => e.name === 'postgres')!;

describe('account positions after the commit (postgres)', { skip: postgres.skip }, () => {
  let t: TestDatabase;
  let other: Database;
  let accountId: string;
  let number: string;
  before(async () => {
    t = await postgres.open();
    other = await t.openAnother();
    const boot = (await bootstrapAccount(t.database, { first: '+14155550100', last: '+14155550109' }))!;
    accountId = boot.accountId;
    number = boot.numbers[0]!.e164;
  });
  after(async () => {
    await accountSequencerOf(t.database).stop();
    await accountSequencerOf(other).stop();
    await t.dispose();
  });

  const log = () =>
    t.database.db
      .selectFrom('fax_events')
      .select(['id', 'fax_id', 'sequence', 'account_seq'])
      .where('account_id', '=', accountId)
      .orderBy('account_seq')
      .execute();

  it('two writers of one account at once: positions 1…N, each once, every fax in order', async () => {
    const announced: BusEvent[] = [];
    // Each pool's bus hears the positions its own sequencer handed out (no bus joins the two here).
    const stops = [t.database, other].map((database) =>
      eventBusOf(database).subscribe({ accountId, accountPositions: true }, (e) => {
        if (e.positionOnly) announced.push(e);
      }),
    );
    const faxes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        startInboundFax(i % 2 ? other : t.database, { to: number, from: `+1415555020${i % 10}` }),
      ),
    );
    // Each fax writes its pages one after another, as a call does; the faxes all at once.
    await Promise.all(
      faxes.map(async (fax, i) => {
        const database = i % 2 ? other : t.database;
        for (let page = 1; page <= 8; page++) {
          await writeWithEvents(database, (trx) =>
            appendFaxEvent(trx, fax.id, 'fax.page.received', { page }),
          );
        }
      }),
    );
    // A run of the other pool's sequencer may still be announcing what it numbered: let both finish.
    await Promise.all([accountSequencerOf(t.database).sequence(), accountSequencerOf(other).sequence()]);
    for (const stop of stops) stop();
    const events = await log();
    assert.equal(events.length, 12 * 9);
    assert.deepEqual(
      events.map((e) => e.account_seq),
      Array.from({ length: events.length }, (_, i) => i + 1),
      'gap-free, each position once, every event numbered when its write resolved',
    );
    for (const fax of faxes) {
      const sequences = events.filter((e) => e.fax_id === fax.id).map((e) => e.sequence);
      assert.deepEqual(
        sequences,
        [...sequences].sort((a, b) => a - b),
        `fax ${fax.id} in its own order`,
      );
    }
    const account = await t.database.db
      .selectFrom('accounts')
      .select('event_seq')
      .where('id', '=', accountId)
      .executeTakeFirstOrThrow();
    assert.equal(account.event_seq, events.length);
    // Every position announced once, by whichever sequencer handed it out, as the log has it.
    assert.deepEqual(
      announced.map((e) => [e.envelope.id, e.accountSequence]).sort((a, b) => Number(a[1]) - Number(b[1])),
      events.map((e) => [e.id, e.account_seq]),
    );
  });

  it('numbers all of a fax in one batch, whatever the writers’ clocks said', async () => {
    const faxes = await Promise.all(
      ['+14155550301', '+14155550302'].map((from) => startInboundFax(t.database, { to: number, from })),
    );
    const [a, b] = faxes.map((f) => f.id) as [string, string];
    const t0 = Date.now();
    // Fax a's events written by processes whose clocks disagree: its event 4 looks oldest.
    const left = [
      { ...row(a, 4, accountId), id: 'evt_skew_a4', created_at: t0 - 3 },
      { ...row(b, 2, accountId), id: 'evt_skew_b2', created_at: t0 - 2 },
      { ...row(a, 2, accountId), id: 'evt_skew_a2', created_at: t0 - 1 },
      { ...row(a, 3, accountId), id: 'evt_skew_a3', created_at: t0 },
    ];
    await t.database.db.insertInto('fax_events').values(left).execute();
    await new AccountSequencer(t.database, { batch: 2 }).sequence();
    const events = await log();
    const ofA = events.filter((e) => e.fax_id === a);
    assert.deepEqual(
      ofA.map((e) => e.sequence),
      [1, 2, 3, 4],
      'fax a in its own order in the account stream',
    );
    assert.ok(events.every((e) => e.account_seq !== null));
    assert.deepEqual(
      events.map((e) => e.account_seq),
      Array.from({ length: events.length }, (_, i) => i + 1),
    );
    assert.ok(events.some((e) => e.id === 'evt_skew_b2'));
  });

  it('numbers, at its sweep, events that a process left unnumbered', async () => {
    const fax = await startInboundFax(t.database, { to: number, from: '+14155550299' });
    const before = (await log()).length;
    // A process that died between its commit and its sequencer's run.
    await t.database.db
      .insertInto('fax_events')
      .values(
        [5, 6].map((sequence) => ({
          ...row(fax.id, sequence, accountId),
          id: `evt_left_${sequence}`,
          created_at: Date.now(),
        })),
      )
      .execute();
    const sequencer = accountSequencerOf(other);
    sequencer.startSweeps({ intervalMs: 50 });
    for (let i = 0; i < 100 && (await log()).some((e) => e.account_seq === null); i++) await sleep(20);
    await sequencer.stop();
    const events = await log();
    assert.deepEqual(
      events.filter((e) => e.id.startsWith('evt_left_')).map((e) => [e.id, e.account_seq]),
      [
        ['evt_left_5', before + 1],
        ['evt_left_6', before + 2],
      ],
    );
    assert.deepEqual(
      events.map((e) => e.account_seq),
      Array.from({ length: events.length }, (_, i) => i + 1),
    );
  });
});
