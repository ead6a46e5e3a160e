/**
 * @module domain/claim-loopback-number.test
 * Claiming numbers until the range runs out never hands out one of the loopback carrier's test numbers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError } from '../api/errors.ts';
import { loadConfig } from '../config/config.ts';
import { testNumbersFrom } from '../lines/test-numbers.ts';
import { TEST_ENGINES, type TestDatabase } from '../store/test-databases.ts';
import { createAccount } from './accounts.ts';
import { claimableLoopbackRange, claimLoopbackNumber } from './claim-loopback-number.ts';

for (const engine of TEST_ENGINES) {
  describe(`claiming loopback numbers (${engine.name})`, { skip: engine.skip }, () => {
    let t: TestDatabase;
    before(async () => {
      t = await engine.open();
    });
    after(() => t?.dispose());

    it('skips the test numbers until the range is exhausted', async () => {
      // 20 numbers: the test block is +14155550110…+14155550117, so 12 are claimable.
      const config = loadConfig({ FAXWIRE_LOOPBACK_NUMBERS: '+14155550100-+14155550119' });
      const tests = [...testNumbersFrom(config.lines.loopback.testNumbersFirst!).keys()];
      assert.deepEqual([tests[0], tests.at(-1)], ['+14155550110', '+14155550117']);
      const range = claimableLoopbackRange(config);
      const accountId = await createAccount(t.database.db, 'claims');
      const claimed: string[] = [];
      for (let i = 0; i < 12; i++)
        claimed.push((await claimLoopbackNumber(t.database, accountId, range)).e164);
      const expected = [
        ...Array.from({ length: 10 }, (_, i) => `+141555501${String(i).padStart(2, '0')}`),
        '+14155550118',
        '+14155550119',
      ];
      assert.deepEqual(claimed, expected);
      await assert.rejects(
        claimLoopbackNumber(t.database, accountId, range),
        (e: unknown) => e instanceof ApiError && e.code === 'number_unavailable',
      );
    });

    it('reserves nothing when the test numbers are off', () => {
      const config = loadConfig({ FAXWIRE_LOOPBACK_TEST_NUMBERS: 'none' });
      assert.equal(claimableLoopbackRange(config).reserved?.size, 0);
      assert.equal(claimableLoopbackRange(loadConfig({})).reserved?.has('+14155550190'), true);
    });
  });
}
