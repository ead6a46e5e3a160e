import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nextRetryDelayMs, parseRetryAfter, WEBHOOK_MAX_ATTEMPTS } from './retry-schedule.ts';

test('the schedule: at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, then give up', () => {
  const mid = () => 0.5; // no jitter
  const delays = [];
  for (let n = 1; n < WEBHOOK_MAX_ATTEMPTS; n++)
    delays.push(nextRetryDelayMs({ failedAttempts: n, random: mid }));
  assert.deepEqual(delays, [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  assert.equal(nextRetryDelayMs({ failedAttempts: WEBHOOK_MAX_ATTEMPTS, random: mid }), null);
});

test('jitter stays within ±20 %', () => {
  assert.equal(nextRetryDelayMs({ failedAttempts: 2, random: () => 0 }), 240_000);
  assert.equal(nextRetryDelayMs({ failedAttempts: 2, random: () => 1 }), 360_000);
});

test('Retry-After is honoured, and a slow receiver waits at least a minute', () => {
  assert.equal(nextRetryDelayMs({ failedAttempts: 1, random: () => 0.5, retryAfterMs: 120_000 }), 120_000);
  assert.equal(nextRetryDelayMs({ failedAttempts: 1, random: () => 0.5, retryAfterMs: 1_000 }), 5_000);
  assert.equal(nextRetryDelayMs({ failedAttempts: 1, random: () => 0.5, slowDown: true }), 60_000);
  assert.equal(
    nextRetryDelayMs({ failedAttempts: 1, random: () => 0.5, retryAfterMs: 10 * 86_400_000 }),
    86_400_000,
  );
});

test('Retry-After parses seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('30'), 30_000);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:01:00 GMT', now), 60_000);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});
