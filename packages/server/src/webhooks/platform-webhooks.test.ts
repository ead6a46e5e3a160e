/**
 * @module webhooks/platform-webhooks.test
 * Webhooks in the platform as `faxwire start` assembles it: an endpoint created through the API gets
 * a test event and the events of a fax sent through the API and a plugged-in line, the fax's in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { StubDocumentInspector } from '../api/test-app.ts';
import { startPlatform } from '../cli/start-command.ts';
import { firstAccountOf } from '../cli/test-platform-account.ts';
import { loadConfig } from '../config/config.ts';
import type { FaxLine } from '../domain/fax-line.ts';
import { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';
import { TEST_ENGINES } from '../store/test-databases.ts';
import { startTestReceiver } from './test-receiver.ts';

for (const engine of TEST_ENGINES) {
  describe(`webhooks in faxwire start (${engine.name})`, { skip: engine.skip }, () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-whk-start-'));
    after(() => rmSync(dataDir, { recursive: true, force: true }));

    it('delivers a test event and the events of a sent fax, in order', async () => {
      // A fresh, empty database of the engine; the platform opens its own connections to it.
      const db = await engine.open();
      const receiver = await startTestReceiver();
      const line: FaxLine = {
        async send(_call, pages, progress) {
          await progress.sendingStarted({});
          let n = 0;
          for await (const _ of pages) await progress.pageSent(++n);
          return { status: 'delivered', pagesSent: n };
        },
      };
      const config = { ...loadConfig({ FAXWIRE_DATA_DIR: dataDir }), database: db.config };
      const platform = await startPlatform(config, {
        listen: false,
        logger: pino({ level: 'silent' }),
        line,
        inspector: new StubDocumentInspector(),
        webhookPolicy: new OutboundAddressPolicy(['127.0.0.0/8']),
      });
      try {
        const account = await firstAccountOf(platform);
        const endpointId = await account.createWebhook({ url: receiver.url });
        const test = await platform.app.inject({
          method: 'POST',
          url: `/v1/webhooks/${endpointId}/test`,
          headers: account.headers,
        });
        assert.equal(test.statusCode, 202);
        await account.queueFax(2);
        const types = () =>
          receiver.received.map((r) => JSON.parse(r.body) as { type: string; data: { sequence?: number } });
        for (let i = 0; i < 500 && !types().some((e) => e.type === 'fax.delivered'); i++) await sleep(20);
        const got = types();
        // Order is promised per fax; the test event is no fax's, so it may arrive before or after them.
        assert.equal(got.filter((e) => e.type === 'webhook.test').length, 1);
        const faxEvents = got.filter((e) => e.type.startsWith('fax.'));
        assert.deepEqual(
          faxEvents.map((e) => e.data.sequence),
          faxEvents.map((_, i) => i + 1),
        );
        assert.equal(faxEvents[0]!.type, 'fax.queued');
        assert.equal(faxEvents.at(-1)!.type, 'fax.delivered');
        assert.equal(faxEvents.filter((e) => e.type === 'fax.page.sent').length, 2);
      } finally {
        await platform.close();
        await receiver.close();
        await db.dispose();
      }
    });
  });
}
