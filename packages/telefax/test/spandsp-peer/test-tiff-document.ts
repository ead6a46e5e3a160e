/**
 * @module
 * Test documents made and compared with the libtiff tools (ppm2tiff, tiffcp, tiffset, tiffinfo, tiffcmp), so
 * the peers' tests check spandsp against files written and read by code that is neither ours nor spandsp's.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A page as PBM (P4, 1 = black); `black` is asked for every pixel, row by row. */
export function pbmPage(width: number, height: number, black: (x: number, y: number) => boolean): Buffer {
  const stride = width / 8;
  const bits = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (black(x, y)) bits[y * stride + (x >> 3)] |= 0x80 >> (x & 7);
    }
  }
  return Buffer.concat([Buffer.from(`P4\n${width} ${height}\n`, 'ascii'), bits]);
}

/**
 * Writes `pages` (PBM) as one multi-page TIFF at `path`, coded with tiffcp's `compression` (e.g. `g3:2d`, `g4`),
 * 204 dpi across and `yDpi` down (fine is 204 × 196, standard 204 × 98: T.4 §2.2), each page numbered n of total
 * (PageNumber, TIFF 6.0 tag 297). Scratch files go to `dir`.
 */
export async function writeTiffDocument(
  dir: string,
  path: string,
  pages: readonly Buffer[],
  compression: string,
  yDpi = 196,
): Promise<void> {
  const tifs: string[] = [];
  for (const [i, pbm] of pages.entries()) {
    const pbmPath = join(dir, `page${i}.pbm`);
    const tif = join(dir, `page${i}.tif`);
    await writeFile(pbmPath, pbm);
    await execFileAsync('ppm2tiff', ['-R', '204', pbmPath, tif]);
    tifs.push(tif);
  }
  await execFileAsync('tiffcp', ['-c', compression, ...tifs, path]);
  for (let d = 0; d < pages.length; d++) {
    await execFileAsync('tiffset', ['-d', String(d), '-s', '283', String(yDpi), path]);
    await execFileAsync('tiffset', ['-d', String(d), '-s', '297', String(d), String(pages.length), path]);
  }
}

async function pageSizes(path: string): Promise<string[]> {
  const { stdout } = await execFileAsync('tiffinfo', [path]);
  return [...stdout.matchAll(/Image Width: (\d+) Image Length: (\d+)/g)].map((m) => `${m[1]}x${m[2]}`);
}

/** Same number of pages of the same size, and `tiffcmp -t` finds no differing pixel. */
export async function sameTiffPixels(a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([pageSizes(a), pageSizes(b)]);
  if (sa.length === 0 || sa.join() !== sb.join()) return false;
  try {
    await execFileAsync('tiffcmp', ['-t', a, b]);
    return true;
  } catch {
    return false;
  }
}
