/**
 * @module api/pages-routes.test
 * Pages and files through inject(), on every engine: a received page is listed with its facts and
 * served as TIFF (as stored), PNG and PDF with the same pixels; the page still arriving is previewed
 * from its rows so far, marked partial; the file holds the pages so far while the fax arrives; and
 * every page a client cannot have yet, or any more, gets a clear 409 or 404.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { type BilevelPage, getPixel, samePixels } from 'telefax/image/bilevel-page';
import { syntheticPage } from 'telefax/image/synthetic-page';
import { readTiff } from 'telefax/image/tiff-reader';
import { writeFaxTiff } from '../documents/index.ts';
import { deleteFax } from '../domain/delete-fax.ts';
import {
  finishInboundFax,
  recordReceivedPage,
  reportPageProgress,
  startInboundFax,
} from '../domain/inbound-fax.ts';
import { TEST_ENGINES } from '../store/test-databases.ts';
import { createTestApp, type TestApp, tinyPdf } from './test-app.ts';

/** A PNG's pixels as a bilevel page (dark = black), to compare with the page it came from. */
async function pngPixels(
  png: Buffer,
): Promise<{ width: number; height: number; black: (x: number, y: number) => boolean }> {
  const { data, info } = await sharp(png).greyscale().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    black: (x, y) => data[(y * info.width + x) * info.channels]! < 128,
  };
}

function assertSamePixels(
  actual: { width: number; height: number; black: (x: number, y: number) => boolean },
  page: BilevelPage,
  rows = page.height,
) {
  assert.deepEqual([actual.width, actual.height], [page.width, rows]);
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < page.width; x++) {
      if (actual.black(x, y) !== (getPixel(page, x, y) === 1)) assert.fail(`pixel ${x},${y} differs`);
    }
  }
}

for (const engine of TEST_ENGINES) {
  describe(`pages and files (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestApp;
    const pages = [syntheticPage(1728, 400, 1), syntheticPage(1728, 300, 2)];
    before(async () => {
      t = await createTestApp({ engine });
    });
    after(() => t.close());
    const get = (url: string) => t.app.inject({ method: 'GET', url, headers: t.auth });
    const receive = async (n: number) =>
      recordReceivedPage({ database: t.deps.database, blobs: t.deps.blobs }, faxId, {
        n,
        bytes: await writeFaxTiff([pages[n - 1]!]),
        rows: pages[n - 1]!.height,
        badRows: n === 2 ? 3 : 0,
        width: 1728,
        resolution: 'fine',
      });
    let faxId: string;

    it('lists received pages with their facts, and serves each as TIFF, PNG and PDF', async () => {
      faxId = (await startInboundFax(t.deps.database, { to: t.numbers[0]!, from: '+14155550123' })).id;
      await receive(1);
      await receive(2);
      const list = await get(`/v1/faxes/${faxId}/pages`);
      assert.equal(list.statusCode, 200);
      const body = list.json();
      assert.deepEqual(
        body.data.map((p: Record<string, unknown>) => [
          p.number,
          p.width,
          p.rows,
          p.resolution,
          p.badRows,
          p.sentAt,
          p.url,
        ]),
        [
          [1, 1728, 400, 'fine', 0, null, `/v1/faxes/${faxId}/pages/1`],
          [2, 1728, 300, 'fine', 3, null, `/v1/faxes/${faxId}/pages/2`],
        ],
      );
      assert.ok(body.data.every((p: { size: number; receivedAt: string }) => p.size > 0 && p.receivedAt));
      assert.equal(body.arriving, null);

      const tiff = await get(`/v1/faxes/${faxId}/pages/2`);
      assert.equal(tiff.statusCode, 200);
      assert.equal(tiff.headers['content-type'], 'image/tiff');
      assert.ok(samePixels(readTiff(tiff.rawPayload).pages[0]!.page, pages[1]!));
      const png = await get(`/v1/faxes/${faxId}/pages/1?format=png`);
      assert.equal(png.headers['content-type'], 'image/png');
      assert.equal(png.headers['faxwire-page-partial'], undefined);
      assertSamePixels(await pngPixels(png.rawPayload), pages[0]!);
      const thumb = await pngPixels(
        (await get(`/v1/faxes/${faxId}/pages/1?format=png&width=200`)).rawPayload,
      );
      assert.equal(thumb.width, 200);
      const pdf = await get(`/v1/faxes/${faxId}/pages/1?format=pdf`);
      assert.equal(pdf.headers['content-type'], 'application/pdf');
      const text = pdf.rawPayload.toString('latin1');
      assert.ok(text.startsWith('%PDF-') && text.includes('/CCITTFaxDecode') && text.includes('/Rows 400'));
    });

    it('previews the page still arriving from its rows so far, marked partial', async () => {
      const arriving = syntheticPage(1728, 500, 3);
      reportPageProgress(t.deps.database, faxId, 3, { ...arriving, height: 120 });
      const list = (await get(`/v1/faxes/${faxId}/pages`)).json();
      assert.deepEqual(list.arriving, { number: 3, rows: 120, url: `/v1/faxes/${faxId}/pages/3` });
      const png = await get(`/v1/faxes/${faxId}/pages/3?format=png`);
      assert.equal(png.statusCode, 200);
      assert.equal(png.headers['faxwire-page-partial'], 'true');
      assert.equal(png.headers['faxwire-page-rows'], '120');
      assertSamePixels(await pngPixels(png.rawPayload), arriving, 120);
      reportPageProgress(t.deps.database, faxId, 3, { ...arriving, height: 250 });
      const grown = await get(`/v1/faxes/${faxId}/pages/3?format=png`);
      assert.equal(grown.headers['faxwire-page-rows'], '250');
      assertSamePixels(await pngPixels(grown.rawPayload), arriving, 250);
      const tiff = await get(`/v1/faxes/${faxId}/pages/3?format=tiff`);
      assert.equal(tiff.statusCode, 409);
      assert.deepEqual(tiff.json().error.code, 'page_not_ready');
      assert.equal(tiff.json().error.details.rows, 250);
      assert.equal((await get(`/v1/faxes/${faxId}/pages/4`)).json().error.code, 'page_not_ready');
    });

    it('serves the file of the pages so far while the fax arrives, then the whole fax', async () => {
      const partial = await get(`/v1/faxes/${faxId}/file?format=tiff`);
      assert.equal(partial.statusCode, 200);
      assert.equal(partial.headers['faxwire-pages'], '2');
      assert.equal(partial.headers['faxwire-file-partial'], 'true');
      const decoded = readTiff(partial.rawPayload).pages.map((p) => p.page);
      assert.ok(decoded.length === 2 && decoded.every((p, i) => samePixels(p, pages[i]!)));

      await finishInboundFax(t.deps.database, faxId, { status: 'received' });
      const pdf = await get(`/v1/faxes/${faxId}/file`);
      assert.equal(pdf.headers['content-type'], 'application/pdf');
      assert.equal(pdf.headers['faxwire-file-partial'], 'false');
      assert.equal(pdf.rawPayload.toString('latin1').match(/\/Type \/Page\b/g)?.length, 2);
      const gone = await get(`/v1/faxes/${faxId}/pages/3?format=png`);
      assert.equal(gone.statusCode, 404, 'a finished fax has no page in progress');
      assert.equal(gone.json().error.code, 'not_found');
    });

    it('answers 409 before the first page and 404 for unknown, foreign or deleted faxes', async () => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers: t.auth,
        payload: {
          to: '+14155550199',
          from: t.numbers[0],
          documents: [{ content: tinyPdf(2).toString('base64') }],
        },
      });
      const queued = res.json().id;
      assert.deepEqual((await get(`/v1/faxes/${queued}/pages`)).json(), { data: [], arriving: null });
      const file = await get(`/v1/faxes/${queued}/file`);
      assert.deepEqual([file.statusCode, file.json().error.code], [409, 'page_not_ready']);
      assert.equal((await get(`/v1/faxes/${queued}/pages/1`)).statusCode, 409);
      assert.equal((await get(`/v1/faxes/${queued}/pages/3`)).statusCode, 404, 'beyond the page count');

      assert.equal((await get('/v1/faxes/fax_unknown/pages')).statusCode, 404);
      await t.addOtherAccount('+14155558888');
      const foreign = await startInboundFax(t.deps.database, { to: '+14155558888', from: '+14155550124' });
      assert.equal((await get(`/v1/faxes/${foreign.id}/pages`)).statusCode, 404);
      assert.equal((await get(`/v1/faxes/${foreign.id}/file`)).statusCode, 404);
      assert.equal((await get(`/v1/faxes/${faxId}/pages/0`)).statusCode, 400);
      assert.equal((await get(`/v1/faxes/${faxId}/pages/1?format=gif`)).statusCode, 400);
      assert.equal((await t.app.inject({ method: 'GET', url: `/v1/faxes/${faxId}/pages` })).statusCode, 401);

      await deleteFax({ database: t.deps.database, blobs: t.deps.blobs }, t.accountId, faxId);
      const deleted = await get(`/v1/faxes/${faxId}/pages/1`);
      assert.equal(deleted.statusCode, 404);
      assert.match(deleted.json().error.message, /deleted/);
      const log = await get(`/v1/faxes/${faxId}/events`);
      assert.ok(
        log
          .json()
          .data.every((e: { data: { metadata: object } }) => Object.keys(e.data.metadata).length === 0),
      );
    });
  });
}
