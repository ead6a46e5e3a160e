/**
 * @module webhooks/webhook-ids
 * Ids of webhook records, time-ordered like every other id (store/new-id), so the delivery log pages
 * newest first by id. Events the webhook service makes itself (test, endpoint disabled) are `evt_…`.
 */
import { type IdKind, newId } from '../store/new-id.ts';

export type WebhookIdKind = 'whk' | 'dlv' | 'att' | 'evt';

export function newWebhookId(kind: WebhookIdKind): string {
  // The store's IdKind names the kinds other modules use; the prefix is all newId does with it.
  return newId(kind as IdKind);
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

/** The smallest `evt_…` id that newId could give at `ms`: a floor for scanning events by time. */
export function eventIdFloor(ms: number): string {
  let time = '';
  let t = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `evt_${time}`;
}
