/**
 * @module events/page-progress.test
 * Pages in progress: the latest rows of each page are kept (by reference, no copy), progress events are
 * rate-limited per page and carry the fax's facts, the store stays bounded (oldest dropped, stale
 * dropped), and a page leaves it when stored or when its fax ends.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createPage } from 'telefax/image/bilevel-page';
import { bootstrapAccount } from '../domain/accounts.ts';
import { startInboundFax } from '../domain/inbound-fax.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { eventBusOf } from './event-bus.ts';
import type { BusEvent } from './fax-event.ts';
import { PageProgress } from './page-progress.ts';

const rows = (height: number) => ({ ...createPage(1728, 2300), height });

describe('PageProgress', () => {
  let t: TestDatabase;
  let number: string;
  before(async () => {
    t = await TEST_ENGINES[0]!.open();
    number = (await bootstrapAccount(t.database, { first: '+14155550100', last: '+14155550109' }))!
      .numbers[0]!.e164;
  });
  after(() => t.dispose());

  it('keeps the latest rows and publishes at most once per interval per page', async () => {
    let clock = 0;
    const progress = new PageProgress(t.database, { minIntervalMs: 500, now: () => clock });
    const fax = await startInboundFax(t.database, { to: number, from: '+14155550199' });
    const seen: BusEvent[] = [];
    const stop = eventBusOf(t.database).subscribe({ faxId: fax.id, includeTransient: true }, (e) =>
      seen.push(e),
    );
    progress.report(fax.id, 1, rows(100));
    // The first event waits for the fax's facts (one read, off the caller's path); later ones do not.
    for (let i = 0; i < 200 && seen.length === 0; i++) await sleep(2);
    const latest = rows(300);
    for (let r = 200; r <= 1000; r += 100) {
      clock += 100;
      progress.report(fax.id, 1, r === 300 ? latest : rows(r));
      if (r === 300) assert.equal(progress.get(fax.id, 1)?.page, latest, 'kept by reference');
    }
    stop();
    assert.deepEqual(
      seen.map((e) => e.envelope.data.rows),
      [100, 600],
      'the first report, then one per 500 ms',
    );
    assert.deepEqual(
      [
        seen[0]!.accountSequence,
        seen[0]!.envelope.type,
        seen[0]!.envelope.data.sequence,
        seen[0]!.envelope.data.to,
      ],
      [null, 'fax.page.progress', 1, number],
    );
    assert.equal(progress.get(fax.id, 1)?.rows, 1000);
    progress.pageDone(fax.id, 1, 2);
    assert.equal(progress.get(fax.id, 1), undefined);
  });

  it('stays bounded: oldest and stale pages go, a finished fax leaves nothing', async () => {
    let clock = 0;
    const progress = new PageProgress(t.database, { maxPages: 4, staleMs: 1000, now: () => clock });
    for (let n = 1; n <= 10; n++) progress.report('fax_a', n, rows(n));
    assert.equal(progress.size, 4);
    assert.deepEqual(
      [6, 7, 8, 9, 10].map((n) => progress.get('fax_a', n)?.rows),
      [undefined, 7, 8, 9, 10],
    );
    progress.report('fax_b', 1, rows(5));
    progress.faxDone('fax_a');
    assert.equal(progress.size, 1);
    clock = 5000;
    progress.report('fax_c', 1, rows(1));
    assert.deepEqual([progress.get('fax_b', 1), progress.size], [undefined, 1], 'stale page dropped');
    await sleep(5);
    assert.equal(progress.published, 0, 'no event for a fax the store does not know');
  });
});
