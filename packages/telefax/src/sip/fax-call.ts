/**
 * @module
 * Fax calls over SIP as real gateways make them (fax-engines.md §2–3): a call may start with audio (G.711), with
 * T.38, or with both offered; from audio it moves to T.38 by re-INVITE (image m-line, audio port 0). The called
 * side re-INVITEs after answering (T.38 Annex D practice); the calling side accepts the peer's re-INVITE and sends
 * its own only after a wait (5 s by default, like Asterisk's t38timeout), so both rarely collide; if they do, the
 * 491 back-off of RFC 3261 §14.1 applies. A peer that refuses T.38 (488/415/606, or an answer without an image
 * stream) ends the call as `t38_not_supported`; one that never switches ends it as `fax_not_detected` when the
 * switch deadline passes. Every wait has a deadline, so no call hangs.
 *
 * While a call is audio it carries RTP (fax-audio-phase.ts): G.711 in the negotiated codec from the port our audio
 * m-line advertises, with CNG when calling and CED when answering, because gateways detect fax by these tones and
 * some drop calls that send no RTP. Hearing the far end's tone brings our own re-INVITE forward; nothing waits for
 * the audio, and it stops when T.38 is established.
 *
 * The result is the negotiated UDPTL peer and T.38 parameters; running T.30 over it is the T.38 transport's job.
 */
import { randomInt } from 'node:crypto';
import type { Socket } from 'node:dgram';
import type { G711Codec } from '../rtp/g711.ts';
import type { Dialog, DialogEndReason, ReinviteAnswer } from './dialog.ts';
import type { DigestCredentials } from './digest-auth.ts';
import { FaxAudioPhase } from './fax-audio-phase.ts';
import type { IncomingInvite } from './incoming-invite.ts';
import { parseSdp, type SdpMedia, type SessionDescription, serializeSdp } from './sdp.ts';
import {
  activeMedia,
  answerOffer,
  audioMedia,
  createSessionDescription,
  imageMedia,
  type NegotiatedT38,
  t38ReOffer,
} from './sdp-offer-answer.ts';
import { DEFAULT_T38_CAPABILITIES, type T38Capabilities, type T38Params, t38OfferParams } from './sdp-t38.ts';
import type { SipRequest } from './sip-message.ts';
import { SipRequestError } from './sip-request-error.ts';
import type { SipTransportProtocol } from './transport.ts';
import { UserAgent } from './user-agent.ts';

export type FaxCallFailureReason =
  | 't38_not_supported'
  | 'fax_not_detected'
  | 'busy'
  | 'no_answer'
  | 'rejected'
  | 'cancelled'
  | 'call_dropped'
  | 'timeout'
  | 'auth_failed'
  | 'unroutable';

export class FaxCallError extends Error {
  override readonly name = 'FaxCallError';
  constructor(
    readonly reason: FaxCallFailureReason,
    readonly callId?: string,
    /** SIP status that caused it, if any. */
    readonly status?: number,
  ) {
    super(`fax call failed: ${reason}${status !== undefined ? ` (SIP ${status})` : ''}`);
  }
}

export interface FaxCallPolicy {
  /** Caller: how long to wait after the answer for the peer's T.38 re-INVITE before sending ours. Default 5000. */
  readonly reinviteWaitMs?: number;
  /** Callee: delay after the ACK before our own re-INVITE (Asterisk plays CED ~3 s first). Default 500. */
  readonly answerReinviteDelayMs?: number;
  /** Send our own T.38 re-INVITE when the peer does not. Default true. */
  readonly sendReinvite?: boolean;
  /** Deadline from answer to T.38; past it the call ends as fax_not_detected. Default 30000. */
  readonly switchTimeoutMs?: number;
  /** What the caller's INVITE offers. Default 'audio' (what PSTN gateways expect). */
  readonly initialOffer?: 'audio' | 't38' | 'both';
  /** Callee: which stream to take from an offer with both. Default 't38'. */
  readonly preferInDualOffer?: 't38' | 'audio';
  /** Caller: CANCEL when not answered in time. Default 60000. */
  readonly noAnswerTimeoutMs?: number;
  /** Backstop: BYE after this long whatever happens. Default 2 h. */
  readonly maxCallDurationMs?: number;
  /**
   * While the call is audio, send G.711 RTP with our fax tone (CNG calling, CED answering, then silence) and read
   * what arrives, so that gateways detect a fax and do not drop a silent call. Default true.
   */
  readonly audioRtp?: boolean;
  /** Answering: silence before CED (T.30: 1.8–2.5 s). Default 2000. */
  readonly cedDelayMs?: number;
  /**
   * Send our own re-INVITE as soon as the far end's fax tone is heard (CED when calling, CNG when answering)
   * instead of waiting the full reinviteWaitMs / answerReinviteDelayMs. Only with sendReinvite. Default true.
   */
  readonly reinviteOnFaxTone?: boolean;
}

export interface FaxMediaOptions {
  /** Our UDPTL port, written in the image m-line. */
  readonly localPort: number;
  /** Address for c= lines; default the UA's host. */
  readonly address?: string;
  readonly capabilities?: T38Capabilities;
  /**
   * RTP port advertised while the call is in audio, for RTP that something else handles (we send none on it).
   * Default: the port of `audioSocket`, or of a socket bound for the call (policy.audioRtp), else localPort + 2.
   */
  readonly audioPort?: number;
  /** A bound UDP socket for the audio phase's RTP; its port is advertised. It stays open when the call ends. */
  readonly audioSocket?: Socket;
  /** Where to bind the call's own RTP socket; default the user agent's bind address. */
  readonly audioBindAddress?: string;
  /**
   * G.711 codecs for the audio phase: our offer lists them in this order; answering takes the first codec of the
   * offer that is in this list (the offerer's order, RFC 3264 §6.1). Default PCMU, PCMA.
   */
  readonly codecs?: readonly G711Codec[];
}

/** The negotiated T.38 session: where to send UDPTL and with which parameters. */
export interface FaxCallMedia {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localPort: number;
  /** What the peer declared (its max datagram, error correction, version…). */
  readonly remote: T38Params;
  /** What we declared. */
  readonly local: T38Params;
  /** The effective values both sides use: lower version and rate, transferredTCF. */
  readonly agreed: T38Params;
}

export type FaxCallEndReason = DialogEndReason;

export interface FaxCall {
  readonly callId: string;
  readonly direction: 'outgoing' | 'incoming';
  readonly dialog: Dialog;
  /** For incoming calls, the INVITE as received (Request-URI, From, To, P-Asserted-Identity…). */
  readonly invite: SipRequest | undefined;
  /** Current T.38 media; updated if the peer re-INVITEs with new T.38 parameters. */
  readonly media: FaxCallMedia;
  /** Called when a later re-INVITE changes the T.38 media (new port or parameters). */
  onMediaChange: ((media: FaxCallMedia) => void) | undefined;
  hangup(): Promise<void>;
  readonly ended: Promise<{ readonly reason: FaxCallEndReason }>;
}

const DEFAULTS: Required<FaxCallPolicy> = {
  reinviteWaitMs: 5000,
  answerReinviteDelayMs: 500,
  sendReinvite: true,
  switchTimeoutMs: 30_000,
  initialOffer: 'audio',
  preferInDualOffer: 't38',
  noAnswerTimeoutMs: 60_000,
  maxCallDurationMs: 2 * 3600_000,
  audioRtp: true,
  cedDelayMs: 2000,
  reinviteOnFaxTone: true,
};

const DEFAULT_CODECS: readonly G711Codec[] = ['PCMU', 'PCMA'];

/** The audio phase's socket for a call: ours, the caller's, or only an advertised port. */
function openAudioPhase(
  media: FaxMediaOptions,
  ua: UserAgent,
  policy: Required<FaxCallPolicy>,
  needed: boolean,
): Promise<FaxAudioPhase> {
  return FaxAudioPhase.open({
    ...(media.audioSocket ? { socket: media.audioSocket } : {}),
    ...(media.audioPort !== undefined ? { port: media.audioPort } : {}),
    bindAddress: media.audioBindAddress ?? ua.stack.options.host,
    fallbackPort: media.localPort + 2,
    enabled: policy.audioRtp && needed,
  });
}

/** The agreed parameters from both declarations (T.38 Annex E.4). */
function agree(local: T38Params, remote: T38Params): T38Params {
  return {
    ...local,
    version: Math.min(local.version, remote.version),
    maxBitRate: Math.min(local.maxBitRate ?? 14400, remote.maxBitRate ?? 14400),
    rateManagement: 'transferredTCF',
    fillBitRemoval: local.fillBitRemoval && remote.fillBitRemoval,
    transcodingMmr: local.transcodingMmr && remote.transcodingMmr,
    transcodingJbig: local.transcodingJbig && remote.transcodingJbig,
  };
}

function mediaFrom(remote: NegotiatedT38, local: T38Params, localPort: number): FaxCallMedia {
  return {
    remoteAddress: remote.address,
    remotePort: remote.port,
    localPort,
    remote: remote.params,
    local,
    agreed: agree(local, remote.params),
  };
}

/** Local SDP versions for one call (RFC 3264 §8: each new description increments the version). */
class LocalDescription {
  readonly sessionId = String(randomInt(1, 2 ** 31));
  version = 0;
  constructor(readonly address: string) {}
  next() {
    this.version++;
    return { address: this.address, sessionId: this.sessionId, sessionVersion: this.version };
  }
}

interface SwitchContext {
  readonly dialog: Dialog;
  /** Resolves when the far end's fax tone is heard: a reason to re-INVITE before ownReinviteAfterMs. */
  readonly farToneHeard?: Promise<unknown>;
  readonly media: FaxMediaOptions;
  readonly capabilities: T38Capabilities;
  readonly description: LocalDescription;
  readonly policy: Required<FaxCallPolicy>;
  /** Delay before our own re-INVITE. */
  readonly ownReinviteAfterMs: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}

/**
 * Holds a call's re-INVITE handling for its whole life: before T.38 it accepts the peer's T.38 offer; afterwards
 * it answers new T.38 offers (port or parameter changes) and keeps refreshes unchanged (handled by the dialog).
 */
class FaxMediaState {
  current: FaxCallMedia | undefined;
  #switched: ((media: FaxCallMedia) => void) | undefined;
  onChange: ((media: FaxCallMedia) => void) | undefined;

  constructor(
    dialog: Dialog,
    private readonly options: FaxMediaOptions,
    private readonly capabilities: T38Capabilities,
    private readonly description: LocalDescription,
    private readonly prefer: 't38' | 'audio',
    private readonly audio: FaxAudioPhase,
  ) {
    dialog.onReinvite = async (_request, offer) => this.answer(offer);
    void dialog.ended.then(() => audio.stop());
  }

  waitForSwitch(): Promise<FaxCallMedia> {
    if (this.current) return Promise.resolve(this.current);
    return new Promise((resolve) => {
      this.#switched = resolve;
    });
  }

  private answer(offer: SessionDescription | undefined): ReinviteAnswer {
    if (!offer) return { status: 488 };
    const result = answerOffer(offer, {
      origin: this.description.next(),
      audioPort: this.audio.port,
      codecs: this.options.codecs ?? DEFAULT_CODECS,
      t38Port: this.options.localPort,
      t38Capabilities: this.capabilities,
      prefer: this.prefer === 'audio' && !this.current ? 'audio' : 't38',
    });
    if (result.accepted === null) {
      this.description.version--;
      return { status: 488 };
    }
    if (result.t38) this.established(mediaFrom(result.t38, result.t38.local, this.options.localPort));
    else if (result.audio) this.audio.retarget(result.audio);
    return { status: 200, sdp: serializeSdp(result.sdp) };
  }

  established(media: FaxCallMedia): void {
    this.audio.stop();
    const before = this.current;
    const changed =
      before !== undefined &&
      (before.remoteAddress !== media.remoteAddress ||
        before.remotePort !== media.remotePort ||
        JSON.stringify(before.agreed) !== JSON.stringify(media.agreed));
    this.current = media;
    if (changed) this.onChange?.(media);
    this.#switched?.(media);
    this.#switched = undefined;
  }
}

/**
 * From an audio call to T.38: wait for the peer's re-INVITE, send ours after `ownReinviteAfterMs` (with §14.1
 * back-off on 491), and give up at the switch deadline.
 */
async function switchToT38(ctx: SwitchContext, state: FaxMediaState): Promise<FaxCallMedia> {
  const { dialog, policy } = ctx;
  let outcome: FaxCallMedia | FaxCallError | undefined;
  const settled = () => outcome !== undefined || state.current !== undefined || dialog.state === 'terminated';
  const own = (async (): Promise<FaxCallMedia | FaxCallError | undefined> => {
    if (!policy.sendReinvite) return undefined;
    const toneHeard = policy.reinviteOnFaxTone && ctx.farToneHeard ? ctx.farToneHeard : new Promise(() => {});
    await Promise.race([sleep(ctx.ownReinviteAfterMs), toneHeard]);
    if (settled()) return undefined;
    const params = t38OfferParams(ctx.capabilities);
    const previous = dialog.localSdp === undefined ? undefined : parseSdp(dialog.localSdp);
    const offer = serializeSdp(t38ReOffer(ctx.description.next(), previous, ctx.media.localPort, params));
    let response: Awaited<ReturnType<Dialog['reinvite']>>;
    try {
      response = await dialog.reinvite(offer, { retryOnGlare: true, stillWanted: () => !settled() });
    } catch {
      return undefined;
    }
    if (state.current) return state.current;
    if (response.status === 491) return undefined;
    if (response.status >= 300) return new FaxCallError('t38_not_supported', dialog.callId, response.status);
    const remote = dialog.remoteSdp === undefined ? undefined : activeMedia(parseSdp(dialog.remoteSdp)).t38;
    if (!remote) return new FaxCallError('t38_not_supported', dialog.callId, response.status);
    const media = mediaFrom(remote, params, ctx.media.localPort);
    state.established(media);
    return media;
  })();
  const result = await Promise.race([
    state.waitForSwitch(),
    own.then((r) => (r instanceof FaxCallError ? r : new Promise<never>(() => {}))),
    dialog.ended.then(() => new FaxCallError('call_dropped', dialog.callId)),
    sleep(policy.switchTimeoutMs).then(() => new FaxCallError('fax_not_detected', dialog.callId)),
  ]);
  outcome = result;
  return result instanceof FaxCallError ? Promise.reject(result) : result;
}

function makeCall(
  direction: 'outgoing' | 'incoming',
  dialog: Dialog,
  state: FaxMediaState,
  invite: SipRequest | undefined,
  onEnd?: () => void,
): FaxCall {
  const ended = dialog.ended.then(async (end) => {
    await dialog.settled();
    onEnd?.();
    return end;
  });
  const call: FaxCall = {
    callId: dialog.callId,
    direction,
    dialog,
    invite,
    get media() {
      return state.current!;
    },
    onMediaChange: undefined,
    hangup: () => dialog.bye('local-bye'),
    ended,
  };
  state.onChange = (media) => call.onMediaChange?.(media);
  return call;
}

function failureFrom(err: unknown, callId: string | undefined, offeredOnlyT38: boolean, noAnswer: boolean) {
  if (err instanceof FaxCallError) return err;
  if (!(err instanceof SipRequestError)) return new FaxCallError('call_dropped', callId);
  if (err.code === 'cancelled')
    return new FaxCallError(noAnswer ? 'no_answer' : 'cancelled', callId, err.status);
  if (err.code === 'timeout') return new FaxCallError('timeout', callId, err.status);
  if (err.code === 'auth_failed') return new FaxCallError('auth_failed', callId, err.status);
  if (err.code === 'unroutable') return new FaxCallError('unroutable', callId);
  if (err.code === 'no_ack' || err.code === 'closed')
    return new FaxCallError('call_dropped', callId, err.status);
  const status = err.status ?? 0;
  if (status === 486 || status === 600) return new FaxCallError('busy', callId, status);
  if (status === 408 || status === 480) return new FaxCallError('no_answer', callId, status);
  if ((status === 488 || status === 415 || status === 606) && offeredOnlyT38) {
    return new FaxCallError('t38_not_supported', callId, status);
  }
  return new FaxCallError('rejected', callId, status);
}

export interface PlaceFaxCallOptions {
  /** Callee URI, e.g. sip:+4930123@trunk.example.com:5060;transport=tcp. */
  readonly target: string;
  /** Share a running user agent; without one a UA is bound for this call and closed when it ends. */
  readonly userAgent?: UserAgent;
  readonly localSipPort?: number;
  readonly localHost?: string;
  readonly advertisedHost?: string;
  readonly transports?: readonly SipTransportProtocol[];
  readonly from?: string;
  readonly credentials?: DigestCredentials;
  /** Outbound proxy (SBC) for the INVITE when this call binds its own UA; see UserAgentOptions.outboundProxy. */
  readonly outboundProxy?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly t38: FaxMediaOptions;
  readonly policy?: FaxCallPolicy;
  /** Aborting cancels a ringing call or hangs up an established one. */
  readonly signal?: AbortSignal;
}

/** Places a fax call and resolves once T.38 is negotiated; rejects with a {@link FaxCallError}. */
export async function placeFaxCall(options: PlaceFaxCallOptions): Promise<FaxCall> {
  const policy = { ...DEFAULTS, ...options.policy };
  const ownsUa = options.userAgent === undefined;
  const ua =
    options.userAgent ??
    (await UserAgent.create({
      host: options.localHost ?? '127.0.0.1',
      port: options.localSipPort ?? 0,
      ...(options.advertisedHost ? { advertisedHost: options.advertisedHost } : {}),
      ...(options.transports ? { transports: options.transports } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.outboundProxy ? { outboundProxy: options.outboundProxy } : {}),
    }));
  const closeUa = () => {
    if (ownsUa) void ua.close();
  };
  const capabilities = options.t38.capabilities ?? DEFAULT_T38_CAPABILITIES;
  const codecs = options.t38.codecs ?? DEFAULT_CODECS;
  const description = new LocalDescription(options.t38.address ?? ua.stack.host);
  const audio = await openAudioPhase(options.t38, ua, policy, policy.initialOffer !== 't38');
  const media: SdpMedia[] = [];
  if (policy.initialOffer !== 't38') media.push(audioMedia(audio.port, codecs));
  if (policy.initialOffer !== 'audio')
    media.push(imageMedia(options.t38.localPort, t38OfferParams(capabilities)));
  const offer = serializeSdp(createSessionDescription(description.next(), media));
  let state: FaxMediaState | undefined;
  const outgoing = ua.invite(options.target, {
    sdp: offer,
    noAnswerTimeoutMs: policy.noAnswerTimeoutMs,
    ...(options.from ? { from: options.from } : {}),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    onDialog: (d) => {
      state = new FaxMediaState(d, options.t38, capabilities, description, 't38', audio);
    },
  });
  let noAnswer = false;
  const noAnswerTimer = setTimeout(() => (noAnswer = true), Math.max(0, policy.noAnswerTimeoutMs - 1));
  noAnswerTimer.unref();
  const onAbort = () => outgoing.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let dialog: Dialog;
  try {
    dialog = await outgoing.dialog;
  } catch (err) {
    audio.stop();
    closeUa();
    throw failureFrom(err, outgoing.callId, policy.initialOffer === 't38', noAnswer);
  } finally {
    clearTimeout(noAnswerTimer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  dialog.setMaxDuration(policy.maxCallDurationMs);
  const fax = state!;
  const call = makeCall('outgoing', dialog, fax, undefined, closeUa);
  options.signal?.addEventListener('abort', () => void call.hangup(), { once: true });
  try {
    const answered =
      dialog.remoteSdp === undefined ? undefined : activeMedia(parseSdp(dialog.remoteSdp), codecs);
    if (answered?.t38) {
      const local = t38OfferParams(capabilities);
      fax.established(mediaFrom(answered.t38, local, options.t38.localPort));
    } else if (!answered?.audio) {
      throw new FaxCallError('t38_not_supported', dialog.callId);
    } else {
      audio.start({ peer: answered.audio, role: 'calling' });
      await switchToT38(
        {
          dialog,
          farToneHeard: audio.farToneHeard,
          media: options.t38,
          capabilities,
          description,
          policy,
          ownReinviteAfterMs: policy.reinviteWaitMs,
        },
        fax,
      );
    }
  } catch (err) {
    audio.stop();
    await dialog.bye('local-bye');
    throw failureFrom(err, dialog.callId, true, false);
  }
  return call;
}

export interface AnswerFaxCallsOptions {
  /** Share a running user agent; without one a UA is bound on localHost:localSipPort. */
  readonly userAgent?: UserAgent;
  readonly localSipPort?: number;
  readonly localHost?: string;
  readonly advertisedHost?: string;
  readonly transports?: readonly SipTransportProtocol[];
  /**
   * UDPTL port (and address/capabilities) per call: fixed, or a function called once for each call we answer (it
   * may bind the UDPTL socket first). The call's Call-ID ties it to a later onCall/onError.
   */
  readonly t38: FaxMediaOptions | ((invite: IncomingInvite) => FaxMediaOptions | Promise<FaxMediaOptions>);
  readonly policy?: FaxCallPolicy;
  /**
   * Decide whether to take a call (e.g. look up the called number): true to answer, false for 603, or a SIP status
   * to reject with. May be async; the caller has had 100 Trying meanwhile. Default: answer.
   */
  readonly accept?: (invite: IncomingInvite) => boolean | number | Promise<boolean | number>;
  /** A call whose T.38 session is ready. */
  readonly onCall: (call: FaxCall) => void;
  /** A call that was answered or refused but did not reach T.38. */
  readonly onError?: (error: FaxCallError) => void;
}

export interface FaxCallListener {
  readonly userAgent: UserAgent;
  close(): Promise<void>;
}

/** Answers incoming fax calls on a UA, moving each to T.38 (re-INVITE after answer when it started in audio). */
export async function answerFaxCalls(options: AnswerFaxCallsOptions): Promise<FaxCallListener> {
  const policy = { ...DEFAULTS, ...options.policy };
  const ownsUa = options.userAgent === undefined;
  const ua =
    options.userAgent ??
    (await UserAgent.create({
      host: options.localHost ?? '127.0.0.1',
      port: options.localSipPort ?? 0,
      ...(options.advertisedHost ? { advertisedHost: options.advertisedHost } : {}),
      ...(options.transports ? { transports: options.transports } : {}),
    }));
  const fail = (err: FaxCallError) => options.onError?.(err);
  ua.onInvite = (invite) => {
    void answerOne(invite).catch((err: unknown) => fail(failureFrom(err, invite.callId, true, false)));
  };
  async function answerOne(invite: IncomingInvite): Promise<void> {
    const decision = options.accept ? await options.accept(invite) : true;
    if (invite.state !== 'pending') throw new FaxCallError('cancelled', invite.callId);
    if (decision !== true) {
      invite.reject(typeof decision === 'number' ? decision : 603);
      return;
    }
    const media = typeof options.t38 === 'function' ? await options.t38(invite) : options.t38;
    if (invite.state !== 'pending') throw new FaxCallError('cancelled', invite.callId);
    const capabilities = media.capabilities ?? DEFAULT_T38_CAPABILITIES;
    const codecs = media.codecs ?? DEFAULT_CODECS;
    const description = new LocalDescription(media.address ?? ua.stack.host);
    // RTP only for a call that will start in audio: a late offer, or an offer whose audio we would take.
    const offered = invite.offer ? activeMedia(invite.offer, codecs) : undefined;
    const startsInAudio =
      offered === undefined ||
      (offered.audio !== undefined && (offered.t38 === undefined || policy.preferInDualOffer === 'audio'));
    const audio = await openAudioPhase(media, ua, policy, startsInAudio);
    if (invite.state !== 'pending') {
      audio.stop();
      throw new FaxCallError('cancelled', invite.callId);
    }
    // A late-offer INVITE (no SDP, as Cisco gateways in delayed-offer mode send) gets our audio offer in the 200
    // and its answer in the ACK (RFC 3261 §13.2.1); from then on it is an audio call like any other.
    const localSdp = invite.offer
      ? answerOffer(invite.offer, {
          origin: description.next(),
          audioPort: audio.port,
          codecs,
          t38Port: media.localPort,
          t38Capabilities: capabilities,
          prefer: policy.preferInDualOffer,
        })
      : undefined;
    if (localSdp && localSdp.accepted === null) {
      audio.stop();
      invite.reject(488);
      fail(new FaxCallError('t38_not_supported', invite.callId, 488));
      return;
    }
    const sdp = localSdp
      ? serializeSdp(localSdp.sdp)
      : serializeSdp(createSessionDescription(description.next(), [audioMedia(audio.port, codecs)]));
    let state: FaxMediaState | undefined;
    let dialog: Dialog;
    try {
      dialog = await invite.accept({
        sdp,
        onDialog: (d) => {
          state = new FaxMediaState(d, media, capabilities, description, 't38', audio);
          d.setMaxDuration(policy.maxCallDurationMs);
        },
      });
    } catch (err) {
      audio.stop();
      throw err;
    }
    const fax = state!;
    try {
      const remote =
        dialog.remoteSdp === undefined ? undefined : activeMedia(parseSdp(dialog.remoteSdp), codecs);
      if (localSdp?.t38) fax.established(mediaFrom(localSdp.t38, localSdp.t38.local, media.localPort));
      else if (!remote?.audio) throw new FaxCallError('t38_not_supported', dialog.callId);
      else {
        // Early offer: the codec is the one our answer chose; late offer: the first of the ACK's answer.
        const peer = localSdp?.audio ?? remote.audio;
        audio.start({ peer, role: 'answering', cedDelayMs: policy.cedDelayMs });
        await switchToT38(
          {
            dialog,
            farToneHeard: audio.farToneHeard,
            media,
            capabilities,
            description,
            policy,
            ownReinviteAfterMs: policy.answerReinviteDelayMs,
          },
          fax,
        );
      }
    } catch (err) {
      audio.stop();
      await dialog.bye('local-bye');
      throw err;
    }
    options.onCall(makeCall('incoming', dialog, fax, invite.request));
  }
  return {
    userAgent: ua,
    close: async () => {
      if (ua.onInvite) ua.onInvite = undefined;
      if (ownsUa) await ua.close();
    },
  };
}
