/**
 * @module lines/loopback-carrier
 * The carrier of the embedded deployment: a range of numbers that belongs to this instance, and real SIP and
 * T.38 between them on the loopback address. Its exchange is an inbound SIP listener of this instance; the
 * outbound side dials it, so a fax from one of our numbers to another goes through both of our user agents
 * exactly as it would through a trunk. Test numbers are dialled to a built-in far end instead (test-numbers.ts).
 */
import { type FaxCallListener, type FaxCallPolicy, placeFaxCall } from 'telefax/sip/fax-call';
import { UserAgent } from 'telefax/sip/user-agent';
import { UdptlEndpoint } from 'telefax/t38/udptl-endpoint';
import { answerInboundCalls } from './answer-inbound-calls.ts';
import type { Carrier, CarrierCall, InboundCallHandler, OutboundCallRequest } from './carrier.ts';
import { LoopbackFarEnd } from './loopback-far-end.ts';
import type { TestNumberBehaviour } from './test-numbers.ts';

export interface LoopbackCarrierOptions {
  /** Inclusive E.164 range of this instance's numbers (same length at both ends). */
  readonly range: { readonly first: string; readonly last: string };
  /** Test numbers and what each does; empty for none. */
  readonly testNumbers: ReadonlyMap<string, TestNumberBehaviour>;
  /** 'realtime' paces T.38 like a modem line; 'none' sends as fast as possible (tests, benchmarks). */
  readonly pacing: 'realtime' | 'none';
  /** SIP port of the exchange (0: any free port). */
  readonly sipPort?: number;
  /** Loopback address to use; default 127.0.0.1. */
  readonly host?: string;
  /** How long a call to a test number that never answers, or never switches to fax, lasts. Default 15 s. */
  readonly testNumberTimeoutMs?: number;
  /** Simultaneous calls; default unlimited. */
  readonly channels?: number;
}

export class LoopbackCarrier implements Carrier {
  readonly id = 'loopback';
  readonly channels: number;
  #exchange: UserAgent | null = null;
  #listener: FaxCallListener | null = null;
  #outbound: Promise<UserAgent> | null = null;
  #farEnd: Promise<LoopbackFarEnd> | null = null;

  constructor(private readonly options: LoopbackCarrierOptions) {
    this.channels = options.channels ?? Number.POSITIVE_INFINITY;
  }

  get host(): string {
    return this.options.host ?? '127.0.0.1';
  }

  /** The exchange's SIP port (where inbound calls to our numbers arrive), once listening. */
  get sipPort(): number | null {
    return this.#exchange?.stack.port('UDP') ?? null;
  }

  routes(to: string): number {
    const { first, last } = this.options.range;
    const ours =
      (to.length === first.length && to >= first && to <= last) || this.options.testNumbers.has(to);
    return ours ? Number.POSITIVE_INFINITY : 0;
  }

  /** What the caller does: the called side re-INVITEs at once on an unpaced line, as gateways do after CED. */
  private policyFor(to: string): FaxCallPolicy {
    const fast = this.options.pacing === 'none';
    const base: FaxCallPolicy = { initialOffer: 'audio', reinviteWaitMs: fast ? 200 : 5000 };
    if (!this.options.testNumbers.has(to)) return base;
    const timeoutMs = this.options.testNumberTimeoutMs ?? 15_000;
    return { ...base, noAnswerTimeoutMs: timeoutMs, switchTimeoutMs: timeoutMs };
  }

  async placeCall(request: OutboundCallRequest): Promise<CarrierCall> {
    const isTest = this.options.testNumbers.has(request.to);
    const port = isTest ? (await this.farEnd()).port : this.sipPort;
    if (port === null) throw new Error('the loopback exchange is not listening');
    this.#outbound ??= UserAgent.create({
      host: this.host,
      port: 0,
      contactUser: 'faxwire',
      userAgent: 'faxwire',
    });
    const userAgent = await this.#outbound;
    const udptl = await UdptlEndpoint.open({ localAddress: this.host });
    try {
      const call = await placeFaxCall({
        target: `sip:${request.to}@${this.host}:${port}`,
        userAgent,
        from: `sip:${request.from}@${this.host}`,
        t38: { localPort: udptl.localPort, address: this.host },
        policy: this.policyFor(request.to),
        signal: request.signal,
      });
      return { call, udptl, pacing: this.options.pacing };
    } catch (error) {
      await udptl.close();
      throw error;
    }
  }

  private farEnd(): Promise<LoopbackFarEnd> {
    this.#farEnd ??= LoopbackFarEnd.start({
      host: this.host,
      numbers: this.options.testNumbers,
      pacing: this.options.pacing,
    });
    return this.#farEnd;
  }

  async listen(handler: InboundCallHandler): Promise<void> {
    if (this.#exchange) throw new Error('the loopback carrier is already listening');
    this.#exchange = await UserAgent.create({
      host: this.host,
      port: this.options.sipPort ?? 0,
      contactUser: 'faxwire',
      userAgent: 'faxwire',
    });
    this.#listener = await answerInboundCalls({
      userAgent: this.#exchange,
      carrierId: this.id,
      handler,
      policy: { answerReinviteDelayMs: this.options.pacing === 'none' ? 0 : 500 },
      pacing: this.options.pacing,
      mediaAddress: this.host,
    });
  }

  async close(): Promise<void> {
    await this.#listener?.close();
    await this.#exchange?.close();
    await (await this.#outbound)?.close();
    await (await this.#farEnd)?.close();
    this.#listener = null;
    this.#exchange = null;
    this.#outbound = null;
    this.#farEnd = null;
  }
}
