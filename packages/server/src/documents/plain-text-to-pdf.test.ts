import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeText, layoutPlainText, TEXT_COLUMNS, TEXT_LINES_PER_PAGE } from './plain-text-to-pdf.ts';

describe('layoutPlainText', () => {
  it('wraps at 80 columns, at a space when there is one', () => {
    const words = 'lorem ipsum dolor sit amet '.repeat(10).trim();
    const [page] = layoutPlainText(words);
    assert.ok(page.every((l) => l.length <= TEXT_COLUMNS));
    assert.ok(page.length > 1);
    assert.equal(page.join(' '), words);
    const [hard] = layoutPlainText('x'.repeat(200));
    assert.deepEqual(
      hard.map((l) => l.length),
      [80, 80, 40],
    );
  });

  it('puts 60 lines on a page, starts a page at form feed, expands tabs', () => {
    const pages = layoutPlainText(Array.from({ length: 130 }, (_, i) => String(i)).join('\n'));
    assert.deepEqual(
      pages.map((p) => p.length),
      [TEXT_LINES_PER_PAGE, TEXT_LINES_PER_PAGE, 10],
    );
    assert.equal(layoutPlainText('a\fb').length, 2);
    assert.deepEqual(layoutPlainText('a\tb\r\nc'), [['a       b', 'c']]);
  });

  it('decodes UTF-8, falling back to Latin-1', () => {
    assert.equal(decodeText(Buffer.from('\ufeffcafé', 'utf8')), 'café');
    assert.equal(decodeText(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'café');
  });
});
