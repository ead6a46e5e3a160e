/**
 * @module
 * `telefax sip call` and `telefax sip answer`: one fax call over SIP with T.38, for interop and field debugging.
 * `call` places a call and sends a TIFF (we are the calling station); `answer` takes one call, receives the fax
 * into a directory and exits. The SIP side is src/sip's fax call (audio first, re-INVITE to T.38, or T.38 in the
 * first INVITE); the fax side is the same T.30 session over T.38 as `telefax send|receive`, with the same final
 * JSON line plus a `sip` object. A call that never reaches T.38 ends with the SIP failure as `reason`
 * (`t38_not_supported`, `fax_not_detected`, `busy`, `auth_failed`…) and a one-line error on stderr.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { type Command, Option } from 'commander';
import { tiffPages } from '../image/tiff-reader.ts';
import {
  answerFaxCalls,
  type FaxCall,
  FaxCallError,
  type FaxCallMedia,
  type FaxCallPolicy,
  placeFaxCall,
} from '../sip/fax-call.ts';
import type { Registration } from '../sip/registration.ts';
import { DEFAULT_T38_CAPABILITIES, type T38Capabilities } from '../sip/sdp-t38.ts';
import type { SipMessage } from '../sip/sip-message.ts';
import { SipRequestError } from '../sip/sip-request-error.ts';
import { serializeSipMessage } from '../sip/sip-serializer.ts';
import { parseSipUri } from '../sip/sip-uri.ts';
import type { SipEndpoint, SipTransportProtocol } from '../sip/transport.ts';
import { UserAgent } from '../sip/user-agent.ts';
import type { FaxOutcome } from '../t30/fax-outcome.ts';
import { T38Transport } from '../t38/t38-transport.ts';
import { UdptlEndpoint } from '../t38/udptl-endpoint.ts';
import type { UdptlErrorCorrection } from '../t38/udptl-sender.ts';
import {
  addT30Options,
  type FaxCliSummary,
  filePages,
  ReceivedPageStore,
  report,
  runT30Session,
  summarise,
  type T30CliOptions,
} from './fax-commands.ts';

interface SipCliOptions extends T30CliOptions {
  sipPort?: string;
  localAddress?: string;
  advertisedHost?: string;
  transport: 'udp' | 'tcp';
  udptlPort: string;
  user?: string;
  password?: string;
  realm?: string;
  from?: string;
  proxy?: string;
  register?: string;
  aor?: string;
  initialOffer: 'audio' | 't38' | 'both';
  reinviteWaitMs?: string;
  reinvite: boolean;
  switchTimeoutMs: string;
  answerTimeoutMs: string;
  waitS?: string;
  sipTrace: boolean;
  outDir?: string;
}

/** The `sip` object appended to the JSON summary. */
export interface SipCliDetails {
  callId: string | null;
  direction: 'outgoing' | 'incoming';
  /** SIP status behind a failure, if any. */
  status: number | null;
  /** The far end's UDPTL address, `host:port`, once T.38 was agreed. */
  remoteUdptl: string | null;
  t38: {
    version: number;
    maxBitRate: number | null;
    udpEc: string | null;
    remoteMaxDatagram: number | null;
  } | null;
  /** Whether a REGISTER (with --register) succeeded. */
  registered: boolean | null;
  /** Datagrams the far end sent to our audio port (its RTP while the call was in audio, before T.38). */
  rtpPacketsReceived: number;
}

function integer(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^[0-9]+$/.test(text) || n < min || n > max)
    throw new Error(`${name} must be an integer ${min}..${max}`);
  return n;
}

/** The local address the kernel would use to reach `host` (no packet is sent: connect() on UDP only routes). */
async function addressTowards(host: string): Promise<string> {
  const socket = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(9, host, () => resolve(socket.address().address));
    });
  } finally {
    socket.close();
  }
}

function hostOf(uri: string): string {
  const host = parseSipUri(uri).host;
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

/**
 * Where we bind and what we write in Via/Contact/c=: --local-address (default: the address that routes to the
 * next hop — proxy, registrar or target — else 127.0.0.1); a wildcard bind advertises that routed address unless
 * --advertised-host names another.
 */
async function localAddresses(opts: SipCliOptions, nextHop: string | undefined) {
  const routed = nextHop ? await addressTowards(hostOf(nextHop)).catch(() => '127.0.0.1') : '127.0.0.1';
  const bind = opts.localAddress ?? routed;
  const wildcard = bind === '0.0.0.0' || bind === '::';
  const advertised = opts.advertisedHost ?? (wildcard ? routed : bind);
  return { bind, advertised };
}

function sipTrace(direction: 'in' | 'out', message: SipMessage, peer: SipEndpoint): void {
  const arrow = direction === 'in' ? '<<' : '>>';
  const text = serializeSipMessage(message).toString('utf8').trimEnd();
  process.stderr.write(`${arrow} ${peer.protocol} ${peer.address}:${peer.port}\n${text}\n\n`);
}

function capabilitiesFrom(opts: SipCliOptions): T38Capabilities {
  return {
    ...DEFAULT_T38_CAPABILITIES,
    version: Number(opts.t38Version),
    maxBitRate: Math.min(14400, Number(opts.maxRate)),
  };
}

function policyFrom(opts: SipCliOptions): FaxCallPolicy {
  const reinviteWaitMs = integer(opts.reinviteWaitMs, '--reinvite-wait-ms', 0, 600_000);
  return {
    initialOffer: opts.initialOffer,
    sendReinvite: opts.reinvite,
    switchTimeoutMs: integer(opts.switchTimeoutMs, '--switch-timeout-ms', 100, 600_000),
    noAnswerTimeoutMs: integer(opts.answerTimeoutMs, '--answer-timeout-ms', 100, 3_600_000),
    ...(reinviteWaitMs !== undefined ? { reinviteWaitMs, answerReinviteDelayMs: reinviteWaitMs } : {}),
  };
}

function credentialsFrom(opts: SipCliOptions) {
  if (opts.user === undefined) return undefined;
  if (opts.password === undefined) throw new Error('--user needs --password');
  return { username: opts.user, password: opts.password, ...(opts.realm ? { realm: opts.realm } : {}) };
}

async function createUserAgent(
  opts: SipCliOptions,
  port: number,
  nextHop: string | undefined,
  both: boolean,
) {
  const { bind, advertised } = await localAddresses(opts, nextHop);
  const protocol: SipTransportProtocol = opts.transport === 'tcp' ? 'TCP' : 'UDP';
  const credentials = credentialsFrom(opts);
  const ua = await UserAgent.create({
    host: bind,
    port,
    advertisedHost: advertised,
    transports: both ? ['UDP', 'TCP'] : [protocol],
    ...(opts.user ? { contactUser: opts.user } : {}),
    ...(credentials ? { credentials } : {}),
    ...(opts.proxy ? { outboundProxy: withTransport(opts.proxy, opts.transport) } : {}),
    ...(opts.sipTrace ? { trace: sipTrace } : {}),
  });
  return { ua, bind, advertised };
}

/** Adds ;transport=tcp to a URI that names no transport, so --transport tcp reaches the next hop over TCP. */
function withTransport(uri: string, transport: 'udp' | 'tcp'): string {
  if (transport === 'udp' || /;transport=/i.test(uri)) return uri;
  const q = uri.indexOf('?');
  return q < 0 ? `${uri};transport=tcp` : `${uri.slice(0, q)};transport=tcp${uri.slice(q)}`;
}

async function bindUdp(address: string, port: number): Promise<Socket> {
  const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return socket;
}

/**
 * The call's media sockets, bound before the SDP names their ports. The UDPTL socket: datagrams that arrive before
 * T.38 is agreed (a far end may start CED/DIS the moment it sends its 200) are kept and handed to the endpoint made
 * for the agreed media. The audio socket is the call's RTP socket while it is in audio: the fax call plays our
 * CNG/CED on it and listens for the far end's tone until T.38 takes over; it stays ours and is closed here.
 */
class MediaSockets {
  readonly #early: Array<[Buffer, RemoteInfo]> = [];
  #handedOver = false;
  #rtpPacketsReceived = 0;
  private constructor(
    readonly socket: Socket,
    readonly audio: Socket,
  ) {
    socket.on('message', this.#keep);
    audio.on('message', () => {
      this.#rtpPacketsReceived++;
    });
    // Media is best effort: a socket error must not become an uncaught 'error' event and end the process.
    socket.on('error', () => {});
    audio.on('error', () => {});
  }

  static async bind(address: string, port: number): Promise<MediaSockets> {
    const socket = await bindUdp(address, port);
    // Unpaced peers burst thousands of datagrams a second; a small buffer drops them whenever the loop stalls.
    try {
      socket.setRecvBufferSize(4 << 20);
    } catch {
      // capped by net.core.rmem_max; the default still works, with more recovery
    }
    try {
      return new MediaSockets(socket, await bindUdp(address, 0));
    } catch (err) {
      socket.close();
      throw err;
    }
  }

  get port(): number {
    return this.socket.address().port;
  }

  get rtpPacketsReceived(): number {
    return this.#rtpPacketsReceived;
  }

  readonly #keep = (message: Buffer, from: RemoteInfo): void => {
    if (this.#early.length < 256) this.#early.push([message, from]);
  };

  /**
   * The endpoint for the agreed media: its far end, error correction and datagram size (T.38 Annex E). Datagrams
   * kept so far wait for {@link replayEarly}.
   */
  endpointFor(media: FaxCallMedia): UdptlEndpoint {
    this.#handedOver = true;
    this.socket.off('message', this.#keep);
    const endpoint = new UdptlEndpoint(this.socket, {
      remoteHost: media.remoteAddress,
      remotePort: media.remotePort,
      errorCorrection: errorCorrectionOf(media),
      ...(media.remote.maxDatagram ? { farMaxDatagram: media.remote.maxDatagram } : {}),
    });
    return endpoint;
  }

  /** Feeds the datagrams kept so far to the endpoint; call once the T.38 layer listens to it. */
  replayEarly(): void {
    for (const [message, from] of this.#early.splice(0)) this.socket.emit('message', message, from);
  }

  close(): void {
    this.audio.close();
    if (this.#handedOver) return;
    this.#handedOver = true;
    this.socket.close();
  }
}

function errorCorrectionOf(media: FaxCallMedia): UdptlErrorCorrection {
  switch (media.agreed.udpEc) {
    case 't38UDPNoEC':
      return { mode: 'none' };
    case 't38UDPFEC':
      return { mode: 'fec' };
    default:
      return { mode: 'redundancy' };
  }
}

function detailsOf(
  call: FaxCall | undefined,
  direction: 'outgoing' | 'incoming',
  sockets: MediaSockets | undefined,
): SipCliDetails {
  const media = call?.media;
  return {
    callId: call?.callId ?? null,
    direction,
    status: null,
    remoteUdptl: media ? `${media.remoteAddress}:${media.remotePort}` : null,
    t38: media
      ? {
          version: media.agreed.version,
          maxBitRate: media.agreed.maxBitRate ?? null,
          udpEc: media.agreed.udpEc ?? null,
          remoteMaxDatagram: media.remote.maxDatagram ?? null,
        }
      : null,
    registered: null,
    rtpPacketsReceived: sockets?.rtpPacketsReceived ?? 0,
  };
}

/** Runs T.30 over the call's T.38 media; follows later media changes, and stops soon after the call ends. */
async function runFaxOverCall(
  opts: SipCliOptions,
  call: FaxCall,
  udptl: MediaSockets,
  session: Parameters<typeof runT30Session>[2],
): Promise<FaxOutcome> {
  const endpoint = udptl.endpointFor(call.media);
  call.onMediaChange = (media) => endpoint.setRemote(media.remoteAddress, media.remotePort);
  const transport = new T38Transport(endpoint, {
    version: call.media.agreed.version,
    pace: opts.pace,
    ...(call.media.remote.maxIfp ? { maxIfpBytes: call.media.remote.maxIfp } : {}),
  });
  udptl.replayEarly();
  // A BYE under T.30 ends the session (transport_closed) instead of leaving it to run into T1/T5; the grace
  // lets the last frames already queued be read.
  void call.ended.then(() => setTimeout(() => void transport.close(), 1000).unref());
  try {
    return await runT30Session(opts, transport, session);
  } finally {
    await transport.close();
  }
}

/** Why a call never reached T.30: a {@link FaxCallError}, a failed REGISTER, or no call at all. */
interface SipFailure {
  readonly reason: string;
  readonly message: string;
  readonly callId?: string | undefined;
  readonly status?: number | undefined;
}

/** The summary for a call that never reached T.30: the same fields as a fax outcome, the SIP failure as reason. */
function sipFailureSummary(failure: SipFailure, startedAt: number): FaxCliSummary {
  return {
    ok: false,
    reason: failure.reason,
    message: failure.message,
    pages: 0,
    bitRate: null,
    ecm: null,
    compression: null,
    resolution: null,
    remoteIdent: null,
    durationMs: Date.now() - startedAt,
    pageDoneMs: [],
  };
}

function reportSipFailure(failure: SipFailure, json: boolean, sip: SipCliDetails, startedAt: number): void {
  const details = { ...sip, callId: failure.callId ?? sip.callId, status: failure.status ?? sip.status };
  if (json)
    process.stdout.write(`${JSON.stringify({ ...sipFailureSummary(failure, startedAt), sip: details })}\n`);
  process.stderr.write(`telefax: ${failure.reason}: ${failure.message}\n`);
  process.exitCode = 1;
}

function reportFax(outcome: FaxOutcome, opts: SipCliOptions, sip: SipCliDetails): void {
  report(outcome, opts.json, { sip });
  if (!outcome.ok) {
    const summary = summarise(outcome);
    process.stderr.write(`telefax: ${summary.reason}: ${summary.message}\n`);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return Promise.race([promise, new Promise<undefined>((r) => setTimeout(() => r(undefined), ms).unref())]);
}

async function sipCall(target: string, file: string, opts: SipCliOptions): Promise<void> {
  const startedAt = Date.now();
  const bytes = readFileSync(file);
  // Fail on an unreadable document before anyone's phone rings.
  tiffPages(bytes).next();
  const policy = policyFrom(opts);
  const sipPort = integer(opts.sipPort, '--sip-port', 0, 65535) ?? 0;
  const udptlPort = integer(opts.udptlPort, '--udptl-port', 0, 65535) ?? 0;
  const uri = withTransport(target, opts.transport);
  parseSipUri(uri);
  const { ua, bind, advertised } = await createUserAgent(opts, sipPort, opts.proxy ?? uri, false);
  let media: MediaSockets | undefined;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    media = await MediaSockets.bind(bind, udptlPort);
    let call: FaxCall;
    try {
      call = await placeFaxCall({
        target: uri,
        userAgent: ua,
        ...(opts.from ? { from: opts.from } : {}),
        t38: {
          localPort: media.port,
          audioSocket: media.audio,
          address: advertised,
          capabilities: capabilitiesFrom(opts),
        },
        policy,
        signal: abort.signal,
      });
    } catch (err) {
      if (!(err instanceof FaxCallError)) throw err;
      reportSipFailure(err, opts.json, detailsOf(undefined, 'outgoing', media), startedAt);
      return;
    }
    const outcome = await runFaxOverCall(opts, call, media, {
      direction: 'send',
      calling: true,
      pages: filePages(bytes),
    });
    // The side that sent the document ends the call after DCN (T.30 phase E).
    if (call.dialog.state !== 'terminated') await call.hangup();
    reportFax(outcome, opts, detailsOf(call, 'outgoing', media));
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    media?.close();
    await ua.close();
  }
}

type FirstCall = FaxCall | FaxCallError | 'timeout' | 'signal';

async function sipAnswer(opts: SipCliOptions): Promise<void> {
  const port = integer(opts.sipPort, '--sip-port', 0, 65535) ?? 5060;
  const udptlPort = integer(opts.udptlPort, '--udptl-port', 0, 65535) ?? 0;
  const waitS = integer(opts.waitS, '--wait-s', 1, 86_400);
  const policy = policyFrom(opts);
  const credentials = credentialsFrom(opts);
  const registrar = opts.register ? withTransport(opts.register, opts.transport) : undefined;
  if (registrar) parseSipUri(registrar);
  const listenOnBoth = opts.transport === 'udp' && !registrar && !opts.proxy;
  const { ua, bind, advertised } = await createUserAgent(opts, port, opts.proxy ?? registrar, listenOnBoth);
  const startedAt = Date.now();
  let media: MediaSockets | undefined;
  let store: ReceivedPageStore | undefined;
  let listener: Awaited<ReturnType<typeof answerFaxCalls>> | undefined;
  let registration: Registration | undefined;
  let settle: (value: FirstCall) => void = () => {};
  const first = new Promise<FirstCall>((resolve) => {
    settle = resolve;
  });
  const onSignal = () => settle('signal');
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let timer: NodeJS.Timeout | undefined;
  try {
    media = await MediaSockets.bind(bind, udptlPort);
    store = new ReceivedPageStore(opts.outDir!);
    let taken = false;
    listener = await answerFaxCalls({
      userAgent: ua,
      t38: {
        localPort: media.port,
        audioSocket: media.audio,
        address: advertised,
        capabilities: capabilitiesFrom(opts),
      },
      policy,
      // One call per run: a second caller meanwhile hears busy.
      accept: () => {
        if (taken) return 486;
        taken = true;
        return true;
      },
      onCall: (call) => settle(call),
      onError: (err) => settle(err),
    });
    const details: SipCliDetails = { ...detailsOf(undefined, 'incoming', media), registered: null };
    if (registrar) {
      try {
        registration = await ua.register({
          registrar,
          aor: opts.aor ?? `sip:${opts.user ?? 'telefax'}@${hostOf(registrar)}`,
          ...(credentials ? { credentials } : {}),
        });
      } catch (err) {
        if (!(err instanceof SipRequestError)) throw err;
        const reason = err.code === 'auth_failed' || err.code === 'timeout' ? err.code : 'rejected';
        const message = `REGISTER to ${registrar} failed${err.status ? ` (SIP ${err.status})` : ''}`;
        reportSipFailure(
          { reason, message, status: err.status },
          opts.json,
          { ...details, registered: false },
          startedAt,
        );
        return;
      }
      details.registered = true;
    }
    process.stderr.write(`telefax: listening on sip port ${ua.stack.port()}\n`);
    if (waitS !== undefined) timer = setTimeout(() => settle('timeout'), waitS * 1000);
    const got = await first;
    if (got === 'timeout' || got === 'signal') {
      const failure =
        got === 'timeout'
          ? { reason: 'timeout', message: `no call came in within ${waitS} s` }
          : { reason: 'cancelled', message: 'interrupted before a call came in' };
      reportSipFailure(failure, opts.json, details, startedAt);
      return;
    }
    if (got instanceof FaxCallError) {
      reportSipFailure(
        got,
        opts.json,
        { ...details, rtpPacketsReceived: media.rtpPacketsReceived },
        startedAt,
      );
      return;
    }
    const pages = store;
    const outcome = await runFaxOverCall(opts, got, media, {
      direction: 'receive',
      calling: false,
      onPage: (page, info) => pages.add(page, info.pageNumber, info.badRows),
    });
    // The sender hangs up after DCN; give its BYE a moment before sending ours.
    await withTimeout(got.ended, 2000);
    if (got.dialog.state !== 'terminated') await got.hangup();
    reportFax(outcome, opts, { ...detailsOf(got, 'incoming', media), registered: details.registered });
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    store?.close();
    await registration?.stop();
    await listener?.close();
    media?.close();
    await ua.close();
  }
}

function addSipOptions(cmd: Command): Command {
  cmd
    .option(
      '--local-address <ip>',
      'address to bind (default: the one that routes to the next hop, else 127.0.0.1)',
    )
    .option('--advertised-host <host>', 'host written in Via, Contact and SDP (NAT, or a wildcard bind)')
    .addOption(new Option('--transport <proto>', 'SIP transport').choices(['udp', 'tcp']).default('udp'))
    .option('--udptl-port <port>', 'local UDPTL port (default: any free port)', '0')
    .option('--user <name>', 'digest user name (also the user part of our Contact)')
    .option('--password <secret>', 'digest password')
    .option('--realm <realm>', 'answer digest challenges of this realm only')
    .option('--proxy <uri>', 'outbound proxy for requests outside dialogs, e.g. sip:sbc.example.com:5060')
    .addOption(
      new Option('--initial-offer <media>', 'what the INVITE offers')
        .choices(['audio', 't38', 'both'])
        .default('audio'),
    )
    .option('--reinvite-wait-ms <ms>', 'wait before our own T.38 re-INVITE (caller default 5000, callee 500)')
    .option('--no-reinvite', "never send our own T.38 re-INVITE; wait for the far end's")
    .option(
      '--switch-timeout-ms <ms>',
      'give up (fax_not_detected) when T.38 is not agreed this long after answer',
      '30000',
    )
    .option('--answer-timeout-ms <ms>', 'cancel the INVITE when not answered within this long', '60000')
    .option('--sip-trace', 'print every SIP message in and out on stderr', false);
  return addT30Options(cmd);
}

export function registerSipCommands(program: Command): void {
  const sip = program.command('sip').description('fax calls over SIP with T.38 (one call per run)');
  addSipOptions(
    sip
      .command('call')
      .description('place a SIP call and send a TIFF over T.38 (we are the calling station)')
      .argument('<uri>', 'callee, e.g. sip:fax@192.0.2.10:5060')
      .argument('<file>', 'TIFF to send (pages 1728/2048/2432 wide)')
      .option('--sip-port <port>', 'local SIP port (default: any free port)')
      .option('--from <uri>', 'our identity (From), e.g. sip:alice@example.com'),
  ).action(async (uri: string, file: string, opts: SipCliOptions) => sipCall(uri, file, opts));

  addSipOptions(
    sip
      .command('answer')
      .description('answer one SIP call and receive a fax over T.38 into a directory, then exit')
      .requiredOption('--sip-port <port>', 'local SIP port to listen on (UDP and TCP)')
      .requiredOption('--out-dir <dir>', 'where fax.tif and page-NNN.tif are written')
      .option('--register <uri>', 'REGISTER with this registrar first (and unregister at the end)')
      .option('--aor <uri>', 'address of record to register (default sip:<user>@<registrar host>)')
      .option('--wait-s <s>', 'give up when no call comes in this long (default: wait until interrupted)'),
  ).action(async (opts: SipCliOptions) => sipAnswer(opts));
}
