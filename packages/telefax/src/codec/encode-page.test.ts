import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { EncodeOptions } from './codec-options.ts';
import { encodePage } from './encode-page.ts';
import { type SamplePageKind, samplePage } from './sample-pages.ts';

/**
 * SHA-256 of the strip libtiff 4.5 writes for the same pixels (`tiffcp -c g3:1d|g3:2d|g4[:fill]` of an
 * uncompressed TIFF without resolution, so K = 2; G3 strips have an EOL per row and no RTC, G4 ends with EOFB).
 * Equal bytes, not only equal pixels: our encoder makes the same choices as the reference implementation.
 * The pages come from samplePage, so a change there changes these too.
 */
const LIBTIFF_SHA256: [SamplePageKind, number, number, number, EncodeOptions, string][] = [
  [
    'text',
    1728,
    100,
    1,
    { compression: 'mh' },
    '9fa98bb2bcd30f057585e93f20f336c4fd019924231a292729333534ebf0a11c',
  ],
  [
    'text',
    1728,
    100,
    1,
    { compression: 'mr' },
    '9b5375912bcf16ca6a484cdf73dfc021af4d89a9ba04b49073ab7dbabee240b1',
  ],
  [
    'text',
    1728,
    100,
    1,
    { compression: 'mmr' },
    '01fb0d3eaa3041c20df4e28d084584a2a270901028c245158cc8cd85891c950b',
  ],
  [
    'text',
    1728,
    100,
    1,
    { compression: 'mh', byteAlignEol: true },
    '416414156c1515b49a26ecb9e85d6c9640751a82e0b0e0d932845038ef730d59',
  ],
  [
    'text',
    1728,
    100,
    1,
    { compression: 'mr', byteAlignEol: true },
    '5b1e1c0825335bb9f9645980607229795ef8ce81d80cb0a00f997fc7b3b273c4',
  ],
  [
    'random',
    2048,
    40,
    2,
    { compression: 'mh' },
    '61d056ffe21af10e406d9cd647b25bec4d56936d4b2b83d8c8dcf417e0325cdf',
  ],
  [
    'random',
    2048,
    40,
    2,
    { compression: 'mr' },
    '00086a9a3e6405e51989f233ff3e8d268449251169539bb30bf4c2e3f5bfbaeb',
  ],
  [
    'random',
    2048,
    40,
    2,
    { compression: 'mmr' },
    'f78faa0b84ee8eb6b2b708fc279bd7487b6ea5ef160177903caf6985c470f2bf',
  ],
  [
    'checkerboard',
    13,
    20,
    1,
    { compression: 'mh' },
    '9b1ca0b7c67b1c5e1be23c14c47fa730d9210743867e4491a563614ecf482687',
  ],
  [
    'checkerboard',
    13,
    20,
    1,
    { compression: 'mr' },
    '886a5a2b268e1d81badda626ed6f3994736ada5577a23f2a1bb06188e9b93c5b',
  ],
  [
    'checkerboard',
    13,
    20,
    1,
    { compression: 'mmr' },
    'fb2c56efd95dd9f0929cc5102c6f6f61e8153384c97aa90cf3969b5472adeb19',
  ],
  [
    'checkerboard',
    13,
    20,
    1,
    { compression: 'mr', byteAlignEol: true },
    '6b507b6e94b5296e2adf01d27e46e0976c30f7480fe385ed3fae840b187a144b',
  ],
];

test('encoded bytes equal libtiff’s for the same pages (MH, MR K=2, MMR, byte-aligned EOLs)', () => {
  for (const [kind, width, height, seed, options, sha256] of LIBTIFF_SHA256) {
    const page = samplePage(kind, width, height, seed);
    const coded = encodePage(page, { kFactor: 2, rtc: options.compression === 'mmr', ...options });
    const what = `${kind} ${width}×${height} ${JSON.stringify(options)}`;
    assert.equal(createHash('sha256').update(coded).digest('hex'), sha256, what);
  }
});
