/**
 * @module
 * The SIP user agent: UAC and UAS cores (RFC 3261 §8) over {@link SipStack}. It places and answers INVITEs
 * (with CANCEL, §9, including a CANCEL that loses the race to a 200: ACK then BYE), answers OPTIONS (§11),
 * registers (§10, via {@link Registration}), retries digest challenges once each (§22.2–22.3), negotiates session
 * timers (RFC 4028), and keeps its state bounded: over `maxDialogs` a new INVITE gets 503.
 */
import { randomInt } from 'node:crypto';
import { Dialog, type DialogContext, type RequestHooks } from './dialog.ts';
import {
  buildAuthorization,
  type DigestChallenge,
  type DigestCredentials,
  isSupportedAlgorithm,
  parseDigestChallenge,
} from './digest-auth.ts';
import { IncomingInvite, type InviteAnswerer } from './incoming-invite.ts';
import { OutgoingInvite } from './outgoing-invite.ts';
import { randomToken } from './random-token.ts';
import { Registration, type RegistrationOptions } from './registration.ts';
import { parseCSeq, parseDeltaSeconds } from './sip-header-values.ts';
import {
  createRequest,
  createResponse,
  fromOf,
  type ResponseOptions,
  type SipRequest,
  type SipResponse,
  sdpBodyOf,
  tagOf,
  toOf,
} from './sip-message.ts';
import { SipRequestError } from './sip-request-error.ts';
import { SipStack, type SipStackOptions } from './sip-stack.ts';
import {
  formatNameAddr,
  formatUri,
  isSipUri,
  type NameAddr,
  parseNameAddr,
  parseSipUri,
  parseUri,
  type Uri,
} from './sip-uri.ts';
import type { ServerTransaction } from './transactions/server-transaction.ts';
import type { SipEndpoint, SipTransportProtocol } from './transport.ts';

export const ALLOWED_METHODS = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO';
const SUPPORTED_EXTENSIONS = ['timer'];

export interface UserAgentOptions extends SipStackOptions {
  /** User-Agent header value. */
  readonly userAgent?: string;
  /** User part of our Contact and default From. */
  readonly contactUser?: string;
  /**
   * Outbound proxy for requests outside dialogs, e.g. sip:sbc.carrier.example:5060;transport=tcp. It becomes a
   * pre-loaded Route (RFC 3261 §8.1.2); in-dialog requests then follow the Record-Route the proxy inserted.
   */
  readonly outboundProxy?: string;
  /** Credentials for digest challenges to our requests. */
  readonly credentials?: DigestCredentials | readonly DigestCredentials[];
  readonly maxDialogs?: number;
  /** RFC 3261 §14.1 back-off after 491: 2.1–4 s when we own the Call-ID, 0–2 s otherwise. */
  readonly glareBackoffMs?: {
    readonly owner: readonly [number, number];
    readonly other: readonly [number, number];
  };
  /** Session-Expires we ask for in INVITEs (RFC 4028); 0 disables. Default 1800 s. */
  readonly sessionExpiresS?: number;
  /** Smallest session interval we accept or use (RFC 4028 Min-SE). Default 90 s. */
  readonly minSessionExpiresS?: number;
  /** Backstop for every dialog: BYE after this long. Default 4 h. */
  readonly maxDialogDurationMs?: number;
  /** An incoming INVITE the application leaves unanswered this long gets 480. Default 120 s. */
  readonly unansweredInviteTimeoutMs?: number;
}

export interface InviteOptions {
  /** SDP offer. */
  readonly sdp: string;
  /** Our identity (From URI); default sip:<contactUser>@<host>. */
  readonly from?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  /** CANCEL when no final response arrives in time. Default 180 s. */
  readonly noAnswerTimeoutMs?: number;
  readonly credentials?: DigestCredentials | readonly DigestCredentials[];
  /** Called as soon as the dialog exists, before the ACK is sent, so handlers are in place for the first re-INVITE. */
  readonly onDialog?: (dialog: Dialog) => void;
}

const localTimeouts = new WeakSet<SipResponse>();

/** True when the response was made up locally because the transaction timed out (RFC 3261 §8.1.3.1). */
export function isLocalTimeout(response: SipResponse): boolean {
  return localTimeouts.has(response);
}

function withoutTag(value: NameAddr): string {
  const params = new Map([...value.params].filter(([name]) => name !== 'tag'));
  return formatNameAddr({ ...value, params });
}

function credentialList(
  c: DigestCredentials | readonly DigestCredentials[] | undefined,
): DigestCredentials[] {
  if (c === undefined) return [];
  return Array.isArray(c) ? [...c] : [c as DigestCredentials];
}

export class UserAgent implements InviteAnswerer {
  readonly stack: SipStack;
  readonly userAgentHeader: string;
  /** New calls. Without a handler INVITEs get 480. */
  onInvite: ((invite: IncomingInvite) => void) | undefined;
  /**
   * Out-of-dialog requests other than INVITE/OPTIONS/CANCEL (REGISTER to a test registrar, MESSAGE…). Without a
   * handler they get 405.
   */
  onRequest:
    | ((request: SipRequest, respond: (status: number, options?: ResponseOptions) => void) => void)
    | undefined;
  readonly #dialogs = new Map<string, Dialog>();
  readonly #pendingInvites = new Map<ServerTransaction, IncomingInvite>();
  readonly #options: UserAgentOptions;
  readonly #contactUser: string;
  #closed = false;

  private constructor(stack: SipStack, options: UserAgentOptions) {
    this.stack = stack;
    this.#options = options;
    this.userAgentHeader = options.userAgent ?? 'telefax';
    this.#contactUser = options.contactUser ?? 'telefax';
    stack.setUser({
      onRequest: (request, tx, source) => this.receiveRequest(request, tx, source),
      onStrayResponse: (response) => this.receiveStrayResponse(response),
    });
  }

  static async create(options: UserAgentOptions): Promise<UserAgent> {
    return new UserAgent(await SipStack.create(options), options);
  }

  get dialogCount(): number {
    return this.#dialogs.size;
  }

  get dialogs(): Dialog[] {
    return [...this.#dialogs.values()];
  }

  /** Our Contact for a transport (RFC 3261 §8.1.1.8), with transport=tcp so the peer reaches us the same way. */
  contact(protocol: SipTransportProtocol): string {
    const transport = protocol === 'UDP' ? '' : `;transport=${protocol.toLowerCase()}`;
    return `<sip:${this.#contactUser}@${this.hostPort(protocol)}${transport}>`;
  }

  private hostPort(protocol: SipTransportProtocol): string {
    return `${this.uriHost}:${this.stack.port(protocol)}`;
  }

  /** Our host as written in a URI (IPv6 in brackets, RFC 3261 §19.1.1). */
  get uriHost(): string {
    return this.stack.host.includes(':') ? `[${this.stack.host}]` : this.stack.host;
  }

  glareBackoffMs(ownsCallId: boolean): number {
    const ranges = this.#options.glareBackoffMs ?? { owner: [2100, 4000], other: [0, 2000] };
    const [min, max] = ownsCallId ? ranges.owner : ranges.other;
    return min + Math.random() * (max - min);
  }

  private dialogContext(): DialogContext {
    return {
      stack: this.stack,
      userAgentHeader: this.userAgentHeader,
      contact: (p) => this.contact(p),
      sendRequest: (build, destination, hooks) => this.sendRequest(build, destination, hooks),
      glareBackoffMs: (owns) => this.glareBackoffMs(owns),
      minSessionExpiresS: this.#options.minSessionExpiresS ?? 90,
      forget: (dialog) => {
        if (this.#dialogs.get(dialog.id) === dialog) this.#dialogs.delete(dialog.id);
      },
    };
  }

  /**
   * Sends a request in a client transaction and resolves with its final response. 401/407 are answered once per
   * realm (a second challenge that is not stale means the credentials are wrong, RFC 3261 §22.2); a timeout
   * resolves as a locally made 408. `build` is called for every attempt and must use a new CSeq each time.
   */
  async sendRequest(
    build: (authHeaders: ReadonlyArray<readonly [string, string]>) => SipRequest,
    destination: SipEndpoint,
    hooks: RequestHooks = {},
    credentials?: DigestCredentials | readonly DigestCredentials[],
  ): Promise<SipResponse> {
    const creds = credentialList(credentials ?? this.#options.credentials);
    const answered = new Set<string>();
    let auth: Array<readonly [string, string]> = [];
    for (let attempt = 0; ; attempt++) {
      const request = build(auth);
      const response = await this.transact(request, destination, hooks);
      if ((response.status !== 401 && response.status !== 407) || attempt >= 4 || creds.length === 0)
        return response;
      const isProxy = response.status === 407;
      const challenges: DigestChallenge[] = [];
      for (const value of response.headers.getAll(isProxy ? 'proxy-authenticate' : 'www-authenticate')) {
        try {
          const c = parseDigestChallenge(value);
          if (isSupportedAlgorithm(c.algorithm)) challenges.push(c);
        } catch {
          // Skip challenges in schemes or forms we do not speak.
        }
      }
      // RFC 8760 §2.4: prefer the strongest algorithm offered.
      challenges.sort(
        (a, b) => Number(b.algorithm.startsWith('SHA')) - Number(a.algorithm.startsWith('SHA')),
      );
      const next: Array<readonly [string, string]> = [];
      const realms = new Set<string>();
      for (const c of challenges) {
        if (realms.has(c.realm)) continue;
        const cred = creds.find((x) => x.realm === undefined || x.realm === c.realm);
        // §22.2: credentials rejected for a realm are not sent again unless the server says the nonce was stale.
        if (!cred || (answered.has(c.realm) && !c.stale)) continue;
        answered.add(c.realm);
        realms.add(c.realm);
        const header = buildAuthorization(c, cred, {
          method: request.method,
          uri: request.uri,
          body: request.body,
        });
        next.push([isProxy ? 'Proxy-Authorization' : 'Authorization', header]);
      }
      if (next.length === 0) return response;
      auth = next;
    }
  }

  private transact(request: SipRequest, destination: SipEndpoint, hooks: RequestHooks): Promise<SipResponse> {
    return new Promise((resolve) => {
      let done = false;
      this.stack.sendRequest(request, destination, {
        onResponse: (response) => {
          if (response.status < 200) {
            hooks.onProvisional?.(response);
            return;
          }
          if (done) {
            if (response.status < 300) hooks.onRetransmitted2xx?.(response);
            return;
          }
          done = true;
          resolve(response);
        },
        onTimeout: () => {
          if (done) return;
          done = true;
          const timeout = createResponse(request, 408);
          localTimeouts.add(timeout);
          resolve(timeout);
        },
      });
      hooks.onSent?.(request, destination);
    });
  }

  /** Where an out-of-dialog request goes, and the Route header that sends it through the outbound proxy. */
  async outOfDialogRoute(
    uri: Uri,
  ): Promise<{ destination: SipEndpoint; route: Array<readonly [string, string]> }> {
    const proxy = this.#options.outboundProxy;
    if (proxy === undefined) return { destination: await this.stack.resolve(uri), route: [] };
    const proxyUri = parseSipUri(proxy);
    const params = new Map(proxyUri.params);
    params.set('lr', null);
    return {
      destination: await this.stack.resolve(proxyUri),
      route: [['Route', `<${formatUri({ ...proxyUri, params })}>`]],
    };
  }

  /** Sends an out-of-dialog non-INVITE request (OPTIONS, MESSAGE…) and resolves with the final response. */
  async request(
    method: string,
    target: string,
    options: { body?: string; contentType?: string; headers?: ReadonlyArray<readonly [string, string]> } = {},
  ): Promise<SipResponse> {
    const uri = parseUri(target);
    const { destination, route } = await this.outOfDialogRoute(uri);
    const callId = `${randomToken(20)}@${this.uriHost}`;
    const fromTag = randomToken(10);
    let cseq = randomInt(1, 10000);
    const from = `<sip:${this.#contactUser}@${this.uriHost}>;tag=${fromTag}`;
    return this.sendRequest((auth) => {
      const headers: Array<readonly [string, string]> = [
        ...route,
        ['Max-Forwards', '70'],
        ['From', from],
        ['To', `<${formatUri(uri)}>`],
        ['Call-ID', callId],
        ['CSeq', `${cseq++} ${method}`],
        ['User-Agent', this.userAgentHeader],
        ...(options.headers ?? []),
        ...auth,
      ];
      if (options.body !== undefined)
        headers.push(['Content-Type', options.contentType ?? 'application/sdp']);
      return createRequest(method, formatUri(uri), headers, options.body);
    }, destination);
  }

  options(target: string): Promise<SipResponse> {
    return this.request('OPTIONS', target, { headers: [['Accept', 'application/sdp']] });
  }

  /** Registers a contact and keeps refreshing it until `stop()`. Rejects when the first REGISTER fails. */
  async register(options: RegistrationOptions): Promise<Registration> {
    const registration = new Registration(options, {
      stack: this.stack,
      userAgentHeader: this.userAgentHeader,
      contact: (p) => this.contact(p),
      sendRequest: (build, destination, creds) => this.sendRequest(build, destination, {}, creds),
      route: (uri) => this.outOfDialogRoute(uri),
    });
    await registration.start();
    return registration;
  }

  /** Places a call: INVITE with an SDP offer; `dialog` resolves after the 2xx has been ACKed. */
  invite(target: string, options: InviteOptions): OutgoingInvite {
    const callId = `${randomToken(20)}@${this.uriHost}`;
    return new OutgoingInvite(
      callId,
      (self) => this.runInvite(self, target, options),
      (invite, destination) => this.sendCancel(invite, destination),
    );
  }

  private async runInvite(self: OutgoingInvite, target: string, options: InviteOptions): Promise<Dialog> {
    if (this.#closed) throw new SipRequestError('closed', 'INVITE');
    let uri: Uri;
    let destination: SipEndpoint;
    let route: Array<readonly [string, string]>;
    try {
      uri = parseUri(target);
      ({ destination, route } = await this.outOfDialogRoute(uri));
    } catch {
      throw new SipRequestError('unroutable', 'INVITE');
    }
    const localTag = randomToken(10);
    const localUri = `<${options.from ?? `sip:${this.#contactUser}@${this.uriHost}`}>`;
    const remoteUri = `<${formatUri(uri)}>`;
    let cseq = randomInt(1, 10000);
    let sessionExpires = this.#options.sessionExpiresS ?? 1800;
    const noAnswer = setTimeout(() => self.cancel(), options.noAnswerTimeoutMs ?? 180_000).unref();
    let dialog: Dialog | undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        const response = await this.sendRequest(
          (auth) => {
            const headers: Array<readonly [string, string]> = [
              ...route,
              ['Max-Forwards', '70'],
              ['From', `${localUri};tag=${localTag}`],
              ['To', remoteUri],
              ['Call-ID', self.callId],
              ['CSeq', `${cseq++} INVITE`],
              ['Contact', this.contact(destination.protocol)],
              ['Allow', ALLOWED_METHODS],
              ['Supported', SUPPORTED_EXTENSIONS.join(', ')],
              ['User-Agent', this.userAgentHeader],
            ];
            if (sessionExpires > 0) {
              const minSe = String(this.#options.minSessionExpiresS ?? 90);
              headers.push(['Session-Expires', String(sessionExpires)], ['Min-SE', minSe]);
            }
            headers.push(...(options.headers ?? []), ...auth, ['Content-Type', 'application/sdp']);
            return createRequest('INVITE', formatUri(uri), headers, options.sdp);
          },
          destination,
          {
            onSent: (request, dest) => {
              self.current = { request, destination: dest };
              self.provisionalSeen = false;
            },
            onProvisional: (r) => {
              self.provisionalSeen = true;
              self.maybeSendCancel();
              self.onProvisional?.(r);
            },
            onRetransmitted2xx: (r) => {
              if (!dialog) return;
              if (tagOf(toOf(r)) === dialog.remoteTag) {
                dialog.resendAck(r);
                return;
              }
              // A 2xx from another fork (RFC 3261 §13.2.2.4): we keep one call, so ACK and end the other.
              if (this.findDialog(self.callId, localTag, tagOf(toOf(r)))) return;
              const extra = this.createUacDialog(r, {
                callId: self.callId,
                localTag,
                localUri,
                remoteUri,
                protocol: destination.protocol,
                sdp: options.sdp,
              });
              void extra
                .ack(parseCSeq(r.headers.get('cseq')!).seq)
                .then(() => extra.bye('local-bye'))
                .catch(() => extra.terminate('request-failed'));
            },
          },
          options.credentials,
        );
        if (response.status === 422 && attempt === 0) {
          // RFC 4028 §7.4: retry with the peer's Min-SE.
          const minSe = response.headers.get('min-se');
          if (minSe !== undefined) {
            sessionExpires = Math.max(sessionExpires, parseDeltaSeconds(minSe).seconds);
            continue;
          }
        }
        if (response.status >= 300) {
          if (self.cancelRequested && (response.status === 487 || isLocalTimeout(response))) {
            throw new SipRequestError('cancelled', 'INVITE', response.status);
          }
          if (isLocalTimeout(response)) throw new SipRequestError('timeout', 'INVITE', 408, response);
          const code = response.status === 401 || response.status === 407 ? 'auth_failed' : 'rejected';
          throw new SipRequestError(code, 'INVITE', response.status, response);
        }
        dialog = this.createUacDialog(response, {
          callId: self.callId,
          localTag,
          localUri,
          remoteUri,
          protocol: destination.protocol,
          sdp: options.sdp,
        });
        if (!self.cancelRequested) options.onDialog?.(dialog);
        try {
          await dialog.ack(parseCSeq(response.headers.get('cseq')!).seq);
        } catch {
          // The Contact or Record-Route of the 2xx cannot be reached: the call cannot be confirmed.
          dialog.terminate('request-failed');
          throw new SipRequestError('unroutable', 'INVITE', response.status, response);
        }
        if (self.cancelRequested) {
          // The 200 crossed our CANCEL (RFC 3261 §9.1): the call exists now, so end it properly.
          await dialog.bye('local-bye');
          throw new SipRequestError('cancelled', 'INVITE', 200);
        }
        dialog.applySessionTimerFromResponse(response);
        dialog.setMaxDuration(this.#options.maxDialogDurationMs ?? 4 * 3600_000);
        return dialog;
      }
    } finally {
      clearTimeout(noAnswer);
    }
  }

  private createUacDialog(
    response: SipResponse,
    init: {
      callId: string;
      localTag: string;
      localUri: string;
      remoteUri: string;
      protocol: SipTransportProtocol;
      sdp: string;
    },
  ): Dialog {
    const contact = response.headers.get('contact');
    const remoteTarget = contact ? formatUri(parseNameAddr(contact).uri) : init.remoteUri.slice(1, -1);
    const dialog = new Dialog(
      {
        callId: init.callId,
        localTag: init.localTag,
        remoteTag: tagOf(toOf(response)) ?? '',
        localUri: init.localUri,
        remoteUri: init.remoteUri,
        remoteTarget,
        // §12.1.2: the UAC's route set is the Record-Route of the response, reversed.
        routeSet: response.headers.getAll('record-route').reverse(),
        localSeq: parseCSeq(response.headers.get('cseq')!).seq,
        isUac: true,
        protocol: init.protocol,
        localSdp: init.sdp,
        ...(sdpBodyOf(response) !== undefined ? { remoteSdp: sdpBodyOf(response)! } : {}),
      },
      this.dialogContext(),
    );
    this.#dialogs.set(dialog.id, dialog);
    return dialog;
  }

  private sendCancel(invite: SipRequest, destination: SipEndpoint): void {
    // §9.1: same Request-URI, Call-ID, From, To, CSeq number and top Via as the INVITE.
    const headers: Array<[string, string]> = [['Via', invite.headers.getAll('via')[0]!]];
    for (const route of invite.headers.getAll('route')) headers.push(['Route', route]);
    headers.push(
      ['Max-Forwards', '70'],
      ['From', invite.headers.get('from')!],
      ['To', invite.headers.get('to')!],
      ['Call-ID', invite.headers.get('call-id')!],
      ['CSeq', `${parseCSeq(invite.headers.get('cseq')!).seq} CANCEL`],
      ['User-Agent', this.userAgentHeader],
    );
    const cancel = createRequest('CANCEL', invite.uri, headers);
    this.stack.sendRequest(cancel, destination, { onResponse: () => {}, onTimeout: () => {} });
    // §9.1: without a final response 64×T1 after the CANCEL, the INVITE transaction is given up.
    setTimeout(() => this.stack.layer.abortClient(invite), 64 * this.stack.timers.t1Ms).unref();
  }

  /** Called by {@link IncomingInvite.accept}. */
  acceptInvite(
    invite: IncomingInvite,
    sdp: string,
    extraHeaders: ReadonlyArray<readonly [string, string]>,
    onDialog?: (dialog: Dialog) => void,
  ): Promise<Dialog> {
    const { request } = invite;
    const from = fromOf(request);
    const contact = request.headers.get('contact');
    const protocol = invite.source.protocol;
    const dialog = new Dialog(
      {
        callId: invite.callId,
        localTag: invite.localTag,
        remoteTag: tagOf(from) ?? '',
        localUri: withoutTag(toOf(request)),
        remoteUri: withoutTag(from),
        remoteTarget: contact ? formatUri(parseNameAddr(contact).uri) : request.uri,
        // §12.1.1: the UAS keeps the Record-Route order of the request.
        routeSet: request.headers.getAll('record-route'),
        localSeq: randomInt(1, 10000),
        remoteSeq: parseCSeq(request.headers.get('cseq')!).seq,
        isUac: false,
        protocol,
        localSdp: sdp,
        ...(invite.offer ? { remoteSdp: sdpBodyOf(request)! } : {}),
      },
      this.dialogContext(),
    );
    this.#dialogs.set(dialog.id, dialog);
    this.releaseInvite(invite);
    dialog.setMaxDuration(this.#options.maxDialogDurationMs ?? 4 * 3600_000);
    onDialog?.(dialog);
    const headers: Array<readonly [string, string]> = [
      ['Contact', this.contact(protocol)],
      ['Allow', ALLOWED_METHODS],
      ['Supported', SUPPORTED_EXTENSIONS.join(', ')],
      ['User-Agent', this.userAgentHeader],
      ...this.negotiateSessionTimer(request, dialog),
      ...extraHeaders,
      ['Content-Type', 'application/sdp'],
    ];
    const response = createResponse(request, 200, { toTag: invite.localTag, headers, body: sdp });
    return dialog.send2xxUntilAck(invite.transaction, response).then(async (acked) => {
      if (acked) {
        dialog.restartSessionTimer();
        return dialog;
      }
      // §13.3.1.4: no ACK within 64×T1 — end the dialog with BYE.
      await dialog.bye('no-ack');
      throw new SipRequestError('no_ack', 'INVITE', 200);
    });
  }

  /** RFC 4028 §9: the UAS echoes Session-Expires; the refresher is the UAC unless it asked otherwise. */
  private negotiateSessionTimer(request: SipRequest, dialog: Dialog): Array<readonly [string, string]> {
    const se = request.headers.get('session-expires');
    if (se === undefined) return [];
    let seconds: number;
    let refresher: string | null | undefined;
    try {
      const parsed = parseDeltaSeconds(se);
      seconds = Math.max(this.#options.minSessionExpiresS ?? 90, parsed.seconds);
      refresher = parsed.params.get('refresher');
    } catch {
      return [];
    }
    const uacSupports = [...request.headers.getAll('supported'), ...request.headers.getAll('require')].some(
      (t) => t.toLowerCase() === 'timer',
    );
    const chosen = refresher === 'uac' || refresher === 'uas' ? refresher : uacSupports ? 'uac' : 'uas';
    dialog.sessionTimer = { intervalS: seconds, weRefresh: chosen === 'uas' };
    const headers: Array<readonly [string, string]> = [['Session-Expires', `${seconds};refresher=${chosen}`]];
    if (uacSupports) headers.push(['Require', 'timer']);
    return headers;
  }

  releaseInvite(invite: IncomingInvite): void {
    this.#pendingInvites.delete(invite.transaction);
  }

  private findDialog(callId: string, localTag: string | undefined, remoteTag: string | undefined) {
    if (localTag === undefined || remoteTag === undefined) return undefined;
    return this.#dialogs.get(Dialog.key(callId, localTag, remoteTag));
  }

  private receiveStrayResponse(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300) return;
    try {
      if (parseCSeq(response.headers.get('cseq')!).method !== 'INVITE') return;
      const dialog = this.findDialog(
        response.headers.get('call-id')!,
        tagOf(fromOf(response)),
        tagOf(toOf(response)),
      );
      dialog?.resendAck(response);
    } catch {
      // A response we cannot attribute is dropped (RFC 3261 §18.1.2).
    }
  }

  private receiveRequest(request: SipRequest, tx: ServerTransaction | undefined, source: SipEndpoint): void {
    if (this.#closed) return;
    const respond = (status: number, options: ResponseOptions = {}) => {
      tx?.respond(createResponse(request, status, { toTag: randomToken(10), ...options }));
    };
    try {
      const callId = request.headers.get('call-id')!;
      const toTag = tagOf(toOf(request));
      const fromTag = tagOf(fromOf(request));
      if (request.method === 'ACK') {
        this.findDialog(callId, toTag, fromTag)?.receiveRequest(request, undefined);
        return;
      }
      if (!tx) return;
      const uri = parseUri(request.uri);
      if (!isSipUri(uri) && uri.scheme !== 'tel') {
        respond(416);
        return;
      }
      const unsupported = request.headers
        .getAll('require')
        .filter((t) => !SUPPORTED_EXTENSIONS.includes(t.toLowerCase()));
      if (unsupported.length > 0 && request.method !== 'CANCEL') {
        respond(420, { headers: [['Unsupported', unsupported.join(', ')]] });
        return;
      }
      if (request.method === 'CANCEL') {
        // A CANCEL matches its INVITE by transaction, whether that INVITE is initial or in a dialog (§9.2).
        this.receiveCancel(request, tx);
        return;
      }
      if (toTag !== undefined) {
        const dialog = this.findDialog(callId, toTag, fromTag);
        if (dialog) dialog.receiveRequest(request, tx);
        else respond(481);
        return;
      }
      switch (request.method) {
        case 'INVITE':
          this.receiveInvite(request, tx, source);
          return;
        case 'OPTIONS':
          if (this.onRequest) break;
          // §11.2: answer as we would an INVITE, with what we allow and accept.
          respond(200, {
            headers: [
              ['Allow', ALLOWED_METHODS],
              ['Accept', 'application/sdp'],
              ['Supported', SUPPORTED_EXTENSIONS.join(', ')],
              ['User-Agent', this.userAgentHeader],
            ],
          });
          return;
        case 'BYE':
          respond(481);
          return;
      }
      if (this.onRequest) this.onRequest(request, respond);
      else respond(405, { headers: [['Allow', ALLOWED_METHODS]] });
    } catch {
      respond(400);
    }
  }

  private receiveCancel(request: SipRequest, tx: ServerTransaction): void {
    const inviteTx = this.stack.layer.findInviteFor(request);
    if (!inviteTx) {
      tx.respond(createResponse(request, 481, { toTag: randomToken(10) }));
      return;
    }
    const invite = this.#pendingInvites.get(inviteTx);
    tx.respond(createResponse(request, 200, { toTag: invite?.localTag ?? randomToken(10) }));
    if (invite && invite.state === 'pending') {
      // §9.2: the INVITE ends with 487 when no final response has been sent yet.
      invite.state = 'cancelled';
      inviteTx.respond(createResponse(invite.request, 487, { toTag: invite.localTag }));
      this.releaseInvite(invite);
      invite.onCancel?.();
    }
  }

  private receiveInvite(request: SipRequest, tx: ServerTransaction, source: SipEndpoint): void {
    const maxDialogs = this.#options.maxDialogs ?? 256;
    if (this.#dialogs.size + this.#pendingInvites.size >= maxDialogs) {
      tx.respond(createResponse(request, 503, { toTag: randomToken(10), headers: [['Retry-After', '10']] }));
      return;
    }
    if (!this.onInvite) {
      tx.respond(createResponse(request, 480, { toTag: randomToken(10) }));
      return;
    }
    let invite: IncomingInvite;
    try {
      invite = new IncomingInvite(request, tx, source, this);
    } catch {
      tx.respond(createResponse(request, 400, { reason: 'Malformed SDP', toTag: randomToken(10) }));
      return;
    }
    this.#pendingInvites.set(tx, invite);
    const timeout = setTimeout(() => {
      if (invite.state === 'pending') invite.reject(480);
    }, this.#options.unansweredInviteTimeoutMs ?? 120_000);
    timeout.unref();
    this.onInvite(invite);
  }

  /** Ends every dialog with BYE, then closes the transports. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const byes = [...this.#dialogs.values()].map((d) => d.bye('closed'));
    await Promise.race([Promise.allSettled(byes), new Promise((r) => setTimeout(r, 500).unref())]);
    this.#closed = true;
    for (const invite of this.#pendingInvites.values()) invite.reject(503);
    for (const dialog of this.#dialogs.values()) dialog.terminate('closed');
    await this.stack.close();
  }
}
