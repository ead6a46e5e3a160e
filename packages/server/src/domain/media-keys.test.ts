import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertBlobKey } from '../store/blob-store.ts';
import { newId } from '../store/new-id.ts';
import { documentBlobKey, faxMediaPrefix, mediaPrefixesBetween, pageBlobKey } from './media-keys.ts';

describe('media keys', () => {
  it('puts every blob of a fax under its prefix, in a window shared by faxes made close together', () => {
    // The start of a window (32⁴ ms), so a minute later is surely inside the same one.
    const t = Math.floor(Date.UTC(2026, 11, 7, 12) / 32 ** 4) * 32 ** 4;
    const fax = newId('fax', t);
    const keys = [documentBlobKey(fax, newId('doc', t)), pageBlobKey(fax, 1), pageBlobKey(fax, 120)];
    for (const key of keys) {
      assertBlobKey(key);
      assert.ok(key.startsWith(faxMediaPrefix(fax)), key);
    }
    assert.equal(pageBlobKey(fax, 7), `${faxMediaPrefix(fax)}p0007`);
    const window = (id: string) => faxMediaPrefix(id).split('/')[1];
    assert.equal(window(newId('fax', t + 60_000)), window(fax));
    assert.notEqual(window(newId('fax', t + 3_600_000)), window(fax));
    // A fax's prefix never matches another fax's blobs.
    const other = newId('fax', t);
    assert.ok(!pageBlobKey(other, 1).startsWith(faxMediaPrefix(fax)));
  });

  it('names the media directories of a span of time, the window of each fax made in it included', () => {
    const until = Date.UTC(2026, 11, 7, 12);
    const since = until - 48 * 3600_000;
    const prefixes = mediaPrefixesBetween(since, until);
    assert.ok(prefixes.length >= 164 && prefixes.length <= 166, String(prefixes.length));
    assert.equal(new Set(prefixes).size, prefixes.length);
    // newId never goes back in time within a process, so the ids of earlier moments are spelt out here.
    const dirOf = (ms: number) => {
      let time = '';
      for (let i = 0, t = ms; i < 10; i++, t = Math.floor(t / 32))
        time = '0123456789abcdefghjkmnpqrstvwxyz'[t % 32] + time;
      return `${faxMediaPrefix(`fax_${time}${'0'.repeat(16)}`)
        .split('/')
        .slice(0, 2)
        .join('/')}/`;
    };
    for (const t of [since, since + 1, until - 7_000_000, until]) {
      assert.ok(prefixes.includes(dirOf(t)), `${new Date(t).toISOString()} → ${dirOf(t)}`);
    }
    assert.ok(!prefixes.includes(dirOf(since - 3_600_000)));
  });

  it('refuses what is not an id', () => {
    assert.throws(() => pageBlobKey('../etc', 1), RangeError);
  });
});
