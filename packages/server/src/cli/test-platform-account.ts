/**
 * @module cli/test-platform-account
 * The account a platform started by `startPlatform` creates on its first start, as tests drive it
 * through the API: its key (from the initial key file), its numbers, and the requests platform tests
 * repeat. Several platforms on one database share it; `on` names the one a request goes to.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import type { CreateFaxBody } from '../api/schemas.ts';
import { tinyPdf } from '../api/test-app.ts';
import type { Platform } from './start-command.ts';

/** A `POST /v1/faxes` body whose `from` defaults to the account's first number. */
export type TestFaxBody = Omit<CreateFaxBody, 'from'> & { readonly from?: string };

export interface TestPlatformAccount {
  readonly headers: { readonly authorization: string };
  /** The account's numbers, E.164. */
  readonly numbers: readonly string[];
  /** `GET url` with the account's key. */
  get(url: string, on?: Platform): Promise<LightMyRequestResponse>;
  /** Creates a webhook endpoint (201 expected); returns its id. */
  createWebhook(payload: { url: string; eventTypes?: string[] }, on?: Platform): Promise<string>;
  /** Queues a fax of an empty `pages`-page PDF from the first number (202 expected); returns its id. */
  queueFax(pages?: number, on?: Platform): Promise<string>;
  /** Queues the fax `body` describes (202 expected); returns its id. */
  sendFax(body: TestFaxBody, on?: Platform): Promise<string>;
}

export async function firstAccountOf(platform: Platform): Promise<TestPlatformAccount> {
  assert.ok(platform.initialKeyPath, 'the platform created its first key on this start');
  const headers = { authorization: `Bearer ${readFileSync(platform.initialKeyPath, 'utf8').trim()}` };
  const listed = await platform.app.inject({ method: 'GET', url: '/v1/numbers', headers });
  assert.equal(listed.statusCode, 200, listed.body);
  const numbers = (listed.json().data as { number: string }[]).map((n) => n.number);
  const account: TestPlatformAccount = {
    headers,
    numbers,
    get: (url, on = platform) => on.app.inject({ method: 'GET', url, headers }),
    async createWebhook(payload, on = platform) {
      const res = await on.app.inject({ method: 'POST', url: '/v1/webhooks', headers, payload });
      assert.equal(res.statusCode, 201, res.body);
      return res.json().id as string;
    },
    queueFax: (pages = 1, on = platform) =>
      account.sendFax(
        { to: '+14155550177', documents: [{ content: tinyPdf(pages).toString('base64') }] },
        on,
      ),
    async sendFax(body, on = platform) {
      const payload = { from: numbers[0], ...body };
      const res = await on.app.inject({ method: 'POST', url: '/v1/faxes', headers, payload });
      assert.equal(res.statusCode, 202, res.body);
      return res.json().id as string;
    },
  };
  return account;
}
