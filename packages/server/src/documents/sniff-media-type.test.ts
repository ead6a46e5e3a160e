import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kindOfMediaType, sniffMediaType } from './sniff-media-type.ts';

describe('sniffMediaType', () => {
  it('recognises each format by its magic bytes', () => {
    assert.equal(sniffMediaType(Buffer.from('%PDF-1.7\n')), 'pdf');
    assert.equal(sniffMediaType(Buffer.concat([Buffer.alloc(100, 0x20), Buffer.from('%PDF-1.4')])), 'pdf');
    assert.equal(sniffMediaType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0])), 'png');
    assert.equal(sniffMediaType(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
    assert.equal(sniffMediaType(Buffer.from('II*\0')), 'tiff');
    assert.equal(sniffMediaType(Buffer.from('MM\0*')), 'tiff');
    assert.equal(sniffMediaType(Buffer.from('Dear Sir,\r\n\tthank you.\f')), 'text');
    assert.equal(sniffMediaType(Buffer.from('héllo wörld', 'utf8')), 'text');
  });

  it('recognises nothing in binary junk', () => {
    assert.equal(sniffMediaType(Buffer.from([0, 1, 2, 3, 4])), null);
    assert.equal(sniffMediaType(Buffer.from('PK\u0003\u0004')), null);
    assert.equal(sniffMediaType(new Uint8Array(0)), null);
  });

  it('maps declared media types, ignoring parameters', () => {
    assert.equal(kindOfMediaType('application/pdf'), 'pdf');
    assert.equal(kindOfMediaType('text/plain; charset=utf-8'), 'text');
    assert.equal(kindOfMediaType('IMAGE/JPG'), 'jpeg');
    assert.equal(kindOfMediaType('application/msword'), null);
    assert.equal(kindOfMediaType(undefined), null);
  });
});
