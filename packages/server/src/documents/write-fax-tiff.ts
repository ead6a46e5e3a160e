/**
 * @module
 * Fax pages → multi-page TIFF Class F through telefax's writer, a page at a time: with a file sink each
 * page is on disk (and the file valid) as soon as it is added.
 */
import type { BilevelPage } from 'telefax/image/bilevel-page';
import { type TiffSink, TiffWriter } from 'telefax/image/tiff-writer';

export interface FaxTiffOptions {
  /** Default 'mmr' (G4); 'mh'/'mr' for G3 peers. */
  readonly compression?: 'mh' | 'mr' | 'mmr';
  /** Write through this sink (e.g. telefax's `tiffFileSink(fd)`) instead of memory. */
  readonly sink?: TiffSink;
}

/** The file's bytes when written to memory; empty when a sink took them. */
export async function writeFaxTiff(
  pages: AsyncIterable<BilevelPage> | Iterable<BilevelPage>,
  options: FaxTiffOptions = {},
): Promise<Uint8Array> {
  const writer = new TiffWriter({ software: 'Faxwire', ...(options.sink ? { sink: options.sink } : {}) });
  const compression = options.compression ?? 'mmr';
  for await (const page of pages) writer.addPage(page, { compression });
  return writer.finish();
}
