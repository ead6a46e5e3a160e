/**
 * @module
 * T.38 session parameters in SDP (ITU-T T.38 Annex E, RFC 3362 registration): reading them from an
 * `m=image … udptl t38` line as real equipment writes them, writing them, and building the answer to an offer.
 *
 * Tolerance follows what deployed peers send (fax-engines.md §2–3, §5.6): names compare case-insensitively;
 * `T38FaxMaxRate` and `T38MaxDatagram` are accepted as aliases; booleans come bare, as `:0`/`:1` or `:true`/`:false`
 * (Cisco writes `T38FaxFillBitRemoval:0`); unknown values (rtpengine's `localTFC`) and unknown attributes are kept
 * but never fatal.
 */
import type { SdpAttribute, SdpMedia } from './sdp.ts';

export type T38RateManagement = 'transferredTCF' | 'localTCF';
export type T38ErrorCorrection = 't38UDPRedundancy' | 't38UDPFEC' | 't38UDPNoEC';

export interface T38Params {
  /** T38FaxVersion, 0 when absent (T.38 Annex E). */
  readonly version: number;
  readonly maxBitRate?: number;
  /** Parsed rate management; an unrecognised value leaves it undefined and keeps the text in rateManagementText. */
  readonly rateManagement?: T38RateManagement;
  readonly rateManagementText?: string;
  readonly maxBuffer?: number;
  readonly maxDatagram?: number;
  readonly maxIfp?: number;
  readonly udpEc?: T38ErrorCorrection;
  readonly udpEcDepth?: string;
  readonly fecMaxSpan?: number;
  readonly fillBitRemoval: boolean;
  readonly transcodingMmr: boolean;
  readonly transcodingJbig: boolean;
  readonly vendorInfo?: string;
  /** Attributes of the image line that are not T.38 parameters, kept as written. */
  readonly otherAttributes: readonly SdpAttribute[];
}

/** What we can do, used when answering or offering. */
export interface T38Capabilities {
  readonly version: number;
  readonly maxBitRate: number;
  readonly maxBuffer: number;
  readonly maxDatagram: number;
  readonly errorCorrection: readonly T38ErrorCorrection[];
  readonly fillBitRemoval: boolean;
  readonly transcodingMmr: boolean;
  readonly transcodingJbig: boolean;
}

export const DEFAULT_T38_CAPABILITIES: T38Capabilities = {
  version: 0,
  maxBitRate: 14400,
  maxBuffer: 1800,
  maxDatagram: 400,
  errorCorrection: ['t38UDPRedundancy', 't38UDPNoEC'],
  fillBitRemoval: false,
  transcodingMmr: false,
  transcodingJbig: false,
};

function parseNumber(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*([0-9]{1,9})/.exec(value);
  return m ? Number(m[1]) : undefined;
}

function parseBoolean(value: string | undefined): boolean {
  if (value === undefined || value.trim() === '') return true;
  const v = value.trim().toLowerCase();
  return !(v === '0' || v === 'false' || v === 'no' || v === 'off');
}

/** True when a media line is a T.38 image stream (`m=image <port> udptl t38`), any letter case. */
export function isT38Media(media: SdpMedia): boolean {
  return (
    media.type === 'image' &&
    /^udptl$/i.test(media.protocol) &&
    media.formats.some((f) => f.toLowerCase() === 't38')
  );
}

export function parseT38Params(attributes: readonly SdpAttribute[]): T38Params {
  const p: {
    -readonly [K in keyof T38Params]: T38Params[K];
  } = {
    version: 0,
    fillBitRemoval: false,
    transcodingMmr: false,
    transcodingJbig: false,
    otherAttributes: [],
  };
  const others: SdpAttribute[] = [];
  for (const attr of attributes) {
    const v = attr.value;
    switch (attr.name.toLowerCase()) {
      case 't38faxversion':
        p.version = parseNumber(v) ?? 0;
        break;
      case 't38maxbitrate':
      case 't38faxmaxrate':
        if (parseNumber(v) !== undefined) p.maxBitRate = parseNumber(v)!;
        break;
      case 't38faxratemanagement': {
        const text = (v ?? '').trim();
        p.rateManagementText = text;
        if (text.toLowerCase() === 'transferredtcf') p.rateManagement = 'transferredTCF';
        else if (text.toLowerCase() === 'localtcf') p.rateManagement = 'localTCF';
        break;
      }
      case 't38faxmaxbuffer':
        if (parseNumber(v) !== undefined) p.maxBuffer = parseNumber(v)!;
        break;
      case 't38faxmaxdatagram':
      case 't38maxdatagram':
        if (parseNumber(v) !== undefined) p.maxDatagram = parseNumber(v)!;
        break;
      case 't38faxmaxifp':
        if (parseNumber(v) !== undefined) p.maxIfp = parseNumber(v)!;
        break;
      case 't38faxudpec': {
        const text = (v ?? '').trim().toLowerCase();
        if (text === 't38udpredundancy') p.udpEc = 't38UDPRedundancy';
        else if (text === 't38udpfec') p.udpEc = 't38UDPFEC';
        else if (text === 't38udpnoec') p.udpEc = 't38UDPNoEC';
        break;
      }
      case 't38faxudpecdepth':
        if (v !== undefined) p.udpEcDepth = v.trim();
        break;
      case 't38faxudpfecmaxspan':
        if (parseNumber(v) !== undefined) p.fecMaxSpan = parseNumber(v)!;
        break;
      case 't38faxfillbitremoval':
        p.fillBitRemoval = parseBoolean(v);
        break;
      case 't38faxtranscodingmmr':
        p.transcodingMmr = parseBoolean(v);
        break;
      case 't38faxtranscodingjbig':
        p.transcodingJbig = parseBoolean(v);
        break;
      case 't38vendorinfo':
        if (v !== undefined) p.vendorInfo = v;
        break;
      default:
        others.push(attr);
    }
  }
  p.otherAttributes = others;
  return p;
}

/** T.38 attributes in the spelling of T.38 Annex E; booleans are written bare and only when true. */
export function formatT38Attributes(params: T38Params): SdpAttribute[] {
  const out: SdpAttribute[] = [{ name: 'T38FaxVersion', value: String(params.version) }];
  if (params.maxBitRate !== undefined) out.push({ name: 'T38MaxBitRate', value: String(params.maxBitRate) });
  if (params.fillBitRemoval) out.push({ name: 'T38FaxFillBitRemoval' });
  if (params.transcodingMmr) out.push({ name: 'T38FaxTranscodingMMR' });
  if (params.transcodingJbig) out.push({ name: 'T38FaxTranscodingJBIG' });
  const rm = params.rateManagement ?? params.rateManagementText;
  if (rm !== undefined) out.push({ name: 'T38FaxRateManagement', value: rm });
  if (params.maxBuffer !== undefined) out.push({ name: 'T38FaxMaxBuffer', value: String(params.maxBuffer) });
  if (params.maxDatagram !== undefined)
    out.push({ name: 'T38FaxMaxDatagram', value: String(params.maxDatagram) });
  if (params.maxIfp !== undefined) out.push({ name: 'T38FaxMaxIFP', value: String(params.maxIfp) });
  if (params.udpEc !== undefined) out.push({ name: 'T38FaxUdpEC', value: params.udpEc });
  if (params.vendorInfo !== undefined) out.push({ name: 'T38VendorInfo', value: params.vendorInfo });
  return out;
}

/** The parameters we offer from our capabilities. */
export function t38OfferParams(caps: T38Capabilities = DEFAULT_T38_CAPABILITIES): T38Params {
  return {
    version: caps.version,
    maxBitRate: caps.maxBitRate,
    // transferredTCF is the only method usable over UDP (T.38 §9.2.2; fax-engines.md §5.6).
    rateManagement: 'transferredTCF',
    maxBuffer: caps.maxBuffer,
    maxDatagram: caps.maxDatagram,
    udpEc: caps.errorCorrection[0] ?? 't38UDPNoEC',
    fillBitRemoval: caps.fillBitRemoval,
    transcodingMmr: caps.transcodingMmr,
    transcodingJbig: caps.transcodingJbig,
    otherAttributes: [],
  };
}

/**
 * Our answer to a T.38 offer (T.38 Annex E.4 and the practice of Asterisk's res_pjsip_t38): version is the lower of
 * both; bit rate the lower; rate management transferredTCF since UDPTL runs over UDP; the offered error correction
 * when we support it, else redundancy (which every peer accepts, fax-engines.md §3.8); the optional booleans only
 * when both sides have them.
 */
export function buildT38Answer(
  offer: T38Params,
  caps: T38Capabilities = DEFAULT_T38_CAPABILITIES,
): T38Params {
  const udpEc =
    offer.udpEc === undefined
      ? caps.errorCorrection.includes('t38UDPRedundancy')
        ? 't38UDPRedundancy'
        : undefined
      : caps.errorCorrection.includes(offer.udpEc)
        ? offer.udpEc
        : caps.errorCorrection.includes('t38UDPRedundancy')
          ? 't38UDPRedundancy'
          : 't38UDPNoEC';
  return {
    version: Math.min(offer.version, caps.version),
    maxBitRate: Math.min(offer.maxBitRate ?? 14400, caps.maxBitRate),
    rateManagement: 'transferredTCF',
    maxBuffer: caps.maxBuffer,
    maxDatagram: caps.maxDatagram,
    ...(udpEc !== undefined ? { udpEc } : {}),
    fillBitRemoval: offer.fillBitRemoval && caps.fillBitRemoval,
    transcodingMmr: offer.transcodingMmr && caps.transcodingMmr,
    transcodingJbig: offer.transcodingJbig && caps.transcodingJbig,
    otherAttributes: [],
  };
}
