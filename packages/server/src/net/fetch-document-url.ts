/**
 * @module net/fetch-document-url
 * Fetches a document that a client named by URL. The server connects on the client's behalf, so the fetch
 * speaks only http and https, never reaches an address the outbound policy refuses (judged on every
 * resolved address at connect time, for the first request and for each redirect, so DNS rebinding gains
 * nothing), follows at most five redirects itself, gives up after a connect and a total timeout, and
 * streams the body to a temporary file that never grows past the document limit. What the bytes are is
 * sniffed; the server's Content-Type is only a hint.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, STATUS_CODES } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { ApiError } from '../api/errors.ts';
import { type DocumentKind, kindOfMediaType, sniffMediaType } from '../documents/sniff-media-type.ts';
import type { OutboundAddressPolicy } from './outbound-address-policy.ts';

export const MAX_REDIRECTS = 5;
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_FETCH_TIMEOUT_MS = 60_000;
/** Long enough for pre-signed URLs with session tokens. */
export const MAX_URL_LENGTH = 8192;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** As much of the start as sniffMediaType looks at. */
const SNIFF_BYTES = 8192;
const ACCEPT = 'application/pdf, image/tiff, image/png, image/jpeg, text/plain;q=0.8, */*;q=0.1';

export interface FetchDocumentOptions {
  readonly policy: OutboundAddressPolicy;
  /** Where the body is written. */
  readonly tmpDir: string;
  readonly maxBytes: number;
  /** Per connection (each redirect opens one): name resolution and TCP connect. */
  readonly connectTimeoutMs?: number;
  /** The whole fetch: every redirect and the body. */
  readonly timeoutMs?: number;
  /** Stops the fetch, e.g. because another document of the same fax already failed. */
  readonly signal?: AbortSignal;
}

export interface FetchedDocument {
  /** A temporary file holding the body; the caller removes it. */
  readonly path: string;
  readonly byteSize: number;
  readonly sha256: string;
  readonly kind: DocumentKind;
  /** What the server declared (a hint for the renderer, which trusts the bytes). */
  readonly contentType: string | undefined;
  /** The last segment of the URL's path, when it has one. */
  readonly filename: string | null;
  /** Where the document was found, after redirects. */
  readonly url: string;
}

/** Thrown by the guarded lookup; carries the address the policy refused. */
class BlockedAddressError extends Error {
  readonly code = 'EADDRBLOCKED';
  constructor(
    readonly hostname: string,
    readonly address: string | null,
  ) {
    super(`${hostname} resolves to ${address ?? 'no address'}, which the outbound policy refuses`);
  }
}

class ConnectTimeoutError extends Error {
  readonly code = 'ECONNECTTIMEOUT';
}

class TooLargeError extends Error {
  readonly code = 'EDOCUMENTTOOLARGE';
}

/**
 * Parses and checks a document URL without touching the network: absolute http(s), no credentials, and a
 * literal IP address the policy allows (a host name is judged once resolved, at connect time).
 * @throws ApiError document_url_invalid, document_url_forbidden
 */
export function checkDocumentUrl(text: string, policy: OutboundAddressPolicy, redirect?: number): URL {
  const via =
    redirect === undefined
      ? 'The document URL'
      : `The document URL redirects (hop ${redirect}) to a URL that`;
  const where = redirect === undefined ? {} : { redirect };
  if (text.length > MAX_URL_LENGTH) {
    throw new ApiError(
      'document_url_invalid',
      `${via} is ${text.length} characters long, more than the ${MAX_URL_LENGTH} allowed; give a shorter URL.`,
      { ...where, reason: 'length', maxLength: MAX_URL_LENGTH },
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ApiError(
      'document_url_invalid',
      `${via} is not an absolute URL; give one such as https://example.com/invoice.pdf.`,
      { ...where, reason: 'format' },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ApiError(
      'document_url_invalid',
      `${via} uses ${url.protocol.slice(0, 20)}, but only http: and https: URLs are fetched.`,
      { ...where, reason: 'scheme', scheme: url.protocol.slice(0, 20) },
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new ApiError(
      'document_url_invalid',
      `${via} carries a user name or password, which is not accepted; ` +
        'leave them out (a pre-signed URL with its token in the query string works).',
      { ...where, reason: 'credentials' },
    );
  }
  // A literal address never goes through the lookup, so it is judged here.
  const host = hostOf(url);
  if (isIP(host) && !policy.allows(host)) throw forbidden(host, host, redirect);
  return url;
}

/**
 * Fetches `text` into a temporary file under `options.tmpDir`. On every failure the file is gone again.
 * @throws ApiError document_url_invalid, document_url_forbidden, document_fetch_failed,
 *   document_fetch_timeout, document_too_large, unsupported_media_type, invalid_document
 */
export async function fetchDocumentUrl(
  text: string,
  options: FetchDocumentOptions,
): Promise<FetchedDocument> {
  const first = checkDocumentUrl(text, options.policy);
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  const signal = options.signal ? AbortSignal.any([deadline.signal, options.signal]) : deadline.signal;
  let url = first;
  let hop = 0;
  let path: string | null = null;
  let sink: WriteStream | null = null;
  try {
    const visited = new Set<string>([withoutHash(url)]);
    let res: IncomingMessage;
    for (;;) {
      res = await openResponse(url, options.policy, connectTimeoutMs, signal);
      const status = res.statusCode ?? 0;
      if (!REDIRECT_STATUSES.has(status)) break;
      res.destroy();
      const location = res.headers.location;
      if (!location) {
        throw new ApiError(
          'document_fetch_failed',
          `The server at ${url.host} answered ${status} (a redirect) without saying where to; give the document's final URL.`,
          { reason: 'redirect_without_location', status, host: url.host },
        );
      }
      hop += 1;
      if (hop > MAX_REDIRECTS) {
        throw new ApiError(
          'document_fetch_failed',
          `The document URL redirects more than ${MAX_REDIRECTS} times; give the document's final URL instead.`,
          { reason: 'too_many_redirects', maxRedirects: MAX_REDIRECTS },
        );
      }
      let next: string;
      try {
        next = new URL(location, url).href;
      } catch {
        next = location;
      }
      url = checkDocumentUrl(next, options.policy, hop);
      if (visited.has(withoutHash(url))) {
        throw new ApiError(
          'document_fetch_failed',
          `The document URL redirects in a loop (hop ${hop} returns to ${url.host}${url.pathname.slice(0, 200)}); ` +
            "fix the server's redirects or give the document's final URL.",
          { reason: 'redirect_loop', redirect: hop },
        );
      }
      visited.add(withoutHash(url));
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status >= 300 || status === 204 || status === 205) {
      res.destroy();
      const phrase = STATUS_CODES[status] ?? '';
      throw new ApiError(
        'document_fetch_failed',
        `The server at ${url.host} answered ${status}${phrase ? ` ${phrase}` : ''} instead of the document; ` +
          'check that the URL is right and that the file is reachable without logging in.',
        { reason: 'http_status', status, host: url.host, ...(hop > 0 ? { redirects: hop } : {}) },
      );
    }
    const declaredLength = Number(res.headers['content-length']);
    const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    // A compressed body's length says nothing about the document's; the counter below still applies.
    if (encoding === 'identity' && Number.isFinite(declaredLength) && declaredLength > options.maxBytes) {
      res.destroy();
      throw new ApiError(
        'document_too_large',
        `The document at the URL is ${declaredLength} bytes (its Content-Length), more than the ${options.maxBytes}-byte limit; ` +
          'send a smaller document or split it.',
        { maxBytes: options.maxBytes, contentLength: declaredLength },
      );
    }
    const decoder = decoderFor(encoding);
    if (decoder === undefined) {
      res.destroy();
      throw new ApiError(
        'document_fetch_failed',
        `The server at ${url.host} sent the document with Content-Encoding "${encoding.slice(0, 40)}", which is not understood; ` +
          'serve it uncompressed or with gzip, deflate or br.',
        { reason: 'content_encoding', contentEncoding: encoding.slice(0, 40) },
      );
    }

    await mkdir(options.tmpDir, { recursive: true });
    path = join(options.tmpDir, `fetch-${randomBytes(12).toString('hex')}`);
    const hash = createHash('sha256');
    const head: Buffer[] = [];
    let headBytes = 0;
    let byteSize = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        byteSize += chunk.length;
        if (byteSize > options.maxBytes) return done(new TooLargeError('over the limit'));
        hash.update(chunk);
        if (headBytes < SNIFF_BYTES) {
          head.push(chunk.subarray(0, SNIFF_BYTES - headBytes));
          headBytes += Math.min(chunk.length, SNIFF_BYTES - headBytes);
        }
        done(null, chunk);
      },
    });
    sink = createWriteStream(path, { mode: 0o600 });
    await (decoder
      ? pipeline(res, decoder, counter, sink, { signal })
      : pipeline(res, counter, sink, { signal }));

    if (byteSize === 0) {
      throw new ApiError(
        'invalid_document',
        'The document URL returned an empty body; check that it points at the file itself.',
        { reason: 'empty' },
      );
    }
    const contentType = res.headers['content-type']?.slice(0, 100);
    const kind = sniffMediaType(Buffer.concat(head));
    // Plain text is only believed when the server does not call it something else (an HTML page, JSON).
    const declared = kindOfMediaType(contentType);
    const genericType =
      contentType === undefined || /^\s*(application|binary)\/octet-stream\s*(;|$)/i.test(contentType);
    if (kind === null || (kind === 'text' && declared !== 'text' && !genericType)) {
      throw new ApiError(
        'unsupported_media_type',
        `The document URL served ${contentType ? contentType.split(';')[0]!.trim() : 'content'} that is not PDF, TIFF, PNG, JPEG or plain text; ` +
          'link the file itself, not a web page about it.',
        { ...(contentType ? { contentType } : {}) },
      );
    }
    return {
      path,
      byteSize,
      sha256: hash.digest('hex'),
      kind,
      contentType,
      filename: filenameOf(first),
      url: url.href,
    };
  } catch (error) {
    let failure: unknown;
    if (error instanceof ApiError) failure = error;
    else if (deadline.signal.aborted) {
      failure = new ApiError(
        'document_fetch_timeout',
        `Fetching the document took longer than ${timeoutMs} ms; serve it faster or send the file itself.`,
        { phase: 'total', timeoutMs },
      );
    } else if (options.signal?.aborted) failure = options.signal.reason;
    else if (error instanceof TooLargeError) {
      failure = new ApiError(
        'document_too_large',
        `The document at the URL is larger than the ${options.maxBytes}-byte limit; send a smaller document or split it.`,
        { maxBytes: options.maxBytes },
      );
    } else failure = toFetchError(error, url, hop, connectTimeoutMs);
    // The file is opened asynchronously: an error can come before the open does, and the file would
    // then appear after it was removed. Wait for the stream to let go of it first.
    if (sink && !sink.closed) await new Promise<void>((resolve) => sink!.once('close', () => resolve()));
    if (path !== null) await rm(path, { force: true });
    throw failure;
  } finally {
    clearTimeout(timer);
  }
}

/** Sends a GET and resolves with the response head; the body is the caller's to read or destroy. */
function openResponse(
  url: URL,
  policy: OutboundAddressPolicy,
  connectTimeoutMs: number,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method: 'GET',
        headers: {
          accept: ACCEPT,
          'accept-encoding': 'gzip, deflate, br',
          'user-agent': 'Faxwire-Documents/1',
        },
        lookup: guardedLookup(policy) as never,
        // A fresh socket per hop, so every connection goes through the lookup above.
        agent: false,
        signal,
      },
      (res) => {
        clearTimeout(connectTimer);
        resolve(res);
      },
    );
    const connectTimer = setTimeout(
      () => req.destroy(new ConnectTimeoutError(`no connection within ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );
    req.once('socket', (socket) => {
      if (!socket.connecting) clearTimeout(connectTimer);
      else socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.once('error', (error) => {
      clearTimeout(connectTimer);
      reject(error);
    });
    req.end();
  });
}

/**
 * The lookup node:http calls when it connects: resolves every address of the name and refuses the
 * connection when the policy refuses any of them, keeping that address for the error.
 */
function guardedLookup(policy: OutboundAddressPolicy) {
  return (
    hostname: string,
    options: unknown,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const all =
      typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    dnsLookup(hostname, { all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const refused = addresses.find((a) => !policy.allows(a.address));
      if (refused || addresses.length === 0) {
        return callback(new BlockedAddressError(hostname, refused?.address ?? null), '');
      }
      if (all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

function toFetchError(error: unknown, url: URL, hop: number, connectTimeoutMs: number): ApiError {
  const where = hop > 0 ? { redirect: hop } : {};
  if (error instanceof BlockedAddressError) return forbidden(error.hostname, error.address, hop || undefined);
  if (error instanceof ConnectTimeoutError) {
    return new ApiError(
      'document_fetch_timeout',
      `Connecting to ${url.host} took longer than ${connectTimeoutMs} ms; check that the server is up and publicly reachable.`,
      { ...where, phase: 'connect', timeoutMs: connectTimeoutMs, host: url.host },
    );
  }
  const code = String((error as NodeJS.ErrnoException).code ?? '');
  if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') {
    return new ApiError(
      'document_fetch_failed',
      `The host ${url.hostname} does not resolve (${code}); check the URL's spelling.`,
      { ...where, reason: 'dns', host: url.hostname, errorCode: code },
    );
  }
  if (code === 'ECONNREFUSED') {
    return new ApiError(
      'document_fetch_failed',
      `The server at ${url.host} refused the connection; check the URL's host and port.`,
      { ...where, reason: 'connection_refused', host: url.host },
    );
  }
  if (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    /CERT|SELF_SIGNED|UNABLE_TO_/.test(code)
  ) {
    return new ApiError(
      'document_fetch_failed',
      `The TLS connection to ${url.host} failed (${code}); the server needs a valid certificate for its name.`,
      { ...where, reason: 'tls', host: url.host, errorCode: code },
    );
  }
  // zlib reports Z_DATA_ERROR and the like; brotli's codes come out as ERR__ERROR_FORMAT_….
  if (code.startsWith('Z_') || code.startsWith('ERR__')) {
    return new ApiError(
      'document_fetch_failed',
      `The server at ${url.host} sent a compressed body that does not decompress (${code}); serve the file uncompressed.`,
      { ...where, reason: 'content_encoding', host: url.host, errorCode: code },
    );
  }
  return new ApiError(
    'document_fetch_failed',
    `The connection to ${url.host} failed (${code || 'no response'}) before the whole document arrived; ` +
      'try again, or check the server.',
    { ...where, reason: 'network', host: url.host, ...(code ? { errorCode: code } : {}) },
  );
}

function forbidden(host: string, address: string | null, redirect?: number): ApiError {
  const hop = redirect === undefined ? '' : ` (after ${redirect} redirect${redirect === 1 ? '' : 's'})`;
  const what = host === address ? host : `${host}, which resolves to ${address ?? 'no address'}`;
  return new ApiError(
    'document_url_forbidden',
    `The document URL${hop} leads to ${what}: a private, loopback, link-local or reserved address the server may not fetch from. ` +
      'Use a publicly reachable URL, or add that network to FAXWIRE_FETCH_ALLOW_NETS (comma-separated CIDRs) and restart the server.',
    { host, address, ...(redirect === undefined ? {} : { redirect }) },
  );
}

function decoderFor(encoding: string): Transform | null | undefined {
  if (encoding === 'identity' || encoding === '') return null;
  if (encoding === 'gzip' || encoding === 'x-gzip') return createGunzip();
  if (encoding === 'deflate') return createInflate();
  if (encoding === 'br') return createBrotliDecompress();
  return undefined;
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

function withoutHash(url: URL): string {
  return url.href.replace(/#.*$/, '');
}

function filenameOf(url: URL): string | null {
  const last = url.pathname.split('/').at(-1) ?? '';
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  name = name.replace(/[\x00-\x1f\x7f]/g, '').trim();
  return name === '' ? null : name.slice(0, 255);
}
