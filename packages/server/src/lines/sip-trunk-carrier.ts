/**
 * @module lines/sip-trunk-carrier
 * A SIP trunk from configuration (trunk-config.ts): one user agent per trunk, registered with digest credentials
 * or IP-authenticated; calls out through the trunk's proxy to the URI its dial plan makes of the number, with the
 * trunk's T.38 policy; calls in routed by DID (Request-URI or To user, or the trunk's DID table) to a number.
 */
import { type FaxCallListener, type FaxCallPolicy, placeFaxCall } from 'telefax/sip/fax-call';
import type { Registration } from 'telefax/sip/registration';
import { parseSipUri } from 'telefax/sip/sip-uri';
import { UserAgent } from 'telefax/sip/user-agent';
import { UdptlEndpoint } from 'telefax/t38/udptl-endpoint';
import { answerInboundCalls } from './answer-inbound-calls.ts';
import { toE164 } from './call-party.ts';
import type { Carrier, CarrierCall, InboundCallHandler, OutboundCallRequest } from './carrier.ts';
import { dialUri, type TrunkConfig } from './trunk-config.ts';

export interface SipTrunkCarrierOptions {
  /** Pacing of the T.38 transport; real trunks need 'realtime'. */
  readonly pacing?: 'realtime' | 'none';
}

export class SipTrunkCarrier implements Carrier {
  readonly id: string;
  readonly channels: number;
  #registration: Registration | null = null;
  #listener: FaxCallListener | null = null;

  private constructor(
    readonly config: TrunkConfig,
    readonly userAgent: UserAgent,
    private readonly pacing: 'realtime' | 'none',
  ) {
    this.id = `trunk:${config.name}`;
    this.channels = config.channels;
  }

  /** Binds the trunk's user agent and, for a registering trunk, registers (RFC 3261 §10). */
  static async start(config: TrunkConfig, options: SipTrunkCarrierOptions = {}): Promise<SipTrunkCarrier> {
    const credentials =
      config.username !== null && config.password !== null
        ? {
            username: config.username,
            password: config.password,
            ...(config.realm !== null ? { realm: config.realm } : {}),
          }
        : undefined;
    const ua = await UserAgent.create({
      host: config.localHost,
      port: config.localPort,
      transports: [config.transport === 'tcp' ? 'TCP' : 'UDP'],
      ...(config.advertisedHost !== null ? { advertisedHost: config.advertisedHost } : {}),
      outboundProxy: config.proxy,
      ...(credentials ? { credentials } : {}),
      contactUser: config.username ?? 'faxwire',
      userAgent: 'faxwire',
    });
    const carrier = new SipTrunkCarrier(config, ua, options.pacing ?? 'realtime');
    if (config.auth === 'register') {
      try {
        carrier.#registration = await ua.register({
          registrar: config.registrar,
          aor: `sip:${config.username}@${config.domain}`,
          expiresS: config.registerExpiresS,
          ...(credentials ? { credentials } : {}),
        });
      } catch (error) {
        await ua.close();
        throw error;
      }
    }
    return carrier;
  }

  /** Where the far end sees us: SIP port of the trunk's user agent. */
  get sipPort(): number {
    return this.userAgent.stack.port(this.config.transport === 'tcp' ? 'TCP' : 'UDP');
  }

  private get mediaHost(): string {
    return this.config.localHost;
  }

  private get sdpHost(): string {
    if (this.config.advertisedHost !== null) return this.config.advertisedHost;
    return this.config.localHost === '0.0.0.0' ? this.userAgent.stack.host : this.config.localHost;
  }

  routes(to: string): number {
    let best = 0;
    for (const prefix of this.config.prefixes)
      if (to.startsWith(prefix)) best = Math.max(best, prefix.length);
    return best;
  }

  private policy(): FaxCallPolicy {
    const t38 = this.config.t38;
    return {
      initialOffer: t38.initialOffer,
      reinviteWaitMs: t38.reinviteWaitMs,
      sendReinvite: t38.sendReinvite,
      switchTimeoutMs: t38.switchTimeoutMs,
      noAnswerTimeoutMs: t38.noAnswerTimeoutMs,
    };
  }

  async placeCall(request: OutboundCallRequest): Promise<CarrierCall> {
    const udptl = await UdptlEndpoint.open({ localAddress: this.mediaHost });
    try {
      const call = await placeFaxCall({
        target: dialUri(this.config, request.to),
        userAgent: this.userAgent,
        from: `sip:${request.from}@${this.config.domain}`,
        headers: [['P-Asserted-Identity', `<sip:${request.from}@${this.config.domain}>`]],
        t38: { localPort: udptl.localPort, address: this.sdpHost, codecs: this.config.codecs },
        policy: this.policy(),
        signal: request.signal,
      });
      return { call, udptl, pacing: this.pacing };
    } catch (error) {
      await udptl.close();
      throw error;
    }
  }

  async listen(handler: InboundCallHandler): Promise<void> {
    if (this.#listener) throw new Error(`${this.id} is already listening`);
    const allowed = new Set(this.config.inboundFrom);
    this.#listener = await answerInboundCalls({
      userAgent: this.userAgent,
      carrierId: this.id,
      handler,
      // IP authentication (no digest on inbound INVITEs): only the trunk's own addresses may call in.
      screen: (invite) => (allowed.size > 0 && !allowed.has(invite.source.address) ? 403 : null),
      policy: { ...this.policy(), answerReinviteDelayMs: this.pacing === 'none' ? 0 : 500 },
      pacing: this.pacing,
      mediaAddress: this.mediaHost,
      advertisedMediaAddress: this.sdpHost,
      codecs: this.config.codecs,
      routeDid: (did, invite) => {
        const user = (() => {
          try {
            return parseSipUri(invite.request.uri).user;
          } catch {
            return undefined;
          }
        })();
        const mapped =
          (user !== undefined ? this.config.dids[user] : undefined) ??
          (did ? this.config.dids[did] : undefined);
        return mapped ?? did ?? toE164(user);
      },
    });
  }

  async close(): Promise<void> {
    await this.#registration?.stop().catch(() => {});
    await this.#listener?.close();
    await this.userAgent.close();
  }
}
