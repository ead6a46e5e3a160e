/**
 * @module webhooks/webhook-event-types
 * The event types an endpoint can subscribe to: every stored fax event (events/fax-event; the
 * transient `fax.page.progress` is for live streams only, never a webhook), plus the two the webhook
 * service sends itself — a test event, and the notice that an endpoint was disabled.
 */
import { STORED_FAX_EVENT_TYPES } from '../events/fax-event.ts';

export const WEBHOOK_TEST_EVENT = 'webhook.test';
export const ENDPOINT_DISABLED_EVENT = 'webhook.endpoint.disabled';

export const WEBHOOK_EVENT_TYPES: readonly string[] = [
  ...STORED_FAX_EVENT_TYPES,
  WEBHOOK_TEST_EVENT,
  ENDPOINT_DISABLED_EVENT,
];

export function isWebhookEventType(type: string): boolean {
  return WEBHOOK_EVENT_TYPES.includes(type);
}

/** Whether an endpoint subscribed to `subscribed` (empty: everything) wants `type`. */
export function wantsEventType(subscribed: readonly string[], type: string): boolean {
  return subscribed.length === 0 || subscribed.includes(type);
}
