/**
 * @module cli/test-platform-account
 * The account a platform started by `startPlatform` creates on its first start, as tests drive it
 * through the API: its key (from the initial key file), its numbers, and the requests platform tests
 * repeat. Several platforms on one database share it; `on` names the one a request goes to.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tinyPdf } from '../api/test-app.ts';
import type { Platform } from './start-command.ts';

export interface TestPlatformAccount {
  readonly headers: { readonly authorization: string };
  /** The account's numbers, E.164. */
  readonly numbers: readonly string[];
  /** Creates a webhook endpoint (201 expected); returns its id. */
  createWebhook(payload: { url: string; eventTypes?: string[] }, on?: Platform): Promise<string>;
  /** Queues a fax of an empty `pages`-page PDF from the first number (202 expected); returns its id. */
  queueFax(pages?: number, on?: Platform): Promise<string>;
}

export async function firstAccountOf(platform: Platform): Promise<TestPlatformAccount> {
  assert.ok(platform.initialKeyPath, 'the platform created its first key on this start');
  const headers = { authorization: `Bearer ${readFileSync(platform.initialKeyPath, 'utf8').trim()}` };
  const listed = await platform.app.inject({ method: 'GET', url: '/v1/numbers', headers });
  assert.equal(listed.statusCode, 200, listed.body);
  const numbers = (listed.json().data as { number: string }[]).map((n) => n.number);
  return {
    headers,
    numbers,
    async createWebhook(payload, on = platform) {
      const res = await on.app.inject({ method: 'POST', url: '/v1/webhooks', headers, payload });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    },
    async queueFax(pages = 1, on = platform) {
      const res = await on.app.inject({
        method: 'POST',
        url: '/v1/faxes',
        headers,
        payload: {
          to: '+14155550177',
          from: numbers[0],
          documents: [{ content: tinyPdf(pages).toString('base64') }],
        },
      });
      assert.equal(res.statusCode, 202, res.body);
      return res.json().id as string;
    },
  };
}
