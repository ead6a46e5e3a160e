/**
 * @module
 * The start of a document kept in a file: enough to sniff its type, without reading the rest.
 */
import { open } from 'node:fs/promises';
import { SNIFF_HEAD_BYTES } from './sniff-media-type.ts';

/** Up to `bytes` (default: what sniffing looks at) from the start of the file at `path`. */
export async function readDocumentHead(path: string, bytes = SNIFF_HEAD_BYTES): Promise<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const head = Buffer.alloc(bytes);
    let filled = 0;
    while (filled < bytes) {
      const { bytesRead } = await file.read(head, filled, bytes - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return head.subarray(0, filled);
  } finally {
    await file.close();
  }
}
