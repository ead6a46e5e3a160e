/**
 * @module spandsp-sip-peer
 * Test helper around spandsp-sip-peer (sip-peer.c): the spandsp T.38 terminal of ../spandsp-peer behind the
 * sofia-sip user agent. Builds the C program on demand (cached by a hash of its sources and of the spandsp-peer
 * sources it compiles in), runs it, and parses the JSON line it prints. It is the independent SIP + T.38 far
 * end that Faxwire's own SIP user agent must interoperate with.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SpandspPeerResult } from '../spandsp-peer/spandsp-peer.ts';

export { freeUdpPorts } from '../spandsp-peer/spandsp-peer.ts';

import { cachedCBuildOnce } from '../spandsp-peer/cached-c-build.ts';
import { type PeerProcess, type PeerRun, startPeerProcess } from '../spandsp-peer/peer-process.ts';

const here = dirname(fileURLToPath(import.meta.url));
const peerDir = join(here, '..', 'spandsp-peer');
/** Sources of ../spandsp-peer that build.sh compiles in. */
const sharedSources = ['t38-session.c', 't38-session.h', 'udptl.c', 'udptl.h', 'peer-cli.c', 'peer-cli.h'];

/** What the SIP side did: the `sip` object of the JSON line. */
export interface SpandspSipDetails {
  role: 'call' | 'answer';
  media: 'audio-then-t38' | 't38' | 'audio+t38' | 'audio-only' | 'refuse-t38';
  /** Streams the initial INVITE offered. */
  initialOffer: 'audio' | 't38' | 'audio+t38' | null;
  /** Who sent the re-INVITE that switched to T.38 (`none`: T.38 from the initial offer; null: never switched). */
  reinvitedBy: 'local' | 'remote' | 'none' | null;
  /** 491 responses our re-INVITEs received. */
  glare: number;
  /** Mid-fax re-INVITEs with the unchanged T.38 description (--refresh-after-ms) answered with T.38 again. */
  refreshes: number;
  /** Last failure status sent or received (e.g. 488), 0 if none. */
  lastStatus: number;
  byeBy: 'local' | 'remote' | 'none';
  /** The far end's UDPTL address from its SDP, `host:port`. */
  remoteUdptl: string;
  /** Negotiated T.38 parameters, null if T.38 was never negotiated. */
  t38: {
    version: number;
    maxBitRate: number;
    rateManagement: string;
    udpEc: 't38UDPRedundancy' | 't38UDPFEC' | 't38UDPNoEC';
    /** T38FaxMaxDatagram of the far end, -1 if absent. */
    remoteMaxDatagram: number;
  } | null;
}

/** The JSON line the peer prints on stdout when it ends. */
export interface SpandspSipPeerResult extends SpandspPeerResult {
  /** null when the arguments were rejected */
  sip: SpandspSipDetails | null;
}

export type SpandspSipPeerRun = PeerRun<SpandspSipPeerResult>;

/** A started peer: `ready` resolves with its SIP port once it listens, `done` when it exits; `kill` ends it. */
export type SpandspSipPeerProcess = PeerProcess<number, SpandspSipPeerResult>;

export interface SpandspSipPeerOptions {
  /** Stop the process after this long (ms); the peer's own --timeout-s should normally fire first. */
  killAfterMs?: number;
}

/** Compiles the peer if its sources changed since the last build; returns the binary's path. */
export const buildSpandspSipPeer = cachedCBuildOnce({
  name: 'spandsp-sip-peer',
  dir: here,
  extraSources: sharedSources.map((name) => join(peerDir, name)),
  pkgConfig: ['sofia-sip-ua', 'spandsp', 'libtiff-4'],
  installHint: 'apt-get install -y gcc pkg-config libsofia-sip-ua-dev libspandsp-dev libtiff-dev',
});

/**
 * Starts the peer with `args`, e.g. `['answer', '--sip-port', '5070', '--out', 'rx.tif', '--pace', 'none']` or
 * `['call', 'sip:fax@127.0.0.1:5070', 'doc.tif', '--pace', 'none']`.
 */
export async function startSpandspSipPeer(
  args: readonly string[],
  options: SpandspSipPeerOptions = {},
): Promise<SpandspSipPeerProcess> {
  return startPeerProcess<number, SpandspSipPeerResult>(await buildSpandspSipPeer(), args, {
    name: 'spandsp-sip-peer',
    readyLine: /spandsp-sip-peer: listening on sip port (\d+)/,
    readyValue: (match) => Number(match[1]),
    // Hanging up takes a BYE and its answer.
    hardKillAfterMs: 5000,
    killAfterMs: options.killAfterMs,
  });
}

/** Runs the peer to completion. */
export async function runSpandspSipPeer(
  args: readonly string[],
  options: SpandspSipPeerOptions = {},
): Promise<SpandspSipPeerRun> {
  return (await startSpandspSipPeer(args, options)).done;
}
