/**
 * @module
 * The offer/answer model (RFC 3264) for fax calls: building audio (G.711 + telephone-event) and T.38 image media
 * lines, answering an offer with as many m-lines as it has (§6: rejected streams get port 0), and reading which
 * stream a description actually enables.
 */
import type { G711Codec } from '../rtp/g711.ts';
import { mediaAddress, type SdpAttribute, type SdpMedia, type SessionDescription } from './sdp.ts';
import {
  buildT38Answer,
  DEFAULT_T38_CAPABILITIES,
  formatT38Attributes,
  isT38Media,
  parseT38Params,
  type T38Capabilities,
  type T38Params,
} from './sdp-t38.ts';

export type { G711Codec };

const STATIC_PAYLOAD: Readonly<Record<G711Codec, string>> = { PCMU: '0', PCMA: '8' };
const TELEPHONE_EVENT_PT = '101';

export interface SdpOriginState {
  readonly address: string;
  readonly sessionId: string;
  /** Incremented for every new description we send (RFC 3264 §8); repeated unchanged for a refresh. */
  readonly sessionVersion: number;
}

export function audioMedia(port: number, codecs: readonly G711Codec[] = ['PCMU', 'PCMA']): SdpMedia {
  const formats = [...codecs.map((c) => STATIC_PAYLOAD[c]), TELEPHONE_EVENT_PT];
  const attributes: SdpAttribute[] = [
    ...codecs.map((c) => ({ name: 'rtpmap', value: `${STATIC_PAYLOAD[c]} ${c}/8000` })),
    { name: 'rtpmap', value: `${TELEPHONE_EVENT_PT} telephone-event/8000` },
    { name: 'fmtp', value: `${TELEPHONE_EVENT_PT} 0-15` },
    { name: 'ptime', value: '20' },
    { name: 'sendrecv' },
  ];
  return { type: 'audio', port, protocol: 'RTP/AVP', formats, bandwidths: [], attributes, otherLines: [] };
}

export function imageMedia(port: number, params: T38Params): SdpMedia {
  return {
    type: 'image',
    port,
    protocol: 'udptl',
    formats: ['t38'],
    bandwidths: [],
    attributes: formatT38Attributes(params),
    otherLines: [],
  };
}

/** The answer's line for a stream we decline: same type, protocol and formats, port 0 (RFC 3264 §6). */
export function rejectedMedia(offered: SdpMedia): SdpMedia {
  return {
    type: offered.type,
    port: 0,
    protocol: offered.protocol,
    formats: offered.formats.length > 0 ? [offered.formats[0]!] : ['0'],
    bandwidths: [],
    attributes: [],
    otherLines: [],
  };
}

export function createSessionDescription(
  origin: SdpOriginState,
  media: readonly SdpMedia[],
): SessionDescription {
  const addrType = origin.address.includes(':') ? 'IP6' : 'IP4';
  return {
    origin: {
      username: '-',
      sessionId: origin.sessionId,
      sessionVersion: String(origin.sessionVersion),
      netType: 'IN',
      addrType,
      address: origin.address,
    },
    sessionName: 'telefax',
    connection: { netType: 'IN', addrType, address: origin.address },
    bandwidths: [],
    timing: '0 0',
    attributes: [],
    otherLines: [],
    media,
  };
}

/** The G.711 codec to use from an audio offer, honouring the offerer's order; undefined when none is common. */
export function pickG711(
  media: SdpMedia,
  supported: readonly G711Codec[] = ['PCMU', 'PCMA'],
): G711Codec | undefined {
  for (const format of media.formats) {
    const rtpmap = media.attributes.find(
      (a) => a.name.toLowerCase() === 'rtpmap' && a.value?.split(/\s+/)[0] === format,
    );
    const name = rtpmap?.value?.split(/\s+/)[1]?.split('/')[0]?.toUpperCase();
    const codec = (name ?? (format === '0' ? 'PCMU' : format === '8' ? 'PCMA' : undefined)) as
      | G711Codec
      | undefined;
    if (codec !== undefined && supported.includes(codec)) return codec;
  }
  return undefined;
}

export interface NegotiatedT38 {
  readonly address: string;
  readonly port: number;
  readonly params: T38Params;
}

export interface NegotiatedAudio {
  readonly address: string;
  readonly port: number;
  readonly codec: G711Codec;
}

/**
 * What a description enables: the first active T.38 image stream and the first active audio stream with a G.711
 * codec among `codecs` (default both), with its first such codec.
 */
export function activeMedia(
  sdp: SessionDescription,
  codecs?: readonly G711Codec[],
): { t38?: NegotiatedT38; audio?: NegotiatedAudio } {
  const out: { t38?: NegotiatedT38; audio?: NegotiatedAudio } = {};
  for (const m of sdp.media) {
    if (m.port === 0) continue;
    const address = mediaAddress(sdp, m);
    if (address === undefined) continue;
    if (!out.t38 && isT38Media(m)) out.t38 = { address, port: m.port, params: parseT38Params(m.attributes) };
    if (!out.audio && m.type === 'audio' && /^RTP\/AVP$/i.test(m.protocol)) {
      const codec = pickG711(m, codecs);
      if (codec !== undefined) out.audio = { address, port: m.port, codec };
    }
  }
  return out;
}

export interface AnswerPlan {
  readonly origin: SdpOriginState;
  /** Our RTP port for audio; without it audio is declined. */
  readonly audioPort?: number;
  readonly codecs?: readonly G711Codec[];
  /** Our UDPTL port; without it T.38 is declined. */
  readonly t38Port?: number;
  readonly t38Capabilities?: T38Capabilities;
  /** Which stream to take when an offer has both (a DIDWW-style dual offer); default T.38. */
  readonly prefer?: 'audio' | 't38';
}

export interface Answer {
  readonly sdp: SessionDescription;
  /** The stream we enabled, or null when nothing could be accepted (answer 488). */
  readonly accepted: 'audio' | 't38' | null;
  readonly t38?: NegotiatedT38 & { readonly local: T38Params };
  readonly audio?: NegotiatedAudio;
}

/** Answers an offer with exactly one active stream: T.38 or audio, per the plan. */
export function answerOffer(offer: SessionDescription, plan: AnswerPlan): Answer {
  const remote = activeMedia(offer, plan.codecs);
  const canT38 = remote.t38 !== undefined && plan.t38Port !== undefined;
  const canAudio = remote.audio !== undefined && plan.audioPort !== undefined;
  const accepted: 'audio' | 't38' | null =
    canT38 && (plan.prefer !== 'audio' || !canAudio) ? 't38' : canAudio ? 'audio' : null;
  let t38: Answer['t38'];
  let audio: NegotiatedAudio | undefined;
  let done = false;
  const media = offer.media.map((m) => {
    if (done || m.port === 0) return rejectedMedia(m);
    if (accepted === 't38' && isT38Media(m)) {
      done = true;
      const local = buildT38Answer(
        parseT38Params(m.attributes),
        plan.t38Capabilities ?? DEFAULT_T38_CAPABILITIES,
      );
      t38 = { ...remote.t38!, local };
      return imageMedia(plan.t38Port!, local);
    }
    if (accepted === 'audio' && m.type === 'audio' && pickG711(m, plan.codecs) !== undefined) {
      done = true;
      const codec = pickG711(m, plan.codecs)!;
      audio = { ...remote.audio!, codec };
      const answered = audioMedia(plan.audioPort!, [codec]);
      const offersEvents = m.attributes.find(
        (a) => a.name.toLowerCase() === 'rtpmap' && /telephone-event/i.test(a.value ?? ''),
      );
      if (!offersEvents) {
        return { ...answered, formats: [STATIC_PAYLOAD[codec]], attributes: answered.attributes.slice(0, 1) };
      }
      const pt = offersEvents.value!.split(/\s+/)[0]!;
      return {
        ...answered,
        formats: [STATIC_PAYLOAD[codec], pt],
        attributes: [
          answered.attributes[0]!,
          { name: 'rtpmap', value: `${pt} telephone-event/8000` },
          { name: 'fmtp', value: `${pt} 0-15` },
          { name: 'ptime', value: '20' },
          { name: 'sendrecv' },
        ],
      };
    }
    return rejectedMedia(m);
  });
  return {
    sdp: createSessionDescription(plan.origin, media),
    accepted,
    ...(t38 ? { t38 } : {}),
    ...(audio ? { audio } : {}),
  };
}

/**
 * A re-offer that moves an audio call to T.38 (T.38 Annex D practice): the audio line stays in place with port 0,
 * since a later offer may not drop m-lines (RFC 3264 §8), and the image line is added after it.
 */
export function t38ReOffer(
  origin: SdpOriginState,
  previous: SessionDescription | undefined,
  t38Port: number,
  params: T38Params,
): SessionDescription {
  const media: SdpMedia[] = [];
  let image = false;
  for (const m of previous?.media ?? []) {
    if (!image && isT38Media(m)) {
      media.push(imageMedia(t38Port, params));
      image = true;
    } else media.push({ ...rejectedMedia(m), formats: m.formats });
  }
  if (!image) media.push(imageMedia(t38Port, params));
  return createSessionDescription(origin, media);
}
