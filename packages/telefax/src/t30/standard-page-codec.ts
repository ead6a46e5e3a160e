/**
 * @module
 * The PageCodec the engine uses by default: telefax/codec, in the line's bit order (LSB first).
 */

import { decodePage, encodePage, FaxDecoder } from '../codec/index.ts';
import type { PageCodec } from './page-codec.ts';

/** Rows a received page may have: an unlimited-length page at superfine is still far below this. */
const MAX_RECEIVED_ROWS = 16384;

export const standardPageCodec: PageCodec = {
  encode(page, options) {
    return encodePage(page, {
      compression: options.compression,
      kFactor: options.kFactor,
      bitOrder: 'lsb-first',
      minBitsPerRow: options.minBitsPerRow,
      rtc: true,
    });
  },
  decode(data, options) {
    const result = decodePage(data, {
      compression: options.compression,
      width: options.width,
      bitOrder: 'lsb-first',
      xDpi: options.xDpi,
      yDpi: options.yDpi,
      maxRows: MAX_RECEIVED_ROWS,
    });
    return { page: result.page, rows: result.page.height, badRows: result.badRows };
  },
  stream(options, onRow) {
    const decoder = new FaxDecoder({
      compression: options.compression,
      width: options.width,
      bitOrder: 'lsb-first',
      xDpi: options.xDpi,
      yDpi: options.yDpi,
      maxRows: MAX_RECEIVED_ROWS,
      retainPage: false,
    });
    decoder.onRow = onRow;
    return decoder;
  },
};
