/**
 * @module lines/test-numbers
 * Numbers of the loopback carrier that always end a fax the same way, so an integration can exercise every
 * failure path without a real fax machine. They are a block of consecutive numbers at the top of the loopback
 * range (by default +14155550190…+14155550197); `docs/test-numbers.md` is the user-facing list.
 */

export type TestNumberBehaviour =
  /** A fax machine that takes every page. */
  | 'accept'
  /** 486 Busy Here. */
  | 'busy'
  /** Rings (180) and never answers; the caller gives up after its no-answer timeout. */
  | 'no_answer'
  /** Answers in audio and never switches to T.38: a person, not a fax machine. */
  | 'voice'
  /** Answers in audio and refuses the T.38 re-INVITE with 488 (a gateway without T.38). */
  | 't38_refused'
  /** A fax machine that hangs up (BYE) right after confirming page 2. */
  | 'hangup_after_page_2'
  /** A fax machine that finds every page unreadable: RTN to each (T.30 §5.3.6.1.7), without ECM. */
  | 'page_rejected'
  /** A fax machine with V.27 ter only: the fax goes at 4800 bit/s. */
  | 'slow_line';

/** In number order from the block's first number. */
export const TEST_NUMBER_BEHAVIOURS: readonly TestNumberBehaviour[] = [
  'accept',
  'busy',
  'no_answer',
  'voice',
  't38_refused',
  'hangup_after_page_2',
  'page_rejected',
  'slow_line',
];

/** The block's first number by default: 10 below the top of the default loopback range. */
export const DEFAULT_TEST_NUMBERS_FIRST = '+14155550190';

/** The test numbers of a block starting at `first` (E.164), by number. */
export function testNumbersFrom(first: string): ReadonlyMap<string, TestNumberBehaviour> {
  const base = BigInt(first.slice(1));
  return new Map(TEST_NUMBER_BEHAVIOURS.map((b, i) => [`+${base + BigInt(i)}`, b]));
}
