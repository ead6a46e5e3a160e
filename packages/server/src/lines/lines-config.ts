/**
 * @module lines/lines-config
 * The lines' part of the configuration: whether this process runs lines at all, the loopback carrier (pacing,
 * SIP port, test numbers) and the SIP trunks. Read by config/config.ts with the rest of the environment.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_TEST_NUMBERS_FIRST, TEST_NUMBER_BEHAVIOURS } from './test-numbers.ts';
import { parseTrunks, type TrunkConfig } from './trunk-config.ts';

export interface LinesConfig {
  /** Run lines in this process (FAXWIRE_LINES=off for an API-only node of a scale-out deployment). */
  readonly enabled: boolean;
  readonly loopback: {
    readonly enabled: boolean;
    /** 'realtime' paces T.38 like a real modem line; 'none' sends unpaced (tests, benchmarks). */
    readonly pacing: 'realtime' | 'none';
    /** SIP port of the loopback exchange on 127.0.0.1; 0 picks a free one. */
    readonly sipPort: number;
    /** First number of the test-number block, or null for none. */
    readonly testNumbersFirst: string | null;
    /** How long a test number that never answers (or never switches to fax) keeps the caller waiting. */
    readonly testNumberTimeoutMs: number;
  };
  readonly trunks: readonly TrunkConfig[];
}

const E164 = /^\+[1-9][0-9]{6,14}$/;

/** Test numbers sit at the top of the range (the lowest numbers are what accounts claim first). */
function defaultTestBlock(range: { first: string; last: string }): string | null {
  const first = BigInt(range.first.slice(1));
  const last = BigInt(range.last.slice(1));
  if (last - first + 1n < 20n) return null;
  const block = `+${last - 9n}`;
  return range.first === '+14155550100' && range.last === '+14155550199' ? DEFAULT_TEST_NUMBERS_FIRST : block;
}

export function parseLinesConfig(
  env: Record<string, string | undefined>,
  range: { readonly first: string; readonly last: string },
  problems: string[],
): LinesConfig {
  const onOff = (name: string): boolean => {
    const raw = (env[name] ?? 'on').trim().toLowerCase();
    if (raw === 'on' || raw === 'true' || raw === '1') return true;
    if (raw === 'off' || raw === 'false' || raw === '0') return false;
    problems.push(`${name} must be on or off, got "${env[name]}"`);
    return true;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!/^[0-9]+$/.test(raw.trim()) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const pacingRaw = (env.FAXWIRE_LOOPBACK_PACING ?? 'realtime').trim().toLowerCase();
  let pacing: 'realtime' | 'none' = 'realtime';
  if (pacingRaw === 'none') pacing = 'none';
  else if (pacingRaw !== 'realtime' && pacingRaw !== '') {
    problems.push(`FAXWIRE_LOOPBACK_PACING must be realtime or none, got "${env.FAXWIRE_LOOPBACK_PACING}"`);
  }

  let testNumbersFirst = defaultTestBlock(range);
  const rawTest = env.FAXWIRE_LOOPBACK_TEST_NUMBERS?.trim();
  if (rawTest) {
    if (rawTest.toLowerCase() === 'none') testNumbersFirst = null;
    else if (!E164.test(rawTest)) {
      problems.push(`FAXWIRE_LOOPBACK_TEST_NUMBERS must be an E.164 number or "none", got "${rawTest}"`);
    } else testNumbersFirst = rawTest;
  }
  if (testNumbersFirst !== null) {
    const lastTest = BigInt(testNumbersFirst.slice(1)) + BigInt(TEST_NUMBER_BEHAVIOURS.length - 1);
    if (`+${lastTest}`.length !== testNumbersFirst.length) {
      problems.push('FAXWIRE_LOOPBACK_TEST_NUMBERS: the block must not change the number of digits');
    }
  }

  let trunks: TrunkConfig[] = [];
  if (env.FAXWIRE_TRUNKS && env.FAXWIRE_TRUNKS_FILE) {
    problems.push('set FAXWIRE_TRUNKS or FAXWIRE_TRUNKS_FILE, not both');
  } else if (env.FAXWIRE_TRUNKS) {
    trunks = parseTrunks(env.FAXWIRE_TRUNKS, problems);
  } else if (env.FAXWIRE_TRUNKS_FILE) {
    let text: string | null = null;
    try {
      text = readFileSync(env.FAXWIRE_TRUNKS_FILE, 'utf8');
    } catch (error) {
      problems.push(`FAXWIRE_TRUNKS_FILE cannot be read: ${(error as NodeJS.ErrnoException).code ?? error}`);
    }
    if (text !== null) trunks = parseTrunks(text, problems, 'FAXWIRE_TRUNKS_FILE');
  }

  return Object.freeze({
    enabled: onOff('FAXWIRE_LINES'),
    loopback: Object.freeze({
      enabled: onOff('FAXWIRE_LOOPBACK'),
      pacing,
      sipPort: int('FAXWIRE_LOOPBACK_SIP_PORT', 0, 0, 65535),
      testNumbersFirst,
      testNumberTimeoutMs: int('FAXWIRE_LOOPBACK_TEST_TIMEOUT_MS', 15_000, 100, 600_000),
    }),
    trunks: Object.freeze(trunks),
  });
}
