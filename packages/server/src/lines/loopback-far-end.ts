/**
 * @module lines/loopback-far-end
 * The far ends behind the loopback carrier's test numbers: one SIP user agent on the loopback address that
 * answers each test number the way its name says (busy, never answers, a voice line, a gateway refusing T.38) or
 * runs a receiving fax machine with one flaw (hangs up after page 2, rejects every page, V.27 ter only).
 */
import { randomInt } from 'node:crypto';
import { answerFaxCalls, type FaxCallListener } from 'telefax/sip/fax-call';
import type { IncomingInvite } from 'telefax/sip/incoming-invite';
import { serializeSdp } from 'telefax/sip/sdp';
import { answerOffer } from 'telefax/sip/sdp-offer-answer';
import type { SipRequest } from 'telefax/sip/sip-message';
import { UserAgent } from 'telefax/sip/user-agent';
import { fcfName } from 'telefax/t30/fcf';
import type { PageCodec } from 'telefax/t30/page-codec';
import { standardPageCodec } from 'telefax/t30/standard-page-codec';
import type { FaxModem, FaxTone, PortEvent, SendHdlcOptions, T30Port } from 'telefax/t30/t30-port';
import { UdptlEndpoint } from 'telefax/t38/udptl-endpoint';
import { calledNumber } from './call-party.ts';
import { runT30OverCall, type T30CallOptions } from './run-t30-over-call.ts';
import type { TestNumberBehaviour } from './test-numbers.ts';

export interface LoopbackFarEndOptions {
  readonly host: string;
  readonly numbers: ReadonlyMap<string, TestNumberBehaviour>;
  readonly pacing: 'realtime' | 'none';
}

/** Every page decodes with all rows bad, so the receiver answers RTN (non-ECM) as to an unreadable page. */
const unreadablePages: PageCodec = {
  encode: (page, options) => standardPageCodec.encode(page, options),
  decode(data, options) {
    const decoded = standardPageCodec.decode(data, options);
    return { ...decoded, badRows: decoded.rows };
  },
};

/** How long the far end waits after the MCF left before hanging up, so the MCF reaches the sender first. */
const HANGUP_AFTER_MCF_MS = 100;

/**
 * A fax machine that hangs up once it has confirmed `pages` pages: from the moment that MCF has left it hears
 * nothing more (so a quick sender's next page is never confirmed), then it sends BYE.
 */
class HangUpAfterPages implements T30Port {
  #confirmed = 0;
  #deaf = false;
  constructor(
    private readonly inner: T30Port,
    private readonly pages: number,
    private readonly hangup: () => void,
  ) {}

  sendTone(tone: FaxTone, durationMs: number): Promise<void> {
    return this.inner.sendTone(tone, durationMs);
  }

  async sendHdlc(modem: FaxModem, frames: readonly Uint8Array[], options?: SendHdlcOptions): Promise<void> {
    await this.inner.sendHdlc(modem, frames, options);
    if (frames.some((f) => f.length > 2 && fcfName(f[2]!) === 'MCF') && ++this.#confirmed === this.pages) {
      this.#deaf = true;
      setTimeout(this.hangup, HANGUP_AFTER_MCF_MS);
    }
  }

  sendImage(modem: FaxModem, data: Uint8Array | AsyncIterable<Uint8Array>, options?: SendHdlcOptions) {
    return this.inner.sendImage(modem, data, options);
  }

  sendSilence(durationMs: number): Promise<void> {
    return this.inner.sendSilence(durationMs);
  }

  async receive(timeoutMs: number): Promise<PortEvent | null> {
    for (;;) {
      const event = await this.inner.receive(timeoutMs);
      if (!this.#deaf || event === null || event.type === 'closed') return event;
    }
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function faxOptionsFor(behaviour: TestNumberBehaviour): T30CallOptions {
  const common = { direction: 'receive' as const, ident: 'FAXWIRE TEST', maxCallMs: 30 * 60_000 };
  switch (behaviour) {
    case 'page_rejected':
      return { ...common, ecm: false, codec: unreadablePages };
    case 'slow_line':
      return { ...common, capabilities: { modems: ['v27ter'] } };
    default:
      return common;
  }
}

export class LoopbackFarEnd {
  private constructor(
    readonly userAgent: UserAgent,
    private readonly listener: FaxCallListener,
  ) {}

  get port(): number {
    return this.userAgent.stack.port('UDP');
  }

  static async start(options: LoopbackFarEndOptions): Promise<LoopbackFarEnd> {
    const ua = await UserAgent.create({
      host: options.host,
      port: 0,
      contactUser: 'test',
      userAgent: 'faxwire-test-far-end',
    });
    const behaviourOf = (request: SipRequest) => options.numbers.get(calledNumber(request) ?? '');
    const sockets = new Map<string, UdptlEndpoint>();
    const listener = await answerFaxCalls({
      userAgent: ua,
      policy: { answerReinviteDelayMs: 0 },
      accept: (invite) => (behaviourOf(invite.request) === undefined ? 404 : true),
      t38: async (invite) => {
        const socket = await UdptlEndpoint.open({ localAddress: options.host });
        sockets.set(invite.callId, socket);
        return { localPort: socket.localPort, address: options.host };
      },
      onCall: (call) => {
        const udptl = sockets.get(call.callId)!;
        sockets.delete(call.callId);
        const behaviour = (call.invite && behaviourOf(call.invite)) ?? 'accept';
        void runT30OverCall(
          { call, udptl, pacing: options.pacing },
          faxOptionsFor(behaviour),
          undefined,
          behaviour === 'hangup_after_page_2'
            ? (port) => new HangUpAfterPages(port, 2, () => void call.hangup())
            : undefined,
        ).finally(() => udptl.close());
      },
      onError: (error) => {
        if (error.callId === undefined) return;
        void sockets.get(error.callId)?.close();
        sockets.delete(error.callId);
      },
    });
    const answerFax = ua.onInvite!;
    ua.onInvite = (invite) => {
      const behaviour = behaviourOf(invite.request);
      switch (behaviour) {
        case 'busy':
          invite.reject(486);
          return;
        case 'no_answer':
          invite.progress(180);
          return;
        case 'voice':
        case 't38_refused':
          void answerInAudio(invite, options.host, behaviour === 'voice');
          return;
        default:
          answerFax(invite);
      }
    };
    return new LoopbackFarEnd(ua, listener);
  }

  async close(): Promise<void> {
    await this.listener.close();
    await this.userAgent.close();
  }
}

/**
 * Answers in audio and stays there. A gateway without T.38 refuses the re-INVITE (488); a voice line never
 * answers it at all, so the caller's wait for a fax ends as fax_not_detected.
 */
async function answerInAudio(invite: IncomingInvite, host: string, voice: boolean): Promise<void> {
  if (!invite.offer) {
    invite.reject(488);
    return;
  }
  const answer = answerOffer(invite.offer, {
    origin: { address: host, sessionId: String(randomInt(1, 2 ** 31)), sessionVersion: 1 },
    audioPort: 9,
    prefer: 'audio',
  });
  if (answer.accepted !== 'audio') {
    invite.reject(488);
    return;
  }
  const dialog = await invite
    .accept({
      sdp: serializeSdp(answer.sdp),
      onDialog: (d) => {
        d.onReinvite = voice
          ? () => d.ended.then(() => ({ status: 487 }))
          : async () => ({ status: 488, reason: 'Not Acceptable Here' });
      },
    })
    .catch(() => null);
  // A person or a phone gateway hangs up eventually; the caller normally does first.
  if (dialog) setTimeout(() => void dialog.bye(), 10 * 60_000).unref();
}
