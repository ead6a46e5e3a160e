/**
 * @module domain/fax-status
 * The fax lifecycle. Outbound: queued → processing (documents rendered) → sending (on the line) →
 * delivered | failed | canceled; a retryable failure goes back to queued until the retries run out.
 * Inbound: receiving → received | failed. Every status change in the platform goes through
 * `assertTransition`, so no code path can invent a jump the table does not allow.
 */

export const OUTBOUND_STATUSES = [
  'queued',
  'processing',
  'sending',
  'delivered',
  'failed',
  'canceled',
] as const;
export const INBOUND_STATUSES = ['receiving', 'received', 'failed'] as const;
export const FAX_STATUSES = [
  'queued',
  'processing',
  'sending',
  'delivered',
  'receiving',
  'received',
  'failed',
  'canceled',
] as const;

export type FaxStatus = (typeof FAX_STATUSES)[number];
export type FaxDirection = 'outbound' | 'inbound';

const TRANSITIONS: Readonly<
  Record<FaxDirection, Readonly<Partial<Record<FaxStatus, readonly FaxStatus[]>>>>
> = {
  outbound: {
    queued: ['processing', 'failed', 'canceled'],
    processing: ['sending', 'queued', 'failed', 'canceled'],
    sending: ['delivered', 'queued', 'failed', 'canceled'],
  },
  inbound: {
    receiving: ['received', 'failed'],
  },
};

export const TERMINAL_STATUSES: ReadonlySet<FaxStatus> = new Set([
  'delivered',
  'received',
  'failed',
  'canceled',
]);

/** Cancelable while nothing irreversible happened on a line: a fax being sent is hung up by its line. */
export const CANCELABLE_STATUSES: ReadonlySet<FaxStatus> = new Set(['queued', 'processing', 'sending']);

export class InvalidTransitionError extends Error {
  readonly faxId: string;
  readonly from: FaxStatus;
  readonly to: FaxStatus;
  constructor(faxId: string, from: FaxStatus, to: FaxStatus) {
    super(`fax ${faxId}: no transition from ${from} to ${to}`);
    this.name = 'InvalidTransitionError';
    this.faxId = faxId;
    this.from = from;
    this.to = to;
  }
}

export function canTransition(direction: FaxDirection, from: FaxStatus, to: FaxStatus): boolean {
  return TRANSITIONS[direction][from]?.includes(to) ?? false;
}

export function assertTransition(
  faxId: string,
  direction: FaxDirection,
  from: FaxStatus,
  to: FaxStatus,
): void {
  if (!canTransition(direction, from, to)) throw new InvalidTransitionError(faxId, from, to);
}

export function isTerminal(status: FaxStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
