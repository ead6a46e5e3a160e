/**
 * @module cli/start-command.test
 * The platform as `faxwire start` assembles it, without binding a port: first-start bootstrap, the
 * key file, a fax accepted through the API and sent by the worker through a plugged-in line, and a
 * second start that finds everything in place.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { StubDocumentInspector, tinyPdf } from '../api/test-app.ts';
import { loadConfig } from '../config/config.ts';
import type { FaxLine } from '../domain/fax-line.ts';
import { INITIAL_KEY_FILE, redactUrl, startPlatform } from './start-command.ts';
import { firstAccountOf } from './test-platform-account.ts';

describe('faxwire start', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-start-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  const config = loadConfig({ FAXWIRE_DATA_DIR: dataDir, FAXWIRE_BLOB_ENCRYPTION_KEY: 'cd'.repeat(32) });
  const logger = pino({ level: 'silent' });

  it('bootstraps an empty data dir, sends through the line, and restarts cleanly', async () => {
    const sent: string[] = [];
    const line: FaxLine = {
      async send(call, pages, progress) {
        await progress.sendingStarted({});
        let n = 0;
        for await (const _ of pages) await progress.pageSent(++n);
        sent.push(call.to);
        return { status: 'delivered', pagesSent: n };
      },
    };
    const platform = await startPlatform(config, {
      listen: false,
      logger,
      line,
      inspector: new StubDocumentInspector(),
    });
    try {
      assert.equal(platform.initialKeyPath, join(dataDir, INITIAL_KEY_FILE));
      assert.equal(statSync(platform.initialKeyPath!).mode & 0o777, 0o600);
      const account = await firstAccountOf(platform);
      assert.equal(account.numbers.length, 2);
      const id = await account.sendFax({
        to: '+14155550177',
        documents: [{ content: tinyPdf(1).toString('base64') }],
        cover: { subject: 'Hi' },
      });
      let status = '';
      for (let i = 0; i < 300 && status !== 'delivered' && status !== 'failed'; i++) {
        await sleep(20);
        status = (await account.get(`/v1/faxes/${id}`)).json().status;
      }
      assert.equal(status, 'delivered');
      assert.deepEqual(sent, ['+14155550177']);
    } finally {
      await platform.close();
    }
    const again = await startPlatform(config, {
      listen: false,
      logger,
      inspector: new StubDocumentInspector(),
    });
    try {
      assert.equal(again.initialKeyPath, null, 'no second bootstrap');
      const health = await again.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200);
    } finally {
      await again.close();
    }
  });
});

describe('request log redaction', () => {
  it('keeps the shape of a URL and drops phone numbers', () => {
    assert.equal(redactUrl('/v1/numbers/%2B14155550100'), '/v1/numbers/[number]');
    assert.equal(redactUrl('/v1/faxes?number=+442071838750&limit=2'), '/v1/faxes?number=[number]&limit=2');
    assert.equal(
      redactUrl('/v1/faxes/fax_01m84123456789n7f93c2pxan'),
      '/v1/faxes/fax_01m84123456789n7f93c2pxan',
    );
  });
});
