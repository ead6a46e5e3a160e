/**
 * @module webhooks/record-webhook-attempt
 * Writes what one attempt came to, in one transaction, by the dispatcher that still holds the lease:
 * the attempt in the log; the delivery delivered, rescheduled on the retry schedule (Retry-After and
 * slow-down included) or failed once the schedule is spent; and the endpoint's health. A 410 Gone
 * disables the endpoint at once; so does failing without a single success for `disableAfterMs`
 * (5 days). Disabling keeps the endpoint's pending deliveries — re-enabling it resumes them — and
 * sends `webhook.endpoint.disabled` to the account's other endpoints that want it.
 */
import { sql } from 'kysely';
import type { Database, Db } from '../store/database.ts';
import type { ClaimedDelivery } from './claim-webhook-deliveries.ts';
import { newDeliveryRow } from './fan-out-fax-events.ts';
import type { WebhookAttempt } from './post-webhook.ts';
import { nextRetryDelayMs } from './retry-schedule.ts';
import { ENDPOINT_DISABLED_EVENT, wantsEventType } from './webhook-event-types.ts';
import { newWebhookId } from './webhook-ids.ts';
import type { WebhookEnvelope } from './webhook-payload.ts';

export const DISABLE_AFTER_MS = 5 * 86_400_000;
const STORED_ERROR_CHARS = 1_000;

export type AttemptResult = 'delivered' | 'retrying' | 'failed' | 'lease_lost';

export interface RecordAttemptOptions {
  readonly workerId: string;
  /** The delivery clock (scheduling, endpoint health). */
  readonly now: number;
  /** When the attempt started, on the delivery clock. */
  readonly startedAt: number;
  readonly random?: () => number;
  readonly disableAfterMs?: number;
  /** Told when an endpoint gets disabled, e.g. to log it. */
  readonly onDisabled?: (endpointId: string, reason: 'gone' | 'failing') => void;
}

export async function recordWebhookAttempt(
  database: Database,
  claimed: ClaimedDelivery,
  attempt: WebhookAttempt,
  options: RecordAttemptOptions,
): Promise<AttemptResult> {
  return database.writeTransaction((trx) => recordWebhookAttemptIn(trx, claimed, attempt, options));
}

/** The same, inside the caller's write transaction; `onDisabled` is called before it commits. */
export async function recordWebhookAttemptIn(
  trx: Db,
  claimed: ClaimedDelivery,
  attempt: WebhookAttempt,
  options: RecordAttemptOptions,
): Promise<AttemptResult> {
  const { delivery, endpoint } = claimed;
  const { now } = options;
  const ok = attempt.outcome === 'delivered';
  let retryAt: number | null = null;
  if (!ok) {
    const delay = nextRetryDelayMs({
      failedAttempts: delivery.attempts,
      retryAfterMs: attempt.retryAfterMs,
      slowDown: attempt.outcome === 'timeout' || attempt.status === 429,
      random: options.random,
    });
    retryAt = delay === null ? null : now + delay;
  }
  const error =
    attempt.error ?? (ok ? null : attempt.status !== undefined ? `HTTP ${attempt.status}` : attempt.outcome);

  let disabled: 'gone' | 'failing' | null = null;
  const result = await (async (): Promise<AttemptResult> => {
    const update = trx
      .updateTable('webhook_deliveries')
      .where('id', '=', delivery.id)
      .where('locked_by', '=', options.workerId);
    const base = {
      locked_by: null,
      locked_until: null,
      last_status: attempt.status ?? null,
      last_error: error === null ? null : error.slice(0, STORED_ERROR_CHARS),
      updated_at: now,
    };
    const updated = ok
      ? await update.set({ ...base, state: 'delivered', delivered_at: now }).executeTakeFirst()
      : retryAt === null
        ? await update.set({ ...base, state: 'failed' }).executeTakeFirst()
        : await update.set({ ...base, next_attempt_at: retryAt }).executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return 'lease_lost';

    await trx
      .insertInto('webhook_attempts')
      .values({
        id: newWebhookId('att'),
        delivery_id: delivery.id,
        attempt: delivery.attempts,
        started_at: options.startedAt,
        duration_ms: attempt.durationMs,
        outcome: attempt.outcome,
        status: attempt.status ?? null,
        response_body: attempt.responseBody ?? null,
        error: error === null ? null : error.slice(0, STORED_ERROR_CHARS),
      })
      .execute();

    if (ok) {
      await trx
        .updateTable('webhook_endpoints')
        .set({ failing_since: null })
        .where('id', '=', endpoint.id)
        .where('failing_since', 'is not', null)
        .execute();
      return 'delivered';
    }
    const health = await trx
      .selectFrom('webhook_endpoints')
      .select(['enabled', 'failing_since', 'url'])
      .where('id', '=', endpoint.id)
      .executeTakeFirst();
    if (health && health.enabled === 1) {
      const failingSince = health.failing_since ?? options.startedAt;
      if (attempt.outcome === 'gone') disabled = 'gone';
      else if (now - failingSince >= (options.disableAfterMs ?? DISABLE_AFTER_MS)) disabled = 'failing';
      await trx
        .updateTable('webhook_endpoints')
        .set(
          disabled
            ? { failing_since: failingSince, enabled: 0, disabled_reason: disabled, updated_at: now }
            : { failing_since: failingSince },
        )
        .where('id', '=', endpoint.id)
        .execute();
      if (disabled) {
        await announceDisabled(trx, endpoint.account_id, endpoint.id, {
          url: health.url,
          reason: disabled,
          failingSince,
          now,
        });
      }
    }
    return retryAt === null ? 'failed' : 'retrying';
  })();
  if (disabled && result !== 'lease_lost') options.onDisabled?.(endpoint.id, disabled);
  return result;
}

export interface AttemptToRecord {
  readonly claimed: ClaimedDelivery;
  readonly attempt: WebhookAttempt;
  readonly options: RecordAttemptOptions;
}

/** Rows per statement when successes are recorded together. */
const DELIVERED_CHUNK = 200;

/**
 * Records attempts in the caller's transaction, in order, with the effects of one
 * `recordWebhookAttemptIn` each; consecutive successes (most attempts, to healthy endpoints) go
 * together, three statements for the lot instead of three each. @returns one result per attempt.
 */
export async function recordWebhookAttemptsIn(
  trx: Db,
  items: readonly AttemptToRecord[],
): Promise<AttemptResult[]> {
  const results: AttemptResult[] = [];
  let run: AttemptToRecord[] = [];
  const flush = async () => {
    for (let i = 0; i < run.length; i += DELIVERED_CHUNK) {
      results.push(...(await recordDeliveredIn(trx, run.slice(i, i + DELIVERED_CHUNK))));
    }
    run = [];
  };
  for (const item of items) {
    if (item.attempt.outcome === 'delivered' && item.attempt.error === undefined) {
      run.push(item);
      continue;
    }
    await flush();
    results.push(await recordWebhookAttemptIn(trx, item.claimed, item.attempt, item.options));
  }
  await flush();
  return results;
}

/** Successes, together: deliveries delivered (where the lease is still ours), attempts logged, endpoints healthy. */
async function recordDeliveredIn(trx: Db, items: readonly AttemptToRecord[]): Promise<AttemptResult[]> {
  if (items.length === 0) return [];
  const values = sql.join(
    items.map(
      ({ claimed, attempt, options }) =>
        sql`(${claimed.delivery.id}, ${options.workerId}, cast(${attempt.status ?? null} as integer), cast(${options.now} as bigint))`,
    ),
  );
  const { rows } = await sql<{ id: string }>`with v(id, worker, status, at) as (values ${values})
    update webhook_deliveries
    set state = 'delivered', locked_by = null, locked_until = null, last_status = v.status,
      last_error = null, updated_at = v.at, delivered_at = v.at
    from v
    where webhook_deliveries.id = v.id and webhook_deliveries.locked_by = v.worker
    returning webhook_deliveries.id`.execute(trx);
  const updated = new Set(rows.map((r) => r.id));
  const recorded = items.filter((it) => updated.has(it.claimed.delivery.id));
  if (recorded.length > 0) {
    await trx
      .insertInto('webhook_attempts')
      .values(
        recorded.map(({ claimed, attempt, options }) => ({
          id: newWebhookId('att'),
          delivery_id: claimed.delivery.id,
          attempt: claimed.delivery.attempts,
          started_at: options.startedAt,
          duration_ms: attempt.durationMs,
          outcome: attempt.outcome,
          status: attempt.status ?? null,
          response_body: attempt.responseBody ?? null,
          error: null,
        })),
      )
      .execute();
    await trx
      .updateTable('webhook_endpoints')
      .set({ failing_since: null })
      .where('id', 'in', [...new Set(recorded.map((it) => it.claimed.endpoint.id))])
      .where('failing_since', 'is not', null)
      .execute();
  }
  return items.map((it) => (updated.has(it.claimed.delivery.id) ? 'delivered' : 'lease_lost'));
}

async function announceDisabled(
  trx: Db,
  accountId: string,
  endpointId: string,
  facts: { url: string; reason: 'gone' | 'failing'; failingSince: number; now: number },
): Promise<void> {
  const others = await trx
    .selectFrom('webhook_endpoints')
    .select(['id', 'event_types_json'])
    .where('account_id', '=', accountId)
    .where('enabled', '=', 1)
    .where('id', '!=', endpointId)
    .execute();
  const listening = others.filter((o) =>
    wantsEventType(JSON.parse(o.event_types_json), ENDPOINT_DISABLED_EVENT),
  );
  if (listening.length === 0) return;
  const envelope: WebhookEnvelope = {
    id: newWebhookId('evt'),
    type: ENDPOINT_DISABLED_EVENT,
    timestamp: new Date(facts.now).toISOString(),
    data: {
      endpointId,
      url: facts.url,
      reason: facts.reason,
      failingSince: new Date(facts.failingSince).toISOString(),
    },
  };
  const body = JSON.stringify(envelope);
  await trx
    .insertInto('webhook_deliveries')
    .values(
      listening.map((o) =>
        newDeliveryRow(
          o.id,
          { id: envelope.id, type: envelope.type, faxId: null, sequence: null },
          body,
          facts.now,
          false,
        ),
      ),
    )
    .execute();
}
