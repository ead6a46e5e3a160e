/**
 * @module config/config.test
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('defaults to the embedded deployment', () => {
    const config = loadConfig({});
    assert.equal(config.dataDir, resolve('./data'));
    assert.deepEqual([config.host, config.port], ['127.0.0.1', 8080]);
    assert.deepEqual(config.database, { engine: 'sqlite', path: resolve('./data/faxwire.db') });
    assert.deepEqual(config.loopbackRange, { first: '+14155550100', last: '+14155550199' });
    assert.equal(config.blobEncryptionKey, null);
    assert.ok(config.limits.requestMaxBytes > config.limits.documentMaxBytes * config.limits.documentsPerFax);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.limits));
  });

  it('reads every variable', () => {
    const config = loadConfig({
      FAXWIRE_DATA_DIR: '/srv/fax',
      FAXWIRE_PORT: '9000',
      FAXWIRE_HOST: '0.0.0.0',
      FAXWIRE_DATABASE_URL: 'postgres://u:p@db/fax',
      FAXWIRE_DATABASE_POOL_SIZE: '40',
      FAXWIRE_LOOPBACK_NUMBERS: '+442071838750-+442071838759',
      FAXWIRE_DOCUMENT_MAX_BYTES: '1048576',
      FAXWIRE_BLOB_ENCRYPTION_KEY: 'ab'.repeat(32),
      FAXWIRE_LOG_LEVEL: 'debug',
    });
    assert.equal(config.dataDir, '/srv/fax');
    assert.deepEqual(config.database, { engine: 'postgres', url: 'postgres://u:p@db/fax', poolSize: 40 });
    assert.deepEqual(config.loopbackRange, { first: '+442071838750', last: '+442071838759' });
    assert.equal(config.limits.documentMaxBytes, 1048576);
    assert.equal(config.blobEncryptionKey?.length, 32);
    assert.equal(config.logLevel, 'debug');
    assert.deepEqual(loadConfig({ FAXWIRE_DATABASE_URL: 'sqlite:/tmp/x.db' }).database, {
      engine: 'sqlite',
      path: '/tmp/x.db',
    });
  });

  it('lists every invalid variable in one error', () => {
    try {
      loadConfig({
        FAXWIRE_PORT: '80a',
        FAXWIRE_DATABASE_URL: 'mysql://x',
        FAXWIRE_LOOPBACK_NUMBERS: '+1555-+1',
        FAXWIRE_BLOB_ENCRYPTION_KEY: 'short',
        FAXWIRE_LOG_LEVEL: 'loud',
        FAXWIRE_PAGES_PER_FAX: '0',
      });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 6);
      assert.match(error.message, /FAXWIRE_PORT must be a whole number/);
      assert.match(error.message, /FAXWIRE_PAGES_PER_FAX must be between 1 and 10000/);
    }
  });

  it('reads the networks webhooks may reach, and names each bad one', () => {
    assert.deepEqual(loadConfig({}).webhookAllowNets, []);
    assert.deepEqual(
      loadConfig({ FAXWIRE_WEBHOOK_ALLOW_NETS: ' 10.0.0.0/8, 192.168.5.7,,fd00::/8 ' }).webhookAllowNets,
      ['10.0.0.0/8', '192.168.5.7', 'fd00::/8'],
    );
    try {
      loadConfig({ FAXWIRE_WEBHOOK_ALLOW_NETS: '10.0.0.0/33,intranet,127.0.0.0/,10.0.0.0/8' });
      assert.fail('expected a ConfigError');
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 3);
      assert.match(error.problems[0]!, /FAXWIRE_WEBHOOK_ALLOW_NETS: bad prefix length in "10\.0\.0\.0\/33"/);
      assert.match(error.problems[1]!, /FAXWIRE_WEBHOOK_ALLOW_NETS: not a CIDR: "intranet"/);
      assert.match(error.problems[2]!, /FAXWIRE_WEBHOOK_ALLOW_NETS: not a CIDR: "127\.0\.0\.0\/"/);
    }
  });

  it('reads the job lease, refusing one too short to renew', () => {
    assert.equal(loadConfig({}).jobLeaseMs, 30_000);
    assert.equal(loadConfig({ FAXWIRE_JOB_LEASE_MS: '2500' }).jobLeaseMs, 2500);
    for (const bad of ['999', '0', '-5000', '1.5s', '3600001']) {
      assert.throws(
        () => loadConfig({ FAXWIRE_JOB_LEASE_MS: bad }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.problems.length === 1 &&
          /^FAXWIRE_JOB_LEASE_MS must be /.test(error.problems[0]!),
        bad,
      );
    }
  });

  it('refuses a reversed or uneven loopback range', () => {
    assert.throws(() => loadConfig({ FAXWIRE_LOOPBACK_NUMBERS: '+15550000009-+15550000000' }), ConfigError);
    assert.throws(() => loadConfig({ FAXWIRE_LOOPBACK_NUMBERS: '+15550000000-+155500000099' }), ConfigError);
  });
});
