import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutboundAddressPolicy, parseCidr } from './outbound-address-policy.ts';

test('private, loopback, link-local and reserved addresses are refused by default', () => {
  const policy = new OutboundAddressPolicy();
  for (const ip of [
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:10.0.0.1',
  ]) {
    assert.equal(policy.allows(ip), false, ip);
  }
  for (const ip of ['8.8.8.8', '172.32.0.1', '1.1.1.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
    assert.equal(policy.allows(ip), true, ip);
  }
  assert.equal(policy.allows('not-an-ip'), false);
});

test('configured networks are allowed, and only those', () => {
  const policy = new OutboundAddressPolicy(['127.0.0.0/8', 'fd00::/8']);
  assert.equal(policy.allows('127.0.0.1'), true);
  assert.equal(policy.allows('127.9.9.9'), true);
  assert.equal(policy.allows('::ffff:127.0.0.1'), true);
  assert.equal(policy.allows('fd00::5'), true);
  assert.equal(policy.allows('10.0.0.1'), false);
  assert.equal(policy.allows('::1'), false);
  const env = OutboundAddressPolicy.fromEnv({ FAXWIRE_WEBHOOK_ALLOW_NETS: '10.0.0.0/8, 192.168.5.7' });
  assert.equal(env.allows('10.200.0.1'), true);
  assert.equal(env.allows('192.168.5.7'), true);
  assert.equal(env.allows('192.168.5.8'), false);
});

test('bad CIDRs are refused with a message that says what to write', () => {
  assert.throws(() => parseCidr('localhost/8'), /expected e\.g\. 127\.0\.0\.0\/8/);
  assert.throws(() => parseCidr('10.0.0.0/33'), /bad prefix length/);
});

test('lookup refuses a name that resolves to loopback and passes a permitted one', async () => {
  const strict = new OutboundAddressPolicy();
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) =>
    strict.lookup('localhost', {}, (e) => resolve(e)),
  );
  assert.equal(err?.code, 'EADDRBLOCKED');
  const open = new OutboundAddressPolicy(['127.0.0.0/8', '::1/128']);
  const address = await new Promise<string>((resolve, reject) =>
    open.lookup('localhost', {}, (e, a) => (e ? reject(e) : resolve(a as string))),
  );
  assert.ok(address === '127.0.0.1' || address === '::1');
});
