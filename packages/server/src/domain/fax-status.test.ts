/**
 * @module domain/fax-status.test
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FAILURE_CODES, faxFailure, isFailureCode } from './failure-taxonomy.ts';
import {
  assertTransition,
  canTransition,
  FAX_STATUSES,
  InvalidTransitionError,
  isTerminal,
} from './fax-status.ts';

describe('fax lifecycle', () => {
  it('allows the outbound path and its exits', () => {
    for (const [from, to] of [
      ['queued', 'processing'],
      ['processing', 'sending'],
      ['sending', 'delivered'],
      ['sending', 'failed'],
      ['sending', 'queued'],
      ['queued', 'canceled'],
      ['processing', 'canceled'],
    ] as const) {
      assert.ok(canTransition('outbound', from, to), `${from} → ${to}`);
    }
  });

  it('refuses jumps, leaving a terminal status, and crossing directions', () => {
    for (const [direction, from, to] of [
      ['outbound', 'queued', 'delivered'],
      ['outbound', 'delivered', 'queued'],
      ['outbound', 'canceled', 'queued'],
      ['outbound', 'failed', 'queued'],
      ['outbound', 'queued', 'receiving'],
      ['inbound', 'receiving', 'delivered'],
      ['inbound', 'received', 'failed'],
    ] as const) {
      assert.equal(canTransition(direction, from, to), false, `${direction} ${from} → ${to}`);
    }
    assert.throws(() => assertTransition('fax_1', 'outbound', 'delivered', 'failed'), InvalidTransitionError);
    assert.ok(canTransition('inbound', 'receiving', 'received'));
  });

  it('gives every terminal status no way out', () => {
    for (const from of FAX_STATUSES.filter(isTerminal)) {
      for (const to of FAX_STATUSES) {
        assert.equal(canTransition('outbound', from, to) || canTransition('inbound', from, to), false);
      }
    }
  });
});

describe('failure taxonomy', () => {
  it('marks line conditions retryable and hopeless ones not', () => {
    assert.deepEqual(
      [
        'busy',
        'no_answer',
        'call_dropped',
        'invalid_number',
        'invalid_document',
        'fax_not_detected',
        't38_not_supported',
      ].map((c) => faxFailure(c as never).retryable),
      [true, true, true, false, false, false, false],
    );
    assert.ok(FAILURE_CODES.every((c) => faxFailure(c).message.length > 0));
    assert.equal(isFailureCode('busy'), true);
    assert.equal(isFailureCode('toString'), false);
    assert.equal(faxFailure('busy', 'Busy after 3 rings').message, 'Busy after 3 rings');
  });
});
