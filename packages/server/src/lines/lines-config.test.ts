/**
 * @module lines/lines-config.test
 * The lines' settings from the environment: defaults that run the embedded loopback carrier (paced, test numbers
 * at the top of the range), unpaced on request, trunks from JSON with every problem listed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../config/config.ts';
import { parseLinesConfig } from './lines-config.ts';

const RANGE = { first: '+14155550100', last: '+14155550199' };

describe('lines configuration', () => {
  it('defaults to the loopback carrier, paced, with test numbers from +14155550190', () => {
    const config = loadConfig({});
    assert.equal(config.lines.enabled, true);
    assert.deepEqual(config.lines.loopback, {
      enabled: true,
      pacing: 'realtime',
      sipPort: 0,
      testNumbersFirst: '+14155550190',
      testNumberTimeoutMs: 15_000,
    });
    assert.deepEqual(config.lines.trunks, []);
  });

  it('reads pacing, port, test numbers and the on/off switches', () => {
    const problems: string[] = [];
    const lines = parseLinesConfig(
      {
        FAXWIRE_LOOPBACK_PACING: 'none',
        FAXWIRE_LOOPBACK_SIP_PORT: '5070',
        FAXWIRE_LOOPBACK_TEST_NUMBERS: 'none',
        FAXWIRE_LINES: 'off',
      },
      RANGE,
      problems,
    );
    assert.deepEqual(problems, []);
    assert.equal(lines.enabled, false);
    assert.equal(lines.loopback.pacing, 'none');
    assert.equal(lines.loopback.sipPort, 5070);
    assert.equal(lines.loopback.testNumbersFirst, null);
    const otherRange = parseLinesConfig({}, { first: '+4930555000', last: '+4930555099' }, problems);
    assert.equal(otherRange.loopback.testNumbersFirst, '+4930555090');
  });

  it('lists every bad setting at once', () => {
    assert.throws(
      () =>
        loadConfig({
          FAXWIRE_LOOPBACK_PACING: 'fast',
          FAXWIRE_LOOPBACK_TEST_NUMBERS: '555',
          FAXWIRE_TRUNKS: JSON.stringify([
            { name: 'Bad Name', proxy: 'http://x', auth: 'register' },
            { name: 'ok', proxy: 'sip:sbc.example.net', t38: { initialOffer: 'fax' }, codecs: ['G729'] },
          ]),
        }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        const text = error.problems.join('\n');
        for (const expected of [
          'FAXWIRE_LOOPBACK_PACING',
          'FAXWIRE_LOOPBACK_TEST_NUMBERS',
          'FAXWIRE_TRUNKS[0].name',
          'FAXWIRE_TRUNKS[0].proxy',
          'needs username and password',
          'FAXWIRE_TRUNKS[1].t38.initialOffer',
          'FAXWIRE_TRUNKS[1].codecs',
        ]) {
          assert.ok(text.includes(expected), `missing "${expected}" in:\n${text}`);
        }
        return true;
      },
    );
  });

  it('reads trunks from a file, with their defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'faxwire-trunks-'));
    try {
      const file = join(dir, 'trunks.json');
      writeFileSync(
        file,
        JSON.stringify([
          {
            name: 'main',
            proxy: 'sip:sbc.example.net:5061;transport=tcp',
            auth: 'register',
            username: 'u',
            password: 'p',
          },
        ]),
      );
      const [trunk] = loadConfig({ FAXWIRE_TRUNKS_FILE: file }).lines.trunks;
      assert.equal(trunk!.domain, 'sbc.example.net');
      assert.equal(trunk!.registrar, 'sip:sbc.example.net:5061;transport=tcp');
      assert.equal(trunk!.channels, 10);
      assert.deepEqual(trunk!.codecs, ['PCMU', 'PCMA']);
      assert.equal(trunk!.t38.initialOffer, 'audio');
      assert.equal(trunk!.dialTemplate, 'sip:{e164}@{domain}');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('carrier group keys', () => {
  it('names the carrier that will place the call', async () => {
    const { carrierGroupKey, carrierGroupConcurrency } = await import('./carrier-group.ts');
    const config = loadConfig({
      FAXWIRE_TRUNKS: JSON.stringify([
        { name: 'us', proxy: 'sip:us.example.net', prefixes: ['+1'], channels: 4 },
        { name: 'sf', proxy: 'sip:sf.example.net', prefixes: ['+1415'] },
        { name: 'world', proxy: 'sip:w.example.net' },
      ]),
    });
    assert.equal(carrierGroupKey(config, '+14155550150'), 'loopback');
    assert.equal(carrierGroupKey(config, '+14155550195'), 'loopback');
    assert.equal(carrierGroupKey(config, '+14155551234'), 'trunk:sf');
    assert.equal(carrierGroupKey(config, '+12125551234'), 'trunk:us');
    assert.equal(carrierGroupKey(config, '+4930123456'), 'trunk:world');
    assert.equal(carrierGroupConcurrency(config)('trunk:us'), 4);
    assert.equal(carrierGroupConcurrency(config)('loopback'), undefined);
  });
});
