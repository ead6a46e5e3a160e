/**
 * @module
 * PNG previews and thumbnails of fax pages. Fax pels are far from square at standard and superfine
 * resolution, so those previews are resampled to square pixels (at the page's horizontal dpi) and a page looks
 * as it would printed; a fine page (204 × 196, within 4 %) at its own width keeps its exact pixels.
 */
import sharp from 'sharp';
import type { BilevelPage } from 'telefax/image/bilevel-page';

export interface PageToPngOptions {
  /** Output width in pixels; default the page's own width. Height follows the physical aspect ratio. */
  readonly width?: number;
}

export async function pageToPng(page: BilevelPage, options: PageToPngOptions = {}): Promise<Uint8Array> {
  const grey = Buffer.alloc(page.width * page.height);
  for (let y = 0; y < page.height; y++) {
    const row = y * page.stride;
    const out = y * page.width;
    for (let x = 0; x < page.width; x++) {
      grey[out + x] = (page.data[row + (x >> 3)] >> (7 - (x & 7))) & 1 ? 0 : 255;
    }
  }
  const width = Math.max(1, Math.round(options.width ?? page.width));
  const nearlySquare = Math.abs(page.yDpi / page.xDpi - 1) < 0.05;
  const height =
    options.width === undefined && nearlySquare
      ? page.height
      : Math.max(1, Math.round((width * page.height * page.xDpi) / (page.width * page.yDpi)));
  const png = await sharp(grey, { raw: { width: page.width, height: page.height, channels: 1 } })
    .resize(width, height, { fit: 'fill', kernel: width < page.width ? 'lanczos3' : 'nearest' })
    .png({ compressionLevel: 9, palette: width === page.width && height === page.height })
    .toBuffer();
  return new Uint8Array(png);
}
