/**
 * @module domain/media-keys
 * Where a fax's documents and pages live in the blob store. Every blob of a fax sits in a directory
 * shared by all faxes created in the same ~17-minute window (taken from the time in the fax id), as
 * `media/<window>/<faxId>.<part>`: a directory per fax would cost each new fax a directory, two
 * directory fsyncs and a new inode (three times the file-system work of the document itself), while
 * concurrent writes into one shared directory share its fsync. Rows hold the keys; nothing lists a
 * fax's blobs by prefix except deletion, which also reads the keys from the rows.
 */

/** Blobs of faxes stored before media windows existed: `faxes/<faxId>/…`. */
export function legacyFaxPrefix(faxId: string): string {
  return `faxes/${faxId}/`;
}

/**
 * The fax's window: the id's millisecond time (10 base-32 digits after `fax_`) without its last four
 * digits, so one window spans 32⁴ ms ≈ 17.5 minutes.
 */
function windowOf(faxId: string): string {
  const time = /^[a-z]+_([0-9a-z]{10})/.exec(faxId)?.[1];
  if (!time) throw new RangeError(`not a fax id: ${JSON.stringify(faxId)}`);
  return time.slice(0, 6);
}

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const WINDOW_MS = 32 ** 4;

/** The window of a millisecond time, as the first six base-32 digits of an id made then. */
function windowAt(ms: number): string {
  let w = '';
  let t = Math.floor(Math.max(0, ms) / WINDOW_MS);
  for (let i = 0; i < 6; i++) {
    w = ALPHABET[t % 32] + w;
    t = Math.floor(t / 32);
  }
  return w;
}

/** The media directories of faxes made from `since` to `until` (`media/<window>/`), oldest first. */
export function mediaPrefixesBetween(since: number, until: number): string[] {
  const prefixes: string[] = [];
  for (let t = Math.floor(since / WINDOW_MS) * WINDOW_MS; t <= until; t += WINDOW_MS) {
    prefixes.push(`media/${windowAt(t)}/`);
  }
  return prefixes;
}

export function faxMediaPrefix(faxId: string): string {
  return `media/${windowOf(faxId)}/${faxId}.`;
}

export function documentBlobKey(faxId: string, documentId: string): string {
  return `${faxMediaPrefix(faxId)}${documentId}`;
}

/** Page `n` (1-based): received pages of an inbound fax, rendered pages of an outbound one. */
export function pageBlobKey(faxId: string, n: number): string {
  return `${faxMediaPrefix(faxId)}p${String(n).padStart(4, '0')}`;
}
