/**
 * @module lines/run-t30-over-call
 * One T.30 session over a call that reached T.38: the T.38 transport on the call's UDPTL socket, following the
 * far end when a re-INVITE moves its media, closed when the far end hangs up (so T.30 ends at once instead of
 * waiting out T1/T2), and the call hung up (BYE after DCN, T.30 §5.3.4) when the session ends.
 */

import type { T38Params } from 'telefax/sip/sdp-t38';
import type { FaxOutcome } from 'telefax/t30/fax-outcome';
import type { T30Port } from 'telefax/t30/t30-port';
import { T30Session, type T30SessionOptions } from 'telefax/t30/t30-session';
import { T38Transport } from 'telefax/t38/t38-transport';
import type { CarrierCall } from './carrier.ts';

/**
 * The largest IFP the far end takes. Peers read T38FaxMaxDatagram as UDPTL or as IFP size (fax-engines.md §3.3),
 * so a small value is taken as the UDPTL datagram holding an IFP and three redundant copies (Asterisk's sizing).
 */
function ifpLimit(remote: T38Params): { maxIfpBytes?: number } {
  const limits: number[] = [];
  if (remote.maxIfp !== undefined && remote.maxIfp > 0) limits.push(remote.maxIfp);
  if (remote.maxDatagram !== undefined && remote.maxDatagram > 0 && remote.maxDatagram < 400) {
    limits.push(Math.floor(((remote.maxDatagram - 8) / 4) * 0.95));
  }
  return limits.length === 0 ? {} : { maxIfpBytes: Math.max(32, Math.min(...limits)) };
}

export type T30CallOptions = Omit<T30SessionOptions, 'port' | 'calling'>;

export interface T30CallResult {
  readonly outcome: FaxOutcome;
  /** The far end hung up before our session ended. */
  readonly remoteHungUp: boolean;
}

export async function runT30OverCall(
  carrierCall: CarrierCall,
  options: T30CallOptions,
  onSession?: (session: T30Session) => void,
  /** Puts a port between T.30 and the transport (a test far end with a flaw). */
  wrapPort?: (port: T30Port) => T30Port,
): Promise<T30CallResult> {
  const { call, udptl } = carrierCall;
  udptl.setRemote(call.media.remoteAddress, call.media.remotePort);
  call.onMediaChange = (media) => udptl.setRemote(media.remoteAddress, media.remotePort);
  const transport = new T38Transport(udptl, {
    version: call.media.agreed.version,
    pace: carrierCall.pacing,
    ...ifpLimit(call.media.remote),
  });
  let sessionDone = false;
  let remoteHungUp = false;
  void call.ended.then(() => {
    if (sessionDone) return;
    remoteHungUp = true;
    void transport.close();
  });
  try {
    const port = wrapPort ? wrapPort(transport) : transport;
    const session = new T30Session({ ...options, port, calling: call.direction === 'outgoing' });
    onSession?.(session);
    const outcome = await session.run();
    sessionDone = true;
    return { outcome, remoteHungUp };
  } finally {
    sessionDone = true;
    await transport.close();
    await call.hangup().catch(() => {});
  }
}
