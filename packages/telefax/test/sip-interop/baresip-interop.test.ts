/**
 * @module baresip-interop.test
 * A voice line on the far end: baresip, a real softphone that answers and places plain audio calls and declines
 * T.38 (it answers our `m=image` re-INVITE with the image stream at port 0, RFC 3264 §6). Faxwire must end such a
 * call by itself with a typed reason — `t38_not_supported` when T.38 is declined, `fax_not_detected` when nobody
 * ever switches — and hang up, whichever side placed the call. Skips with the reason when baresip is missing.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { samplePage } from '../../src/codec/sample-pages.ts';
import { writeTiff } from '../../src/image/tiff-writer.ts';
import { baresipBinary, startBaresip } from './baresip.ts';
import { type CliRun, explain, lastJson, runTelefax } from './telefax-cli.ts';

const skip = baresipBinary() ? false : 'baresip is not installed (Debian package baresip)';

let dir = '';
let doc = '';
let counter = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faxwire-baresip-test-'));
  doc = join(dir, 'doc.tif');
  await writeFile(doc, writeTiff([samplePage('text', 1728, 100, 1)], { compression: 'mh' }));
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const common = ['--pace', 'none', '--json', '--local-address', '127.0.0.1', '--sip-trace'];

function assertEndedWith(run: CliRun, reason: string, baresipLog: string): void {
  const why = `${explain(run)}\nbaresip:\n${baresipLog.slice(-2000)}`;
  assert.equal(run.status, 1, why);
  const json = lastJson(run.stdout);
  assert.equal(json.ok, false, why);
  assert.equal(json.reason, reason, why);
  assert.equal(json.pages, 0);
  assert.match(run.stderr, new RegExp(`^telefax: ${reason}: `, 'm'));
  // It really was an answered voice call, and Faxwire ended it with BYE.
  assert.match(baresipLog, /Call established/, why);
  assert.ok(/^BYE sip:/m.test(run.stderr), `Faxwire sent BYE\n${why}`);
}

interface CallCase {
  name: string;
  args: string[];
  reason: 't38_not_supported' | 'fax_not_detected';
}

const calls: CallCase[] = [
  {
    name: 'audio first, our T.38 re-INVITE is declined',
    args: ['--reinvite-wait-ms', '300'],
    reason: 't38_not_supported',
  },
  {
    name: 'audio and T.38 offered together, baresip takes only the audio',
    args: ['--initial-offer', 'both', '--reinvite-wait-ms', '300'],
    reason: 't38_not_supported',
  },
  {
    name: 'we wait for a T.38 re-INVITE that a phone never sends',
    args: ['--no-reinvite', '--switch-timeout-ms', '2500'],
    reason: 'fax_not_detected',
  },
];

for (const c of calls) {
  test(`telefax sip call to baresip (voice only, auto-answer): ${c.name} → ${c.reason}`, {
    skip,
  }, async () => {
    const phone = await startBaresip();
    try {
      const run = await runTelefax(
        ['sip', 'call', `sip:voice@127.0.0.1:${phone.port}`, doc, ...common, ...c.args],
        20_000,
      ).done;
      assertEndedWith(run, c.reason, phone.log());
      assert.equal(lastJson(run.stdout).sip.direction, 'outgoing');
    } finally {
      await phone.stop();
    }
  });
}

test('telefax sip call with T.38 only in the INVITE to baresip: t38_not_supported, no call established', {
  skip,
}, async () => {
  const phone = await startBaresip();
  try {
    const run = await runTelefax(
      ['sip', 'call', `sip:voice@127.0.0.1:${phone.port}`, doc, ...common, '--initial-offer', 't38'],
      20_000,
    ).done;
    const why = `${explain(run)}\nbaresip:\n${phone.log().slice(-2000)}`;
    assert.equal(run.status, 1, why);
    assert.equal(lastJson(run.stdout).reason, 't38_not_supported', why);
    assert.match(run.stderr, /^telefax: t38_not_supported: /m);
  } finally {
    await phone.stop();
  }
});

const answers: CallCase[] = [
  {
    name: 'we re-INVITE to T.38 and baresip declines',
    args: ['--reinvite-wait-ms', '200'],
    reason: 't38_not_supported',
  },
  {
    name: 'nobody switches to T.38',
    args: ['--no-reinvite', '--switch-timeout-ms', '2500'],
    reason: 'fax_not_detected',
  },
];

for (const c of answers) {
  test(`baresip calls telefax sip answer: ${c.name} → ${c.reason}`, { skip }, async () => {
    const answer = runTelefax(
      ['sip', 'answer', '--sip-port', '0', '--out-dir', join(dir, `out-${counter++}`), ...common, ...c.args],
      20_000,
    );
    const port = await answer.ready;
    const phone = await startBaresip({ dial: `sip:fax@127.0.0.1:${port}` });
    try {
      const run = await answer.done;
      assertEndedWith(run, c.reason, phone.log());
      assert.equal(lastJson(run.stdout).sip.direction, 'incoming');
    } finally {
      await phone.stop();
    }
  });
}
