/**
 * @module
 * A registration binding (RFC 3261 §10): REGISTER with our Contact, read the granted expiry from the Contact's
 * expires parameter or the Expires header (§10.2.4), refresh before it runs out with the same Call-ID and an
 * increasing CSeq, and remove the binding (Expires: 0) on stop.
 */
import { randomInt } from 'node:crypto';
import type { DigestCredentials } from './digest-auth.ts';
import { randomToken } from './random-token.ts';
import { createRequest, type SipRequest, type SipResponse } from './sip-message.ts';
import { SipRequestError } from './sip-request-error.ts';
import type { SipStack } from './sip-stack.ts';
import { formatUri, parseNameAddr, parseSipUri, parseUri, type Uri } from './sip-uri.ts';
import type { SipEndpoint, SipTransportProtocol } from './transport.ts';

export interface RegistrationOptions {
  /** Registrar Request-URI, e.g. sip:pbx.example.com:5060. */
  readonly registrar: string;
  /** Address of record, e.g. sip:fax1@example.com. */
  readonly aor: string;
  readonly credentials?: DigestCredentials;
  /** Requested expiry; default 3600 s. */
  readonly expiresS?: number;
  /** Called when a refresh fails; the registration stops refreshing. */
  readonly onError?: (error: SipRequestError) => void;
}

export interface RegistrationContext {
  readonly stack: SipStack;
  readonly userAgentHeader: string;
  contact(protocol: SipTransportProtocol): string;
  sendRequest(
    build: (authHeaders: ReadonlyArray<readonly [string, string]>) => SipRequest,
    destination: SipEndpoint,
    credentials?: DigestCredentials,
  ): Promise<SipResponse>;
  /** Destination and pre-loaded Route for a request outside any dialog (outbound proxy). */
  route(uri: Uri): Promise<{ destination: SipEndpoint; route: Array<readonly [string, string]> }>;
}

export class Registration {
  /** Expiry the registrar granted in the last successful REGISTER. */
  expiresS = 0;
  /** How many successful REGISTERs (initial and refreshes). */
  refreshCount = 0;
  readonly #callId = `${randomToken(20)}@reg`;
  readonly #fromTag = randomToken(10);
  #cseq = randomInt(1, 10000);
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    readonly options: RegistrationOptions,
    private readonly context: RegistrationContext,
  ) {}

  async start(): Promise<void> {
    await this.send(this.options.expiresS ?? 3600);
  }

  private async send(expires: number): Promise<void> {
    const registrar = parseSipUri(this.options.registrar);
    const { destination, route } = await this.context.route(registrar);
    const contact = this.context.contact(destination.protocol);
    const aor = formatUri(parseUri(this.options.aor));
    const response = await this.context.sendRequest(
      (auth) =>
        createRequest('REGISTER', formatUri(registrar), [
          ...route,
          ['Max-Forwards', '70'],
          ['From', `<${aor}>;tag=${this.#fromTag}`],
          ['To', `<${aor}>`],
          ['Call-ID', this.#callId],
          ['CSeq', `${this.#cseq++} REGISTER`],
          ['Contact', contact],
          ['Expires', String(expires)],
          ['User-Agent', this.context.userAgentHeader],
          ...auth,
        ]),
      destination,
      this.options.credentials,
    );
    if (response.status < 200 || response.status >= 300) {
      const code = response.status === 401 || response.status === 407 ? 'auth_failed' : 'rejected';
      throw new SipRequestError(code, 'REGISTER', response.status, response);
    }
    if (expires === 0) return;
    this.expiresS = this.grantedExpiry(response, contact, expires);
    this.refreshCount++;
    this.schedule();
  }

  private grantedExpiry(response: SipResponse, ourContact: string, requested: number): number {
    const ours = formatUri(parseNameAddr(ourContact).uri);
    for (const value of response.headers.getAll('contact')) {
      try {
        const c = parseNameAddr(value);
        const expires = c.params.get('expires');
        if (formatUri(c.uri) === ours && expires) return Number(expires);
      } catch {
        // Other bindings of the AOR may be in forms we do not need to read.
      }
    }
    const header = response.headers.get('expires');
    return header !== undefined && /^[0-9]+$/.test(header) ? Number(header) : requested;
  }

  private schedule(): void {
    if (this.#stopped) return;
    const ms = this.expiresS * 1000;
    // Refresh ahead of expiry: half-way for short bindings, 30 s ahead for long ones.
    const delay = Math.max(200, ms - Math.min(ms / 2, 30_000));
    this.#timer = setTimeout(() => {
      this.send(this.options.expiresS ?? 3600).catch((err: unknown) => {
        if (err instanceof SipRequestError) this.options.onError?.(err);
      });
    }, delay);
    this.#timer.unref();
  }

  /** Stops refreshing and removes the binding. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    try {
      await this.send(0);
    } catch {
      // The binding expires on its own if the registrar is gone.
    }
  }
}
