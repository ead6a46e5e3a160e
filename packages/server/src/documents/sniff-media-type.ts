/**
 * @module
 * What an input really is, from its first bytes; the declared type is only a hint, because a client's
 * Content-Type is often wrong and a renderer picked by it could be fed anything.
 */

export type DocumentKind = 'pdf' | 'tiff' | 'png' | 'jpeg' | 'text';

export const MEDIA_TYPES: Readonly<Record<DocumentKind, string>> = Object.freeze({
  pdf: 'application/pdf',
  tiff: 'image/tiff',
  png: 'image/png',
  jpeg: 'image/jpeg',
  text: 'text/plain',
});

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  if (bytes.length < at + magic.length) return false;
  return magic.every((b, i) => bytes[at + i] === b);
}

/** ISO 32000-1 §7.5.2: readers accept the header within the first 1024 bytes. */
function findPdfHeader(bytes: Uint8Array): boolean {
  const end = Math.min(bytes.length - 5, 1024);
  for (let i = 0; i <= end; i++) {
    if (bytes[i] === 0x25 && startsWith(bytes, [0x25, 0x50, 0x44, 0x46, 0x2d], i)) return true;
  }
  return false;
}

/** How much of a document's start sniffing looks at: a file's head of this size decides as the whole would. */
export const SNIFF_HEAD_BYTES = 8192;

/** Text if the first 8 KiB hold no NUL and nearly only printable characters and whitespace. */
function looksLikeText(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, SNIFF_HEAD_BYTES);
  if (n === 0) return false;
  let control = 0;
  for (let i = 0; i < n; i++) {
    const b = bytes[i];
    if (b === 0) return false;
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d && b !== 0x0c && b !== 0x1b) control++;
  }
  return control / n < 0.01;
}

/** The kind of a document by content, or null when it is none we render. */
export function sniffMediaType(bytes: Uint8Array): DocumentKind | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return 'tiff';
  if (findPdfHeader(bytes)) return 'pdf';
  if (looksLikeText(bytes)) return 'text';
  return null;
}

/** The kind a declared media type names, ignoring parameters such as `; charset=utf-8`. */
export function kindOfMediaType(mediaType: string | undefined): DocumentKind | null {
  if (!mediaType) return null;
  const base = mediaType.split(';')[0].trim().toLowerCase();
  for (const [kind, type] of Object.entries(MEDIA_TYPES)) if (type === base) return kind as DocumentKind;
  if (base === 'image/jpg' || base === 'image/pjpeg') return 'jpeg';
  if (base === 'image/tif') return 'tiff';
  if (base === 'text/csv' || base === 'text/markdown' || base === 'text/x-log') return 'text';
  return null;
}
