/**
 * @module domain/inbound-fax.test
 * Receiving on every engine: the fax opens on a call to our number, pages are durable and announced
 * in order as they arrive (and readable at once), a repeated page is not double-counted, and the fax
 * closes as received or failed. A call to a number we do not have, or with inbound off, is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readBlob } from '../store/blob-store.ts';
import { LocalBlobStore } from '../store/local-blob-store.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { bootstrapAccount } from './accounts.ts';
import { finishInboundFax, recordReceivedPage, startInboundFax } from './inbound-fax.ts';

for (const engine of TEST_ENGINES) {
  describe(`inbound fax (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    let dir: string;
    let blobs: LocalBlobStore;
    let ours: string;
    before(async () => {
      t = await engine.open();
      dir = mkdtempSync(join(tmpdir(), 'faxwire-inbound-'));
      blobs = new LocalBlobStore(dir);
      ours = (await bootstrapAccount(t.database, { first: '+14155550100', last: '+14155550109' }))!
        .numbers[0]!.e164;
    });
    after(async () => {
      await t.dispose();
      rmSync(dir, { recursive: true, force: true });
    });
    const events = async (id: string) =>
      (
        await t.database.db
          .selectFrom('fax_events')
          .selectAll()
          .where('fax_id', '=', id)
          .orderBy('sequence')
          .execute()
      ).map((e) => [e.type, e.sequence, JSON.parse(e.data_json).page]);

    it('receives pages one by one and closes as received', async () => {
      const fax = await startInboundFax(t.database, { to: ours, from: '+14155550999' });
      assert.equal(fax.status, 'receiving');
      const deps = { database: t.database, blobs };
      await recordReceivedPage(deps, fax.id, {
        n: 1,
        bytes: Buffer.from('page one'),
        rows: 2200,
        badRows: 0,
      });
      const first = await t.database.db
        .selectFrom('fax_pages')
        .selectAll()
        .where('fax_id', '=', fax.id)
        .executeTakeFirstOrThrow();
      assert.equal(
        (await readBlob(blobs, first.blob_key!)).toString(),
        'page one',
        'readable as soon as recorded',
      );
      await recordReceivedPage(deps, fax.id, {
        n: 2,
        bytes: Buffer.from('page two'),
        rows: 2200,
        badRows: 4,
        width: 1728,
        resolution: 'fine',
      });
      await recordReceivedPage(deps, fax.id, {
        n: 2,
        bytes: Buffer.from('page two'),
        rows: 2200,
        badRows: 4,
        width: 1728,
        resolution: 'fine',
      });
      await finishInboundFax(t.database, fax.id, {
        status: 'received',
        bitRate: 9600,
        ecm: false,
        remoteIdent: 'ACME',
      });
      const row = await t.database.db
        .selectFrom('faxes')
        .selectAll()
        .where('id', '=', fax.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [row.status, row.page_count, row.pages_transferred, row.bit_rate, row.ecm, row.remote_ident],
        ['received', 2, 2, 9600, 0, 'ACME'],
      );
      assert.deepEqual(await events(fax.id), [
        ['fax.receiving.started', 1, undefined],
        ['fax.page.received', 2, 1],
        ['fax.page.received', 3, 2],
        ['fax.received', 4, undefined],
      ]);
      const pageEvent = JSON.parse(
        (
          await t.database.db
            .selectFrom('fax_events')
            .select('data_json')
            .where('fax_id', '=', fax.id)
            .where('sequence', '=', 3)
            .executeTakeFirstOrThrow()
        ).data_json,
      );
      assert.deepEqual(pageEvent, {
        faxId: fax.id,
        sequence: 3,
        status: 'receiving',
        direction: 'inbound',
        from: '+14155550999',
        to: ours,
        metadata: {},
        page: 2,
        width: 1728,
        rows: 2200,
        resolution: 'fine',
        badRows: 4,
        size: 8,
        pageUrl: `/v1/faxes/${fax.id}/pages/2`,
      });
    });

    it('closes as failed, keeping the pages that arrived', async () => {
      const fax = await startInboundFax(t.database, { to: ours, from: '+14155550999' });
      await recordReceivedPage({ database: t.database, blobs }, fax.id, {
        n: 1,
        bytes: Buffer.from('p'),
        rows: 1,
        badRows: 0,
      });
      await finishInboundFax(t.database, fax.id, { status: 'failed', failure: 'call_dropped' });
      const row = await t.database.db
        .selectFrom('faxes')
        .selectAll()
        .where('id', '=', fax.id)
        .executeTakeFirstOrThrow();
      assert.deepEqual([row.status, row.page_count, row.failure_code], ['failed', 1, 'call_dropped']);
      await finishInboundFax(t.database, fax.id, { status: 'received' });
      assert.equal((await events(fax.id)).at(-1)![0], 'fax.failed', 'a finished fax stays finished');
    });

    it('refuses calls to unknown numbers and to numbers with inbound off', async () => {
      await assert.rejects(startInboundFax(t.database, { to: '+19995550000', from: '+1' }), {
        code: 'not_found',
      });
      await t.database.db
        .updateTable('numbers')
        .set({ inbound_enabled: 0 })
        .where('e164', '=', ours)
        .execute();
      await assert.rejects(startInboundFax(t.database, { to: ours, from: '+1' }), { code: 'not_found' });
    });
  });
}
