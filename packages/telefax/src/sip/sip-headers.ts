/**
 * @module
 * An ordered, case-insensitive SIP header list. Compact forms (RFC 3261 §7.3.3, plus those registered later) are
 * expanded on the way in; comma-separated values of list headers (§7.3.1) become one entry each, so `getAll('Via')`
 * returns every Via in order whether the peer folded them into one line or not.
 */

const COMPACT_FORMS: Readonly<Record<string, string>> = {
  a: 'accept-contact',
  b: 'referred-by',
  c: 'content-type',
  d: 'request-disposition',
  e: 'content-encoding',
  f: 'from',
  i: 'call-id',
  j: 'reject-contact',
  k: 'supported',
  l: 'content-length',
  m: 'contact',
  n: 'identity-info',
  o: 'event',
  r: 'refer-to',
  s: 'subject',
  t: 'to',
  u: 'allow-events',
  v: 'via',
  x: 'session-expires',
  y: 'identity',
};

const CANONICAL: Readonly<Record<string, string>> = {
  'call-id': 'Call-ID',
  cseq: 'CSeq',
  'www-authenticate': 'WWW-Authenticate',
  'mime-version': 'MIME-Version',
  'session-expires': 'Session-Expires',
  'min-se': 'Min-SE',
  'user-agent': 'User-Agent',
};

/** Headers whose values are comma-separated lists (RFC 3261 §7.3.1); Contact `*` is left whole. */
const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via',
  'route',
  'record-route',
  'contact',
  'allow',
  'supported',
  'require',
  'proxy-require',
  'unsupported',
  'accept',
  'accept-encoding',
  'accept-language',
  'content-encoding',
  'allow-events',
  'in-reply-to',
  'alert-info',
  'call-info',
  'error-info',
  'path',
  'service-route',
]);

/** Lower-case long name for a header name as written (compact forms expanded). */
export function headerKey(name: string): string {
  const lower = name.toLowerCase();
  return COMPACT_FORMS[lower] ?? lower;
}

/** The name we write for a header: well-known spellings, otherwise each dash-separated word capitalised. */
export function canonicalHeaderName(name: string): string {
  const key = headerKey(name);
  return (
    CANONICAL[key] ?? key.replace(/(^|-)([a-z])/g, (_, dash: string, ch: string) => dash + ch.toUpperCase())
  );
}

export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(headerKey(name));
}

/** Splits a list header value at commas outside quoted strings and <URIs>. */
export function splitHeaderList(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (inQuote) {
      if (ch === '\\') i++;
      else if (ch === '"') inQuote = false;
    } else if (ch === '"') inQuote = true;
    else if (ch === '<') inAngle = true;
    else if (ch === '>') inAngle = false;
    else if (ch === ',' && !inAngle) {
      parts.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(value.slice(start).trim());
  return parts.filter((p) => p !== '');
}

export class SipHeaders {
  readonly #entries: Array<{ key: string; name: string; value: string }> = [];

  constructor(init?: Iterable<readonly [string, string]>) {
    if (init) for (const [name, value] of init) this.append(name, value);
  }

  /** Number of header entries (after list splitting). */
  get size(): number {
    return this.#entries.length;
  }

  get(name: string): string | undefined {
    const key = headerKey(name);
    return this.#entries.find((e) => e.key === key)?.value;
  }

  getAll(name: string): string[] {
    const key = headerKey(name);
    return this.#entries.filter((e) => e.key === key).map((e) => e.value);
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.#entries.some((e) => e.key === key);
  }

  /** Appends a value; list headers are split into one entry per element. */
  append(name: string, value: string): this {
    const key = headerKey(name);
    const canonical = canonicalHeaderName(name);
    const values = LIST_HEADERS.has(key) && value.trim() !== '*' ? splitHeaderList(value) : [value.trim()];
    for (const v of values) this.#entries.push({ key, name: canonical, value: v });
    return this;
  }

  /** Inserts before all other entries of the same header (a new top Via or Record-Route). */
  prepend(name: string, value: string): this {
    const key = headerKey(name);
    const index = this.#entries.findIndex((e) => e.key === key);
    const entry = { key, name: canonicalHeaderName(name), value: value.trim() };
    if (index < 0) this.#entries.push(entry);
    else this.#entries.splice(index, 0, entry);
    return this;
  }

  /** Replaces every entry of this header with the given value(s), keeping the position of the first. */
  set(name: string, value: string | readonly string[]): this {
    const key = headerKey(name);
    const values = typeof value === 'string' ? [value] : value;
    const index = this.#entries.findIndex((e) => e.key === key);
    this.delete(name);
    const entries = values.map((v) => ({ key, name: canonicalHeaderName(name), value: v.trim() }));
    if (index < 0) this.#entries.push(...entries);
    else this.#entries.splice(index, 0, ...entries);
    return this;
  }

  /** Replaces the first entry of a header (e.g. the top Via after adding received/rport). */
  setFirst(name: string, value: string): this {
    const key = headerKey(name);
    const entry = this.#entries.find((e) => e.key === key);
    if (entry) entry.value = value;
    else this.append(name, value);
    return this;
  }

  delete(name: string): this {
    const key = headerKey(name);
    for (let i = this.#entries.length - 1; i >= 0; i--)
      if (this.#entries[i]!.key === key) this.#entries.splice(i, 1);
    return this;
  }

  /** Entries in order as [canonical name, value]. */
  *entries(): IterableIterator<[string, string]> {
    for (const e of this.#entries) yield [e.name, e.value];
  }

  clone(): SipHeaders {
    const copy = new SipHeaders();
    for (const e of this.#entries) copy.#entries.push({ ...e });
    return copy;
  }
}
