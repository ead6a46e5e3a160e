/**
 * @module
 * Identification frames CSI/TSI/CIG and the SUB/SID/PWD/SEP address fields: 20 characters, padded with spaces and
 * sent last character first (T.30 §5.3.6.2.4–§5.3.6.2.6).
 */

export const IDENT_LENGTH = 20;

/**
 * The FIF of an identification frame. Only printable ASCII is allowed (T.30 asks for digits, '+' and space; other
 * printable characters are tolerated by every engine we know); longer identifiers are truncated to 20 characters.
 */
export function encodeIdent(ident: string): Uint8Array {
  const out = new Uint8Array(IDENT_LENGTH).fill(0x20);
  const chars = [...ident].slice(0, IDENT_LENGTH);
  // The field is the identifier right-aligned in 20 characters, sent from its last character: so the octets are
  // the characters in reverse, then the padding (TSB-85 MRGN01's CSI).
  for (let i = 0; i < chars.length; i++) {
    const code = chars[chars.length - 1 - i].charCodeAt(0);
    out[i] = code >= 0x20 && code < 0x7f ? code : 0x20;
  }
  return out;
}

/** The identifier in reading order, leading and trailing spaces removed; non-printable octets become '?'. */
export function decodeIdent(fif: Uint8Array): string {
  let text = '';
  for (let i = Math.min(fif.length, IDENT_LENGTH) - 1; i >= 0; i--) {
    const code = fif[i];
    text += code >= 0x20 && code < 0x7f ? String.fromCharCode(code) : '?';
  }
  return text.trim();
}
