/**
 * @module api/faxes-routes.test
 * /v1/faxes through inject(), on every database engine: accepting (JSON and multipart), idempotency,
 * the transaction that writes fax + job + event, reading, listing, canceling, resending, deleting,
 * and every error a client can cause here.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { faxMediaPrefix } from '../domain/media-keys.ts';
import { BlobNotFoundError, readBlob } from '../store/blob-store.ts';
import { TEST_ENGINES } from '../store/test-databases.ts';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

function multipart(fields: Record<string, string>, files: { name: string; type: string; data: Buffer }[]) {
  const boundary = 'faxwireBoundary42';
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`),
    );
  }
  for (const f of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${f.name}"\r\nContent-Type: ${f.type}\r\n\r\n`,
      ),
      f.data,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

for (const engine of TEST_ENGINES) {
  describe(`faxes API (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestApp;
    let queued = 0;
    before(async () => {
      t = await createTestApp({
        engine,
        env: {
          FAXWIRE_DOCUMENT_MAX_BYTES: '4096',
          FAXWIRE_DOCUMENTS_PER_FAX: '3',
          FAXWIRE_PAGES_PER_FAX: '5',
        },
        onFaxQueued: () => queued++,
      });
    });
    after(() => t.close());

    const pdf = (pages = 1) => ({
      content: tinyPdf(pages).toString('base64'),
      contentType: 'application/pdf',
    });
    const send = (payload: unknown, headers: Record<string, string> = {}) =>
      t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...t.auth, ...headers },
        payload: payload as object,
      });
    const valid = () => ({ to: '+14155550199', from: t.numbers[0], documents: [pdf(2)] });
    const errorOf = (res: { json(): unknown }) =>
      (res.json() as { error: { code: string; details: Record<string, unknown> } }).error;

    it('accepts a JSON fax: 202, queued, with a send job and a fax.queued event in the store', async () => {
      const before = queued;
      const res = await send({
        ...valid(),
        resolution: 'superfine',
        priority: 'high',
        headerText: 'ACME Corp',
        cover: { subject: 'Hello', message: 'See attached' },
        retries: { count: 3, delaySeconds: 60 },
        metadata: { ticket: 'T-1' },
      });
      assert.equal(res.statusCode, 202);
      const fax = res.json();
      assert.match(fax.id, /^fax_[0-9a-z]{26}$/);
      assert.equal(fax.status, 'queued');
      assert.deepEqual(
        [fax.to, fax.from, fax.pageCount, fax.resolution, fax.priority, fax.headerText],
        ['+14155550199', t.numbers[0], 3, 'superfine', 'high', 'ACME Corp'],
      );
      assert.deepEqual(fax.cover, { subject: 'Hello', message: 'See attached' });
      assert.deepEqual(fax.retries, { count: 3, delaySeconds: 60 });
      assert.deepEqual(fax.metadata, { ticket: 'T-1' });
      assert.equal(fax.documents[0].contentType, 'application/pdf');
      assert.equal(fax.documents[0].pageCount, 2);
      assert.ok(Date.parse(fax.createdAt) > 0);
      assert.equal(queued, before + 1);
      const { db } = t.deps.database;
      const job = await db
        .selectFrom('jobs')
        .selectAll()
        .where('unique_key', '=', `fax.send:${fax.id}`)
        .executeTakeFirstOrThrow();
      assert.deepEqual(
        [job.kind, JSON.parse(job.payload_json), job.priority],
        ['fax.send', { faxId: fax.id }, -10],
      );
      const events = await db.selectFrom('fax_events').selectAll().where('fax_id', '=', fax.id).execute();
      assert.deepEqual(
        events.map((e) => [e.type, e.sequence, JSON.parse(e.data_json)]),
        [
          [
            'fax.queued',
            1,
            {
              faxId: fax.id,
              sequence: 1,
              status: 'queued',
              direction: 'outbound',
              from: t.numbers[0],
              to: '+14155550199',
              metadata: { ticket: 'T-1' },
            },
          ],
        ],
      );
      const docs = await db.selectFrom('fax_documents').selectAll().where('fax_id', '=', fax.id).execute();
      const keys: string[] = [];
      for await (const key of t.deps.blobs.list(faxMediaPrefix(fax.id))) keys.push(key);
      assert.deepEqual(keys, [docs[0]!.blob_key]);
    });

    it('reads base64 wrapped in lines as its bytes, and refuses base64url and foreign characters', async () => {
      const bytes = tinyPdf(1);
      const wrapped = (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
      const res = await send({ ...valid(), documents: [{ content: wrapped }] });
      assert.equal(res.statusCode, 202, res.body);
      assert.deepEqual([res.json().documents[0].size, res.json().pageCount], [bytes.length, 1]);
      const b64 = bytes.toString('base64');
      for (const content of [
        `${b64.slice(0, 8)}-${b64.slice(9)}`,
        `${b64.slice(0, 8)}_${b64.slice(9)}`,
        `${b64.slice(0, 8)}*${b64.slice(9)}`,
      ]) {
        const refused = await send({ ...valid(), documents: [{ content }] });
        assert.deepEqual(
          [refused.statusCode, errorOf(refused).code],
          [400, 'invalid_document'],
          content.slice(0, 12),
        );
      }
    });

    it('schedules the send job at sendAt', async () => {
      const sendAt = new Date(Date.now() + 3_600_000).toISOString();
      const res = await send({ ...valid(), sendAt });
      assert.equal(res.statusCode, 202);
      assert.equal(res.json().sendAt, sendAt);
      const job = await t.deps.database.db
        .selectFrom('jobs')
        .select('run_at')
        .where('unique_key', '=', `fax.send:${res.json().id}`)
        .executeTakeFirstOrThrow();
      assert.equal(job.run_at, Date.parse(sendAt));
    });

    it('accepts a cover page alone, and a PNG', async () => {
      const cover = await send({
        to: '+14155550199',
        from: t.numbers[0],
        documents: [],
        cover: { subject: 'x' },
      });
      assert.equal(cover.statusCode, 202);
      assert.equal(cover.json().pageCount, 1);
      const png = await send({ ...valid(), documents: [{ content: PNG.toString('base64') }] });
      assert.equal(png.statusCode, 202);
      assert.equal(png.json().documents[0].contentType, 'image/png');
    });

    it('accepts multipart with files streamed and options as fields', async () => {
      const { payload, contentType } = multipart(
        {
          to: '+14155550199',
          from: t.numbers[1]!,
          resolution: 'standard',
          metadata: '{"a":"b"}',
          retries: '{"count":0,"delaySeconds":0}',
        },
        [
          { name: 'one.pdf', type: 'application/pdf', data: tinyPdf(1) },
          { name: 'two.png', type: 'image/png', data: PNG },
        ],
      );
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...t.auth, 'content-type': contentType },
        payload,
      });
      assert.equal(res.statusCode, 202, res.body);
      const fax = res.json();
      assert.deepEqual(
        fax.documents.map((d: { filename: string; contentType: string }) => [d.filename, d.contentType]),
        [
          ['one.pdf', 'application/pdf'],
          ['two.png', 'image/png'],
        ],
      );
      assert.deepEqual([fax.resolution, fax.metadata, fax.pageCount], ['standard', { a: 'b' }, 2]);
    });

    it('multipart: refuses unknown fields, bad JSON fields, oversized files and too many files', async () => {
      const post = (m: ReturnType<typeof multipart>) =>
        t.app.inject({
          method: 'POST',
          url: '/v1/faxes',
          headers: { ...t.auth, 'content-type': m.contentType },
          payload: m.payload,
        });
      const base = { to: '+14155550199', from: t.numbers[0]! };
      const file = { name: 'a.pdf', type: 'application/pdf', data: tinyPdf() };
      let res = await post(multipart({ ...base, colour: 'red' }, [file]));
      assert.deepEqual(
        [res.statusCode, errorOf(res).code, errorOf(res).details.field],
        [400, 'validation_failed', 'colour'],
      );
      res = await post(multipart({ ...base, metadata: '{nope' }, [file]));
      assert.deepEqual([res.statusCode, errorOf(res).code], [400, 'validation_failed']);
      res = await post(multipart({ ...base, to: '555' }, [file]));
      assert.deepEqual([res.statusCode, errorOf(res).code], [400, 'invalid_phone_number']);
      res = await post(multipart(base, [{ ...file, data: Buffer.alloc(5000, 1) }]));
      assert.deepEqual([res.statusCode, errorOf(res).code], [413, 'document_too_large']);
      res = await post(multipart(base, [file, file, file, file]));
      assert.deepEqual([res.statusCode, errorOf(res).code], [400, 'too_many_documents']);
    });

    it('replays the same fax for the same Idempotency-Key and body, and refuses a different body', async () => {
      const body = valid();
      const first = await send(body, { 'idempotency-key': 'order-77' });
      const again = await send(body, { 'idempotency-key': 'order-77' });
      assert.equal(first.statusCode, 202);
      assert.equal(again.statusCode, 202);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      assert.equal(again.json().id, first.json().id);
      const jobs = await t.deps.database.db
        .selectFrom('jobs')
        .select('id')
        .where('unique_key', '=', `fax.send:${first.json().id}`)
        .execute();
      assert.equal(jobs.length, 1);
      const conflict = await send({ ...body, to: '+14155550198' }, { 'idempotency-key': 'order-77' });
      assert.deepEqual([conflict.statusCode, errorOf(conflict).code], [409, 'idempotency_conflict']);
      const bad = await send(body, { 'idempotency-key': 'has space' });
      assert.deepEqual([bad.statusCode, errorOf(bad).code], [400, 'validation_failed']);
    });

    it('gives one fax to concurrent requests with one Idempotency-Key', async () => {
      const body = valid();
      const results = await Promise.all(
        Array.from({ length: 4 }, () => send(body, { 'idempotency-key': 'race-1' })),
      );
      assert.ok(results.every((r) => r.statusCode === 202));
      assert.equal(new Set(results.map((r) => r.json().id)).size, 1);
    });

    it('refuses a header text outside printable ASCII, JSON or multipart, saying what is allowed', async () => {
      const before = queued;
      const file = { name: 'a.pdf', type: 'application/pdf', data: tinyPdf() };
      const base = { to: '+14155550199', from: t.numbers[0]! };
      const form = multipart({ ...base, headerText: 'Müller' }, [file]);
      const responses = [
        ...(await Promise.all(
          ['Zürich', 'ACME\tCorp', 'line\nbreak', 'fax \u{1f4e0}'].map((h) =>
            send({ ...valid(), headerText: h }),
          ),
        )),
        await t.app.inject({
          method: 'POST',
          url: '/v1/faxes',
          headers: { ...t.auth, 'content-type': form.contentType },
          payload: form.payload,
        }),
      ];
      for (const res of responses) {
        const error = errorOf(res) as ReturnType<typeof errorOf> & { message: string };
        assert.deepEqual(
          [res.statusCode, error.code, error.details.field, error.details.reason],
          [400, 'validation_failed', 'headerText', 'pattern'],
        );
        assert.match(error.message, /printable ASCII.*A–Z.*digits.*spaces/);
      }
      assert.equal(queued, before);
      const ok = await send({
        ...valid(),
        headerText: "ACME Corp. #7 (Tel: +1-415) ~ok [a/b] {c} 100% 'q'",
      });
      assert.equal(ok.statusCode, 202);
    });

    it('refuses invalid requests with the catalogue codes', async () => {
      const cases: [unknown, number, string, string?][] = [
        [{ ...valid(), to: '4155550199' }, 400, 'invalid_phone_number', 'to'],
        [{ ...valid(), from: '+1' }, 400, 'invalid_phone_number', 'from'],
        [{ ...valid(), from: '+14155550777' }, 400, 'unknown_from_number', 'from'],
        [{ ...valid(), pages: 3 }, 400, 'validation_failed', 'pages'],
        [{ ...valid(), cover: { subject: 'a', colour: 'red' } }, 400, 'validation_failed', 'cover.colour'],
        [{ ...valid(), resolution: 'ultra' }, 400, 'validation_failed', 'resolution'],
        [{ ...valid(), retries: { count: 11, delaySeconds: 1 } }, 400, 'validation_failed', 'retries.count'],
        [{ ...valid(), sendAt: 'tomorrow' }, 400, 'validation_failed', 'sendAt'],
        [{ ...valid(), metadata: { 'bad key!': 'x' } }, 400, 'validation_failed'],
        [{ to: '+14155550199', documents: [pdf()] }, 400, 'validation_failed', 'from'],
        [{ ...valid(), documents: [] }, 400, 'validation_failed', 'documents'],
        [{ ...valid(), documents: [pdf(), pdf(), pdf(), pdf()] }, 400, 'too_many_documents', 'documents'],
        [{ ...valid(), documents: [{ content: '%%%not base64' }] }, 400, 'invalid_document'],
        [
          { ...valid(), documents: [{ content: Buffer.alloc(5000).toString('base64') }] },
          413,
          'document_too_large',
        ],
        [
          { ...valid(), documents: [{ content: Buffer.from('just text').toString('base64') }] },
          415,
          'unsupported_media_type',
        ],
        [
          { ...valid(), documents: [{ content: tinyPdf(1, '/Encrypt 9 0 R\n').toString('base64') }] },
          400,
          'password_protected',
        ],
        [
          { ...valid(), documents: [{ content: Buffer.from('%PDF-1.4 broken').toString('base64') }] },
          400,
          'invalid_document',
        ],
        [{ ...valid(), documents: [pdf(3), pdf(3)] }, 400, 'too_many_pages'],
      ];
      for (const [payload, status, code, field] of cases) {
        const res = await send(payload);
        const error = errorOf(res);
        assert.deepEqual([res.statusCode, error.code], [status, code], JSON.stringify(payload).slice(0, 120));
        if (field) assert.equal(error.details.field, field);
        assert.equal(typeof (res.json() as { error: { message: string } }).error.message, 'string');
      }
      const count = await t.deps.database.db
        .selectFrom('faxes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('to_number', '=', '+14155550198')
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 0, 'nothing refused was stored');
    });

    it('refuses bodies that are not JSON, too large, or of an unsupported type', async () => {
      let res = await t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...t.auth, 'content-type': 'application/json' },
        payload: '{"to":',
      });
      assert.deepEqual([res.statusCode, errorOf(res).code], [400, 'invalid_json']);
      res = await t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...t.auth, 'content-type': 'application/xml' },
        payload: '<fax/>',
      });
      assert.deepEqual([res.statusCode, errorOf(res).code], [415, 'unsupported_media_type']);
      res = await t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...t.auth, 'content-type': 'text/plain' },
        payload: 'fax this',
      });
      assert.deepEqual([res.statusCode, errorOf(res).code], [415, 'unsupported_media_type']);
      res = await t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: { ...t.auth, 'content-type': 'multipart/form-data' },
        payload: '--b\r\n',
      });
      assert.deepEqual([res.statusCode, errorOf(res).code], [400, 'validation_failed']);
      res = await send({
        ...valid(),
        documents: [{ content: 'A'.repeat(t.deps.config.limits.requestMaxBytes) }],
      });
      assert.deepEqual([res.statusCode, errorOf(res).code], [413, 'payload_too_large']);
    });

    it('requires a valid API key', async () => {
      for (const authorization of [undefined, 'Bearer nope', 'Basic abc', `Bearer fw_${'x'.repeat(43)}`]) {
        const res = await t.app.inject({
          method: 'GET',
          url: '/v1/faxes',
          headers: authorization ? { authorization } : {},
        });
        assert.deepEqual([res.statusCode, errorOf(res).code], [401, 'unauthorized'], authorization);
      }
    });

    it('gets a fax, and not another account’s', async () => {
      const created = (await send(valid())).json();
      const res = await t.app.inject({ method: 'GET', url: `/v1/faxes/${created.id}`, headers: t.auth });
      assert.deepEqual(res.json(), created);
      const missing = await t.app.inject({
        method: 'GET',
        url: '/v1/faxes/fax_00000000000000000000000000',
        headers: t.auth,
      });
      assert.deepEqual([missing.statusCode, errorOf(missing).code], [404, 'not_found']);
      await t.deps.database.db
        .insertInto('accounts')
        .values({ id: 'acct_other', name: 'o', created_at: 1 })
        .execute();
      await t.deps.database.db
        .updateTable('faxes')
        .set({ account_id: 'acct_other' })
        .where('id', '=', created.id)
        .execute();
      const foreign = await t.app.inject({ method: 'GET', url: `/v1/faxes/${created.id}`, headers: t.auth });
      assert.equal(foreign.statusCode, 404);
    });

    it('lists newest first with a cursor, and filters', async () => {
      const to = '+14155550111';
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await send({ ...valid(), to })).json().id);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const url: string = `/v1/faxes?number=%2B14155550111&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await t.app.inject({ method: 'GET', url, headers: t.auth });
        assert.equal(page.statusCode, 200);
        const body = page.json();
        assert.ok(body.data.length <= 2);
        seen.push(...body.data.map((f: { id: string }) => f.id));
        cursor = body.nextCursor;
      } while (cursor);
      assert.deepEqual(seen, ids.reverse());

      const filtered = await t.app.inject({
        method: 'GET',
        url: `/v1/faxes?direction=inbound&status=queued`,
        headers: t.auth,
      });
      assert.deepEqual(filtered.json().data, []);
      const future = new Date(Date.now() + 60_000).toISOString();
      const after = await t.app.inject({
        method: 'GET',
        url: `/v1/faxes?createdAfter=${future}`,
        headers: t.auth,
      });
      assert.deepEqual(after.json().data, []);
      const before = await t.app.inject({
        method: 'GET',
        url: `/v1/faxes?createdBefore=${future}&limit=1`,
        headers: t.auth,
      });
      assert.equal(before.json().data.length, 1);

      for (const [query, code] of [
        ['cursor=garbage', 'invalid_cursor'],
        ['limit=0', 'validation_failed'],
        ['status=lost', 'validation_failed'],
        ['number=123', 'invalid_phone_number'],
        ['sort=asc', 'validation_failed'],
      ]) {
        const res = await t.app.inject({ method: 'GET', url: `/v1/faxes?${query}`, headers: t.auth });
        assert.deepEqual([res.statusCode, errorOf(res).code], [400, code], query);
      }
    });

    it('cancels a queued fax: status, job removed, fax.canceled event; a finished fax is not cancelable', async () => {
      const fax = (await send(valid())).json();
      const res = await t.app.inject({ method: 'POST', url: `/v1/faxes/${fax.id}/cancel`, headers: t.auth });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().status, 'canceled');
      assert.ok(res.json().completedAt);
      const jobs = await t.deps.database.db
        .selectFrom('jobs')
        .select('id')
        .where('unique_key', '=', `fax.send:${fax.id}`)
        .execute();
      assert.equal(jobs.length, 0);
      const events = await t.deps.database.db
        .selectFrom('fax_events')
        .select(['type', 'sequence'])
        .where('fax_id', '=', fax.id)
        .orderBy('sequence')
        .execute();
      assert.deepEqual(
        events.map((e) => [e.type, e.sequence]),
        [
          ['fax.queued', 1],
          ['fax.canceled', 2],
        ],
      );
      const again = await t.app.inject({
        method: 'POST',
        url: `/v1/faxes/${fax.id}/cancel`,
        headers: t.auth,
      });
      assert.deepEqual([again.statusCode, errorOf(again).code], [409, 'fax_not_cancelable']);
      const missing = await t.app.inject({ method: 'POST', url: '/v1/faxes/fax_x/cancel', headers: t.auth });
      assert.equal(missing.statusCode, 404);
    });

    it('resends a finished fax as a new fax with copied documents; an active one is not resendable', async () => {
      const original = (await send({ ...valid(), metadata: { k: 'v' } })).json();
      const active = await t.app.inject({
        method: 'POST',
        url: `/v1/faxes/${original.id}/resend`,
        headers: t.auth,
      });
      assert.deepEqual([active.statusCode, errorOf(active).code], [409, 'fax_not_resendable']);
      await t.app.inject({ method: 'POST', url: `/v1/faxes/${original.id}/cancel`, headers: t.auth });
      const res = await t.app.inject({
        method: 'POST',
        url: `/v1/faxes/${original.id}/resend`,
        headers: t.auth,
      });
      assert.equal(res.statusCode, 202);
      const copy = res.json();
      assert.notEqual(copy.id, original.id);
      assert.deepEqual(
        [copy.status, copy.to, copy.metadata, copy.pageCount],
        ['queued', original.to, { k: 'v' }, original.pageCount],
      );
      assert.notEqual(copy.documents[0].id, original.documents[0].id);
      // Queued in its carrier's group, so a trunk's channel limit applies (loopback here).
      const job = await t.db.database.db
        .selectFrom('jobs')
        .select(['unique_key', 'group_key'])
        .where('unique_key', '=', `fax.send:${copy.id}`)
        .executeTakeFirstOrThrow();
      assert.equal(job.group_key, 'loopback');
      const missing = await t.app.inject({ method: 'POST', url: '/v1/faxes/fax_x/resend', headers: t.auth });
      assert.equal(missing.statusCode, 404);
    });

    it('deletes a finished fax: media erased, tombstone kept; an active one is refused', async () => {
      const fax = (await send({ ...valid(), metadata: { patient: 'x' }, headerText: 'H' })).json();
      const active = await t.app.inject({ method: 'DELETE', url: `/v1/faxes/${fax.id}`, headers: t.auth });
      assert.deepEqual([active.statusCode, errorOf(active).code], [409, 'fax_in_progress']);
      await t.app.inject({ method: 'POST', url: `/v1/faxes/${fax.id}/cancel`, headers: t.auth });
      const stored: string[] = [];
      for await (const key of t.deps.blobs.list(faxMediaPrefix(fax.id))) stored.push(key);
      assert.equal(stored.length, 1);
      const res = await t.app.inject({ method: 'DELETE', url: `/v1/faxes/${fax.id}`, headers: t.auth });
      assert.equal(res.statusCode, 200);
      const tomb = res.json();
      assert.ok(tomb.deletedAt);
      assert.deepEqual([tomb.metadata, tomb.headerText, tomb.to], [{}, null, fax.to]);
      const keys: string[] = [];
      for await (const key of t.deps.blobs.list(faxMediaPrefix(fax.id))) keys.push(key);
      assert.deepEqual(keys, []);
      await assert.rejects(readBlob(t.deps.blobs, stored[0]!), BlobNotFoundError);
      const get = await t.app.inject({ method: 'GET', url: `/v1/faxes/${fax.id}`, headers: t.auth });
      assert.ok(get.json().deletedAt);
      const twice = await t.app.inject({ method: 'DELETE', url: `/v1/faxes/${fax.id}`, headers: t.auth });
      assert.equal(twice.statusCode, 200);
      const resend = await t.app.inject({
        method: 'POST',
        url: `/v1/faxes/${fax.id}/resend`,
        headers: t.auth,
      });
      assert.equal(resend.statusCode, 404);
      const list = await t.app.inject({ method: 'GET', url: '/v1/faxes?limit=100', headers: t.auth });
      assert.ok(
        !list.json().data.some((f: { id: string }) => f.id === fax.id),
        'deleted faxes are not listed',
      );
      const missing = await t.app.inject({ method: 'DELETE', url: '/v1/faxes/fax_x', headers: t.auth });
      assert.equal(missing.statusCode, 404);
    });
  });
}
