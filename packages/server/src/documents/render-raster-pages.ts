/**
 * @module
 * Raster inputs → fax pages: PNG, JPEG and TIFF. Fax TIFFs (bilevel G3/G4/uncompressed) are read by telefax's
 * TIFF reader; a page that is already 1728 pels at 204 dpi keeps its exact pixels (rows ORed in pairs or
 * repeated to change the vertical resolution). Everything else is decoded by sharp, turned grey, resampled
 * from its physical size (pixels ÷ dpi, 72 dpi when unstated) to the fax grid, shrunk to fit the paper and
 * centred, never enlarged, and thresholded or dithered per region (bilevel sources are only thresholded:
 * their greys are resampled edges, not tones).
 *
 * A decompression bomb is refused from its header: the declared width × height is checked against
 * `maxImagePixels` before anything is decoded, and sharp's own `limitInputPixels` backs that up.
 */
import sharp, { type Metadata, type Sharp } from 'sharp';
import {
  type BilevelPage,
  createPage,
  type FaxResolution,
  RESOLUTION_DPI,
  strideOf,
} from 'telefax/image/bilevel-page';
import { ImageError } from 'telefax/image/image-error';
import { type TiffPage, tiffPages } from 'telefax/image/tiff-reader';
import { DocumentError } from './document-error.ts';
import { greyToBilevel } from './grey-to-bilevel.ts';
import {
  choosePaper,
  FAX_PAGE_WIDTH,
  PAPER_INCHES,
  type PaperChoice,
  type PaperSize,
  pageGeometry,
} from './paper-size.ts';
import { placeOnPage } from './place-on-page.ts';
import type { RenderLimits } from './render-limits.ts';

export type RasterKind = 'png' | 'jpeg' | 'tiff';

export interface RasterRenderOptions {
  readonly resolution: FaxResolution;
  readonly paper: PaperChoice;
  readonly limits: RenderLimits;
}

const DEFAULT_DPI = 72;

/** The image's bytes, or the file holding them: sharp reads a file itself, as far as it needs. */
export type RasterSource = Uint8Array | { readonly path: string };

function sharpInput(source: RasterSource, limits: RenderLimits, page?: number): Sharp {
  return sharp(source instanceof Uint8Array ? source : source.path, {
    limitInputPixels: limits.maxImagePixels,
    failOn: 'error',
    autoOrient: true,
    ...(page === undefined ? {} : { page }),
  }).timeout({ seconds: Math.max(1, Math.ceil(limits.pageTimeoutMs / 1000)) });
}

function sharpFailure(err: unknown, page?: number): DocumentError {
  if (err instanceof DocumentError) return err;
  // sharp says "Input file" or "Input buffer" after how it was given the image; the client sent the
  // same document either way (a multipart file waits on disk, base64 in memory), so it reads the same.
  const message = ((err as Error).message ?? String(err)).replace(
    /^Input file (?!is missing)/,
    'Input buffer ',
  );
  const where = page === undefined ? {} : { page };
  if (/pixel limit|too many pixels/i.test(message)) {
    return new DocumentError('document_too_large', 'the image has too many pixels', {
      ...where,
      limit: 'pixels',
    });
  }
  if (/timeout/i.test(message))
    return new DocumentError('render_timeout', 'decoding the image took too long', where);
  return new DocumentError('invalid_document', `the image could not be decoded: ${message}`, where, err);
}

function imageFailure(err: unknown, page?: number): DocumentError {
  if (err instanceof ImageError) {
    return new DocumentError(err.code, err.message, page === undefined ? {} : { page }, err);
  }
  return sharpFailure(err, page);
}

interface Header {
  readonly pages: number;
  readonly width: number;
  readonly height: number;
  readonly dpi: number;
}

async function readHeader(bytes: RasterSource, limits: RenderLimits, page?: number): Promise<Header> {
  let meta: Metadata;
  try {
    meta = await sharpInput(bytes, limits, page).metadata();
  } catch (err) {
    throw sharpFailure(err, page);
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.pageHeight ?? meta.height ?? 0;
  if (width < 1 || height < 1) throw new DocumentError('invalid_document', 'the image has no size');
  if (width * height > limits.maxImagePixels) {
    throw new DocumentError('document_too_large', `the image is ${width}×${height} pixels`, {
      limit: 'pixels',
      ...(page === undefined ? {} : { page }),
    });
  }
  const dpi = meta.density && meta.density >= 10 ? meta.density : DEFAULT_DPI;
  return { pages: meta.pages ?? 1, width, height, dpi };
}

/** Pages of a raster document, from headers only where the format allows. */
export async function rasterPageCount(
  bytes: RasterSource,
  kind: RasterKind,
  limits: RenderLimits,
): Promise<number> {
  const header = await readHeader(bytes, limits);
  return kind === 'tiff' ? header.pages : 1;
}

/** Pages of a raster document, one at a time. */
export async function* renderRasterPages(
  bytes: Uint8Array,
  kind: RasterKind,
  options: RasterRenderOptions,
): AsyncGenerator<BilevelPage> {
  if (kind === 'tiff') {
    const fax = faxTiffPages(bytes, options.limits);
    if (fax) {
      let index = 0;
      while (true) {
        let next: IteratorResult<TiffPage>;
        try {
          next = fax.next();
        } catch (err) {
          throw imageFailure(err, index);
        }
        if (next.done) return;
        yield fromBilevel(next.value.page, options);
        index++;
      }
    }
  }
  const header = await readHeader(bytes, options.limits);
  const pages = kind === 'tiff' ? header.pages : 1;
  for (let page = 0; page < pages; page++) {
    const h = kind === 'tiff' && page > 0 ? await readHeader(bytes, options.limits, page) : header;
    try {
      const input = sharpInput(bytes, options.limits, kind === 'tiff' ? page : undefined);
      yield await placeRaster(input, h.width, h.height, h.dpi, h.dpi, options);
    } catch (err) {
      throw sharpFailure(err, page);
    }
  }
}

/**
 * Telefax's reader for bilevel TIFFs; null when the first directory is a kind it does not read (colour,
 * grey, LZW…), which sharp then decodes.
 */
function faxTiffPages(bytes: Uint8Array, limits: RenderLimits): Generator<TiffPage> | null {
  const limitsForReader = { maxPagePixels: limits.maxImagePixels, maxPages: limits.maxPages };
  const pages = tiffPages(bytes, limitsForReader);
  let first: IteratorResult<TiffPage>;
  try {
    first = pages.next();
  } catch (err) {
    if (err instanceof ImageError && err.code === 'unsupported_media_type') return null;
    throw imageFailure(err, 0);
  }
  return (function* () {
    if (first.done) throw new DocumentError('invalid_document', 'the TIFF has no pages');
    yield first.value;
    yield* pages;
  })();
}

/** The smallest paper, from `choice`, that holds `heightIn` inches; null when none does. */
function paperFor(choice: PaperChoice, heightIn: number): PaperSize | null {
  const candidates: PaperSize[] = choice === 'auto' ? ['letter', 'a4', 'legal'] : [choice];
  return candidates.find((p) => heightIn <= PAPER_INCHES[p].height + 1e-6) ?? null;
}

/** A bilevel page: exact pixels when it is already on the fax grid, else resampled. */
function fromBilevel(page: BilevelPage, options: RasterRenderOptions): Promise<BilevelPage> | BilevelPage {
  const onGrid = page.width === FAX_PAGE_WIDTH && Math.abs(page.xDpi / 204 - 1) < 0.05;
  const paper = onGrid ? paperFor(options.paper, page.height / page.yDpi) : null;
  if (onGrid && paper) {
    const geometry = pageGeometry(paper, options.resolution);
    return padToHeight(toResolution(page, options.resolution), geometry.height);
  }
  const grey = Buffer.alloc(page.width * page.height);
  for (let y = 0; y < page.height; y++) {
    for (let x = 0; x < page.width; x++) {
      const black = (page.data[y * page.stride + (x >> 3)] >> (7 - (x & 7))) & 1;
      grey[y * page.width + x] = black ? 0 : 255;
    }
  }
  const input = sharp(grey, { raw: { width: page.width, height: page.height, channels: 1 } });
  return placeRaster(input, page.width, page.height, page.xDpi, page.yDpi, options, false);
}

/**
 * Changes vertical resolution keeping thin strokes: halving ORs each pair of rows (a 1-row line survives),
 * doubling repeats rows.
 */
function toResolution(page: BilevelPage, resolution: FaxResolution): BilevelPage {
  const target = RESOLUTION_DPI[resolution].y;
  const ratio = page.yDpi / target;
  if (Math.abs(ratio - 1) < 0.05) return { ...page, xDpi: 204, yDpi: target };
  const height = Math.max(1, Math.round(page.height / ratio));
  const out = createPage(page.width, height, 204, target);
  const stride = page.stride;
  for (let y = 0; y < height; y++) {
    const from = Math.floor(y * ratio + 1e-9);
    const to = Math.min(page.height, Math.max(from + 1, Math.floor((y + 1) * ratio + 1e-9)));
    const o = y * stride;
    for (let r = from; r < to; r++) {
      const src = r * stride;
      for (let i = 0; i < stride; i++) out.data[o + i] |= page.data[src + i];
    }
  }
  return out;
}

function padToHeight(page: BilevelPage, height: number): BilevelPage {
  if (page.height === height) return page;
  const out = createPage(page.width, height, page.xDpi, page.yDpi);
  out.data.set(page.data.subarray(0, Math.min(height, page.height) * page.stride));
  return out;
}

async function placeRaster(
  input: Sharp,
  width: number,
  height: number,
  xDpi: number,
  yDpi: number,
  options: RasterRenderOptions,
  dither = true,
): Promise<BilevelPage> {
  const widthIn = width / xDpi;
  const heightIn = height / yDpi;
  const paper = choosePaper(options.paper, widthIn, heightIn);
  const geometry = pageGeometry(paper, options.resolution);
  const place = placeOnPage(widthIn, heightIn, geometry, false);
  const w = Math.max(1, Math.min(geometry.width, Math.round(place.width)));
  const h = Math.max(1, Math.min(geometry.height, Math.round(place.height)));
  const { data, info } = await input
    .rotate(place.rotate ? 270 : 0)
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(w, h, { fit: 'fill', kernel: 'lanczos3' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const grey = new Uint8Array(geometry.width * geometry.height).fill(255);
  const left = Math.max(0, Math.round(place.left));
  const top = Math.max(0, Math.round(place.top));
  const channels = info.channels;
  for (let y = 0; y < info.height && top + y < geometry.height; y++) {
    const row = (top + y) * geometry.width + left;
    const src = y * info.width * channels;
    for (let x = 0; x < info.width && left + x < geometry.width; x++)
      grey[row + x] = data[src + x * channels];
  }
  const bits = greyToBilevel(
    { width: geometry.width, height: geometry.height, stride: geometry.width, data: grey },
    { dither },
  );
  return {
    width: geometry.width,
    height: geometry.height,
    stride: strideOf(geometry.width),
    data: bits.data,
    xDpi: geometry.xDpi,
    yDpi: geometry.yDpi,
  };
}
