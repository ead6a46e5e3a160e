/**
 * @module api/events-routes.test
 * Live streams over a real socket, on every engine: the account stream delivers each committed event
 * once, in order, only the account's own; a reconnect with Last-Event-ID gets exactly what it missed;
 * events another process wrote arrive at the next keep-alive; a fax's stream ends after its final
 * event and answers 204 afterwards; the JSON list pages by sequence; progress events are transient and
 * rate-limited; closing the server ends open streams.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { cancelFax } from '../domain/cancel-fax.ts';
import {
  finishInboundFax,
  recordReceivedPage,
  reportPageProgress,
  startInboundFax,
} from '../domain/inbound-fax.ts';
import { accountPositionsSettled } from '../events/account-sequencer.ts';
import { PageProgress, setPageProgress } from '../events/page-progress.ts';
import { TEST_ENGINES } from '../store/test-databases.ts';
import type { AppDeps } from './app-deps.ts';
import { buildApp } from './build-app.ts';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';
import { openSse, type SseMessage } from './test-sse-client.ts';

const envelope = (m: SseMessage | undefined) => {
  assert.ok(m?.data, 'an event');
  return JSON.parse(m.data) as {
    id: string;
    type: string;
    timestamp: string;
    data: Record<string, unknown>;
  };
};
const isEvent = (m: SseMessage) => m.data !== undefined;
const page = (n: number) => ({ n, bytes: Buffer.from(`page ${n}`), rows: 10, badRows: 0, width: 1728 });

for (const engine of TEST_ENGINES) {
  describe(`live event streams (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestApp;
    let app: FastifyInstance;
    let base: string;
    let clock = 1_000_000;
    before(async () => {
      t = await createTestApp({ engine });
      // Short keep-alives so the log poll that catches other processes' events runs within the test.
      app = await buildApp({ ...t.deps, streams: { keepAliveMs: 200 } } as AppDeps);
      base = await app.listen({ host: '127.0.0.1', port: 0 });
      setPageProgress(
        t.deps.database,
        new PageProgress(t.deps.database, { minIntervalMs: 1000, now: () => clock }),
      );
    });
    after(async () => {
      await app.close();
      await t.close();
    });

    const sendFax = async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: t.auth,
        payload: {
          to: '+14155550199',
          from: t.numbers[0],
          documents: [{ content: tinyPdf(1).toString('base64') }],
          metadata: { ticket: 'T-9' },
        },
      });
      assert.equal(res.statusCode, 202);
      return res.json().id as string;
    };
    const deps = () => ({ database: t.deps.database, blobs: t.deps.blobs });

    it('streams each committed event of the account once, in order, and resumes with Last-Event-ID', async () => {
      await t.addOtherAccount('+14155559999');

      const sse = await openSse(`${base}/v1/events`, t.auth);
      assert.equal(sse.status, 200);
      assert.match(sse.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal((await sse.next())?.retry, 2000);

      const faxId = await sendFax();
      const queued = await sse.nextMatching(isEvent);
      assert.match(queued!.id!, /^evt_/);
      assert.equal(queued!.event, 'fax.queued');
      assert.deepEqual(envelope(queued).data, {
        faxId,
        sequence: 1,
        status: 'queued',
        direction: 'outbound',
        from: t.numbers[0],
        to: '+14155550199',
        metadata: { ticket: 'T-9' },
      });
      assert.equal(envelope(queued).id, queued!.id);

      await startInboundFax(t.deps.database, { to: '+14155559999', from: '+14155550001' });
      const inbound = await startInboundFax(t.deps.database, { to: t.numbers[1]!, from: '+14155550002' });
      const started = envelope(await sse.nextMatching(isEvent));
      assert.deepEqual([started.type, started.data.faxId], ['fax.receiving.started', inbound.id]);
      await recordReceivedPage(deps(), inbound.id, page(1));
      const received = envelope(await sse.nextMatching(isEvent));
      assert.deepEqual(
        [received.type, received.data.page, received.data.rows, received.data.pageUrl],
        ['fax.page.received', 1, 10, `/v1/faxes/${inbound.id}/pages/1`],
      );
      sse.close();

      // Missed while disconnected: exactly these, in commit order, then live again.
      await cancelFax(t.deps.database, t.accountId, faxId);
      await recordReceivedPage(deps(), inbound.id, page(2));
      await finishInboundFax(t.deps.database, inbound.id, { status: 'received' });
      const again = await openSse(`${base}/v1/events`, { ...t.auth, 'last-event-id': received.id });
      const missed: string[] = [];
      for (let i = 0; i < 3; i++) missed.push(envelope(await again.nextMatching(isEvent)).type);
      assert.deepEqual(missed, ['fax.canceled', 'fax.page.received', 'fax.received']);
      const live = await startInboundFax(t.deps.database, { to: t.numbers[1]!, from: '+14155550003' });
      assert.equal(envelope(await again.nextMatching(isEvent)).data.faxId, live.id);
      again.close();
    });

    it('delivers events another process committed at the next keep-alive', async () => {
      const sse = await openSse(`${base}/v1/events`, t.auth);
      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      assert.match(metrics.body, /^faxwire_event_streams_open 1$/m);
      const elsewhere = await t.db.openAnother();
      const fax = await startInboundFax(elsewhere, { to: t.numbers[1]!, from: '+14155550004' });
      const m = await sse.nextMatching(isEvent);
      assert.equal(envelope(m).data.faxId, fax.id);
      assert.ok(
        (await sse.nextMatching((x) => x.comment === 'keep-alive', 2000)) !== undefined,
        'keep-alive comments flow',
      );
      sse.close();
    });

    it('gives every client every event once, in account order, under concurrent writers', async () => {
      const clients = await Promise.all([0, 1, 2, 3].map(() => openSse(`${base}/v1/events`, t.auth)));
      const elsewhere = await t.db.openAnother();
      const faxes: string[] = [];
      for (const i of [0, 1, 2]) {
        faxes.push(
          (await startInboundFax(t.deps.database, { to: t.numbers[1]!, from: `+1415555080${i}` })).id,
        );
      }
      await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          recordReceivedPage(
            { database: i % 2 ? elsewhere : t.deps.database, blobs: t.deps.blobs },
            faxes[i % 3]!,
            page(Math.floor(i / 3) + 1),
          ),
        ),
      );
      // Page writes do not wait for their account positions (PostgreSQL); the log is read once they have them.
      await Promise.all([accountPositionsSettled(t.deps.database), accountPositionsSettled(elsewhere)]);
      const log = await t.deps.database.db
        .selectFrom('fax_events')
        .select('id')
        .where('fax_id', 'in', faxes)
        .orderBy('account_seq')
        .execute();
      assert.equal(log.length, 33);
      for (const client of clients) {
        const got: string[] = [];
        // Events another connection wrote arrive at the next keep-alive; 200 ms here.
        while (got.length < 33) got.push((await client.nextMatching(isEvent))!.id!);
        client.close();
        assert.deepEqual(
          got,
          log.map((r) => r.id),
          'the account log, in order, each event once',
        );
      }
    });

    it('resumes after an event that has no account position yet (PostgreSQL numbers after the commit)', async (c) => {
      if (t.deps.database.engine !== 'postgres') return c.skip('SQLite numbers in the transaction');
      const fax = await startInboundFax(t.deps.database, { to: t.numbers[1]!, from: '+14155550006' });
      // Known by id (a fax stream, a webhook) a moment before the sequencer has run.
      const { accountId } = await t.deps.database.db
        .selectFrom('faxes')
        .select('account_id as accountId')
        .where('id', '=', fax.id)
        .executeTakeFirstOrThrow();
      await t.deps.database.db
        .insertInto('fax_events')
        .values({
          id: 'evt_01m98zzzzzzzzzzzzzzzzzzzzz',
          fax_id: fax.id,
          sequence: 2,
          type: 'fax.page.received',
          data_json: '{}',
          created_at: Date.now(),
          account_id: accountId,
          account_seq: null,
        })
        .execute();
      const res = await t.app.inject({
        method: 'GET',
        url: '/v1/events?after=evt_01m98zzzzzzzzzzzzzzzzzzzzz',
        headers: t.auth,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual(res.json().data, []);
    });

    it('refuses a bad or foreign Last-Event-ID and a missing key', async () => {
      const bad = await t.app.inject({
        method: 'GET',
        url: '/v1/events',
        headers: { ...t.auth, 'last-event-id': 'nope' },
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().error.code, 'invalid_cursor');
      const unknown = await t.app.inject({
        method: 'GET',
        url: '/v1/events?after=evt_00000000000000000000000000',
        headers: t.auth,
      });
      assert.equal(unknown.json().error.code, 'invalid_cursor');
      const anonymous = await t.app.inject({ method: 'GET', url: '/v1/events' });
      assert.equal(anonymous.statusCode, 401);
    });

    it('follows one fax to its final event, then answers 204', async () => {
      const faxId = await sendFax();
      const sse = await openSse(`${base}/v1/faxes/${faxId}/events`, t.auth);
      const first = envelope(await sse.nextMatching(isEvent));
      assert.deepEqual([first.type, first.data.sequence], ['fax.queued', 1]);
      await cancelFax(t.deps.database, t.accountId, faxId);
      const last = await sse.nextMatching(isEvent);
      assert.equal(last?.event, 'fax.canceled');
      await sse.ended;
      assert.equal(await sse.next(), undefined, 'the stream ends after the final event');

      const done = await fetch(`${base}/v1/faxes/${faxId}/events`, {
        headers: { ...t.auth, accept: 'text/event-stream', 'last-event-id': last!.id! },
      });
      assert.equal(done.status, 204);
      const replay = await openSse(`${base}/v1/faxes/${faxId}/events`, {
        ...t.auth,
        'last-event-id': first.id,
      });
      assert.equal((await replay.nextMatching(isEvent))?.event, 'fax.canceled');
      await replay.ended;
    });

    it('lists a fax log as JSON after a sequence, a page at a time', async () => {
      const fax = await startInboundFax(t.deps.database, { to: t.numbers[1]!, from: '+14155550005' });
      for (const n of [1, 2, 3]) await recordReceivedPage(deps(), fax.id, page(n));
      const get = (query: string) =>
        t.app.inject({ method: 'GET', url: `/v1/faxes/${fax.id}/events${query}`, headers: t.auth });
      const all = await get('');
      assert.equal(all.statusCode, 200);
      assert.deepEqual(
        all.json().data.map((e: { type: string; data: { sequence: number } }) => [e.type, e.data.sequence]),
        [
          ['fax.receiving.started', 1],
          ['fax.page.received', 2],
          ['fax.page.received', 3],
          ['fax.page.received', 4],
        ],
      );
      assert.equal(all.json().nextAfter, null);
      const firstPage = await get('?after=1&limit=2');
      assert.deepEqual(
        firstPage.json().data.map((e: { data: { page: number } }) => e.data.page),
        [1, 2],
      );
      assert.equal(firstPage.json().nextAfter, 3);
      assert.deepEqual((await get('?after=3')).json().data.length, 1);
      const missing = await t.app.inject({
        method: 'GET',
        url: '/v1/faxes/fax_nope/events',
        headers: t.auth,
      });
      assert.equal(missing.statusCode, 404);
    });

    it('streams fax.page.progress without an id, at most once per interval per page', async () => {
      const fax = await startInboundFax(t.deps.database, { to: t.numbers[1]!, from: '+14155550006' });
      const sse = await openSse(`${base}/v1/faxes/${fax.id}/events`, t.auth);
      assert.equal(envelope(await sse.nextMatching(isEvent)).type, 'fax.receiving.started');
      const rows = (height: number) => ({
        width: 16,
        height,
        stride: 2,
        data: new Uint8Array(2 * 100),
        xDpi: 204,
        yDpi: 196,
      });
      reportPageProgress(t.deps.database, fax.id, 1, rows(10));
      const p1 = await sse.nextMatching(isEvent);
      reportPageProgress(t.deps.database, fax.id, 1, rows(20));
      clock += 1000;
      reportPageProgress(t.deps.database, fax.id, 1, rows(30));
      const p2 = await sse.nextMatching(isEvent);
      assert.deepEqual(
        [p1, p2].map((m) => [m?.event, m?.id, envelope(m).data.rows, envelope(m).data.partial]),
        [
          ['fax.page.progress', undefined, 10, true],
          ['fax.page.progress', undefined, 30, true],
        ],
      );
      await recordReceivedPage(deps(), fax.id, page(1));
      const stored = await sse.nextMatching(isEvent);
      assert.equal(stored?.event, 'fax.page.received');
      assert.match(stored!.id!, /^evt_/);
      const log = await t.app.inject({ method: 'GET', url: `/v1/faxes/${fax.id}/events`, headers: t.auth });
      assert.ok(
        log.json().data.every((e: { type: string }) => e.type !== 'fax.page.progress'),
        'progress is never stored',
      );
      sse.close();
    });

    it("pages through the account's log as JSON and caps open streams per account", async () => {
      const first = await t.app.inject({ method: 'GET', url: '/v1/events?limit=2', headers: t.auth });
      assert.equal(first.statusCode, 200);
      const page1 = first.json();
      assert.equal(page1.data.length, 2);
      assert.match(page1.nextAfter, /^evt_/);
      const second = await t.app.inject({
        method: 'GET',
        url: `/v1/events?limit=2&after=${page1.nextAfter}`,
        headers: t.auth,
      });
      const ids = [...page1.data, ...second.json().data].map((e: { id: string }) => e.id);
      assert.equal(new Set(ids).size, 4, 'pages do not overlap');
      const log = await t.deps.database.db
        .selectFrom('fax_events')
        .select('id')
        .where('account_id', '=', t.accountId)
        .orderBy('account_seq')
        .limit(4)
        .execute();
      assert.deepEqual(
        ids,
        log.map((r) => r.id),
      );

      const capped = await buildApp({ ...t.deps, streams: { maxPerAccount: 2 } } as AppDeps);
      const url = await capped.listen({ host: '127.0.0.1', port: 0 });
      const open = [await openSse(`${url}/v1/events`, t.auth), await openSse(`${url}/v1/events`, t.auth)];
      const refused = await fetch(`${url}/v1/events`, {
        headers: { ...t.auth, accept: 'text/event-stream' },
      });
      assert.equal(refused.status, 429);
      open[0]!.close();
      await open[0]!.ended;
      let again: Awaited<ReturnType<typeof openSse>> | undefined;
      for (let i = 0; i < 50 && again?.status !== 200; i++) {
        again?.close();
        again = await openSse(`${url}/v1/events`, t.auth);
      }
      assert.equal(again?.status, 200, 'a closed stream frees its place');
      again?.close();
      open[1]!.close();
      await capped.close();
    });

    it('ends open streams when the server closes', async () => {
      const other = await buildApp(t.deps);
      const url = await other.listen({ host: '127.0.0.1', port: 0 });
      const sse = await openSse(`${url}/v1/events`, t.auth);
      await sse.next();
      await other.close();
      await sse.ended;
      assert.equal(await sse.next(), undefined);
    });
  });
}
