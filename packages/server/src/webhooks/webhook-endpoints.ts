/**
 * @module webhooks/webhook-endpoints
 * An account's webhook endpoints in the store: create (with a new `whsec_` secret, or a `whsk_` Ed25519
 * signing key), change, delete, rotate the secret (the old one keeps signing during the overlap), and
 * the deliveries made outside the event flow — a manual redelivery (same event, same `webhook-id`) and
 * a test event.
 */
import { ApiError } from '../api/errors.ts';
import type { Database } from '../store/database.ts';
import { accountEndpointPresence } from './account-endpoint-presence.ts';
import { newDeliveryRow } from './fan-out-fax-events.ts';
import { WEBHOOK_TEST_EVENT } from './webhook-event-types.ts';
import { newWebhookId } from './webhook-ids.ts';
import type { WebhookEnvelope } from './webhook-payload.ts';
import { generateWebhookKey, type WebhookSigning, webhookSigningOf } from './webhook-signature.ts';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from './webhook-tables.ts';

export const DEFAULT_ROTATION_OVERLAP_MS = 24 * 3_600_000;

export interface EndpointInput {
  readonly url: string;
  readonly description?: string | null;
  readonly eventTypes?: readonly string[];
  readonly numbers?: readonly string[];
  readonly enabled?: boolean;
  /** How deliveries are signed; fixed at creation, default HMAC-SHA256 (`whsec_`). */
  readonly signing?: WebhookSigning;
}

export async function createWebhookEndpoint(
  database: Database,
  accountId: string,
  input: EndpointInput,
  now: number,
): Promise<WebhookEndpointsTable> {
  const row: WebhookEndpointsTable = {
    id: newWebhookId('whk'),
    account_id: accountId,
    url: input.url,
    description: input.description ?? null,
    event_types_json: JSON.stringify([...new Set(input.eventTypes ?? [])]),
    numbers_json: JSON.stringify([...new Set(input.numbers ?? [])]),
    secret: generateWebhookKey(input.signing ?? 'hmac-sha256'),
    previous_secret: null,
    previous_secret_until: null,
    enabled: input.enabled === false ? 0 : 1,
    disabled_reason: input.enabled === false ? 'manual' : null,
    failing_since: null,
    created_at: now,
    updated_at: now,
  };
  await database.db.insertInto('webhook_endpoints').values(row).execute();
  accountEndpointPresence(database).invalidate(accountId);
  return row;
}

export async function loadWebhookEndpoint(
  database: Database,
  accountId: string,
  id: string,
): Promise<WebhookEndpointsTable> {
  const row = await database.db
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!row) throw new ApiError('not_found', 'No webhook endpoint with this id.', { id });
  return row;
}

export async function updateWebhookEndpoint(
  database: Database,
  accountId: string,
  id: string,
  changes: Partial<EndpointInput>,
  now: number,
): Promise<WebhookEndpointsTable> {
  const current = await loadWebhookEndpoint(database, accountId, id);
  const set: Partial<WebhookEndpointsTable> = { updated_at: now };
  if (changes.url !== undefined) set.url = changes.url;
  if (changes.description !== undefined) set.description = changes.description;
  if (changes.eventTypes !== undefined)
    set.event_types_json = JSON.stringify([...new Set(changes.eventTypes)]);
  if (changes.numbers !== undefined) set.numbers_json = JSON.stringify([...new Set(changes.numbers)]);
  if (changes.enabled === true && current.enabled === 0) {
    Object.assign(set, { enabled: 1, disabled_reason: null, failing_since: null });
  } else if (changes.enabled === false && current.enabled === 1) {
    Object.assign(set, { enabled: 0, disabled_reason: 'manual' });
  }
  await database.db.updateTable('webhook_endpoints').set(set).where('id', '=', current.id).execute();
  accountEndpointPresence(database).invalidate(accountId);
  return { ...current, ...set };
}

export async function deleteWebhookEndpoint(
  database: Database,
  accountId: string,
  id: string,
): Promise<void> {
  const endpoint = await loadWebhookEndpoint(database, accountId, id);
  await database.writeTransaction(async (trx) => {
    // Attempts go with their deliveries (ON DELETE CASCADE), deliveries with the endpoint.
    await trx.deleteFrom('webhook_endpoints').where('id', '=', endpoint.id).execute();
  });
  accountEndpointPresence(database).invalidate(accountId);
}

export async function rotateWebhookSecret(
  database: Database,
  accountId: string,
  id: string,
  overlapMs: number,
  now: number,
): Promise<WebhookEndpointsTable> {
  const endpoint = await loadWebhookEndpoint(database, accountId, id);
  const set = {
    // The new key signs the same way as the old one.
    secret: generateWebhookKey(webhookSigningOf(endpoint.secret)),
    previous_secret: overlapMs > 0 ? endpoint.secret : null,
    previous_secret_until: overlapMs > 0 ? now + overlapMs : null,
    updated_at: now,
  };
  await database.db.updateTable('webhook_endpoints').set(set).where('id', '=', endpoint.id).execute();
  return { ...endpoint, ...set };
}

/** Sends an earlier delivery's event again, outside the fax order, as a new delivery. */
export async function redeliverWebhook(
  database: Database,
  accountId: string,
  endpointId: string,
  deliveryId: string,
  now: number,
): Promise<WebhookDeliveriesTable> {
  const endpoint = await loadWebhookEndpoint(database, accountId, endpointId);
  if (endpoint.enabled !== 1) throw new ApiError('webhook_disabled', undefined, { id: endpoint.id });
  const original = await database.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('id', '=', deliveryId)
    .where('endpoint_id', '=', endpoint.id)
    .executeTakeFirst();
  if (!original)
    throw new ApiError('not_found', 'No delivery with this id for this endpoint.', { deliveryId });
  const row = newDeliveryRow(
    endpoint.id,
    { id: original.event_id, type: original.event_type, faxId: original.fax_id, sequence: original.sequence },
    original.body,
    now,
    false,
  );
  await database.db.insertInto('webhook_deliveries').values(row).execute();
  return row;
}

/** Queues a `webhook.test` event for the endpoint, whatever event types it subscribed to. */
export async function sendTestWebhook(
  database: Database,
  accountId: string,
  endpointId: string,
  now: number,
): Promise<WebhookDeliveriesTable> {
  const endpoint = await loadWebhookEndpoint(database, accountId, endpointId);
  if (endpoint.enabled !== 1) throw new ApiError('webhook_disabled', undefined, { id: endpoint.id });
  const envelope: WebhookEnvelope = {
    id: newWebhookId('evt'),
    type: WEBHOOK_TEST_EVENT,
    timestamp: new Date(now).toISOString(),
    data: { endpointId: endpoint.id, message: 'A test event from Faxwire.' },
  };
  const row = newDeliveryRow(
    endpoint.id,
    { id: envelope.id, type: envelope.type, faxId: null, sequence: null },
    JSON.stringify(envelope),
    now,
    false,
  );
  await database.db.insertInto('webhook_deliveries').values(row).execute();
  return row;
}
