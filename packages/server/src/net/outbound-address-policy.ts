/**
 * @module
 * Which network addresses the server may connect to on a user's behalf (webhook endpoints, document URLs).
 * Loopback, private, link-local, carrier-grade NAT, multicast and reserved ranges are refused unless a
 * configured CIDR allows them (FAXWIRE_WEBHOOK_ALLOW_NETS), so a user cannot make the server probe its own
 * network (SSRF). The check runs on the resolved address at connect time, which also defeats DNS rebinding.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from 'node:dns';
import { isIP } from 'node:net';

interface Cidr {
  readonly family: 4 | 6;
  readonly bits: bigint;
  readonly prefix: number;
}

const BLOCKED_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/128',
  '::1/128',
  '64:ff9b::/96',
  '100::/64',
  '2001:db8::/32',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
].map(parseCidr);

function ipv4ToBigInt(ip: string): bigint {
  return ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(ip: string): bigint {
  let text = ip;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // An embedded dotted quad (::ffff:1.2.3.4) becomes two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBigInt(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const missing = 8 - headGroups.length - restGroups.length;
  const groups =
    rest === undefined ? headGroups : [...headGroups, ...Array(missing).fill('0'), ...restGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g, 16)), 0n);
}

/** Parses `a.b.c.d/n` or `x:y::z/n` (a bare address means a single host). */
export function parseCidr(text: string): Cidr {
  const [addr, prefixText] = text.trim().split('/');
  const family = isIP(addr);
  if (family === 0) throw new RangeError(`not a CIDR: "${text}" (expected e.g. 127.0.0.0/8 or fd00::/8)`);
  const width = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width) {
    throw new RangeError(`bad prefix length in "${text}" (0–${width})`);
  }
  const bits = family === 4 ? ipv4ToBigInt(addr) : ipv6ToBigInt(addr);
  return { family: family as 4 | 6, bits, prefix };
}

function contains(cidr: Cidr, family: 4 | 6, bits: bigint): boolean {
  if (cidr.family !== family) return false;
  const width = family === 4 ? 32 : 128;
  const shift = BigInt(width - cidr.prefix);
  return bits >> shift === cidr.bits >> shift;
}

export class OutboundAddressPolicy {
  readonly #allowed: readonly Cidr[];

  /** @param allowNets CIDRs that are reachable even though they are private (e.g. `127.0.0.0/8` in tests). */
  constructor(allowNets: readonly string[] = []) {
    this.#allowed = allowNets.filter((s) => s.trim() !== '').map(parseCidr);
  }

  /** Reads FAXWIRE_WEBHOOK_ALLOW_NETS (comma-separated CIDRs). */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): OutboundAddressPolicy {
    return new OutboundAddressPolicy((env.FAXWIRE_WEBHOOK_ALLOW_NETS ?? '').split(','));
  }

  /** True when the server may connect to this literal IP address. */
  allows(ip: string): boolean {
    const family = isIP(ip);
    if (family === 0) return false;
    let fam = family as 4 | 6;
    let bits = fam === 4 ? ipv4ToBigInt(ip) : ipv6ToBigInt(ip);
    // IPv4-mapped IPv6 (::ffff:a.b.c.d) is judged as the IPv4 address it maps.
    if (fam === 6 && bits >> 32n === 0xffffn) {
      fam = 4;
      bits &= 0xffffffffn;
    }
    if (this.#allowed.some((c) => contains(c, fam, bits))) return true;
    return !BLOCKED_RANGES.some((c) => contains(c, fam, bits));
  }

  /**
   * A `lookup` for node:http/node:net that resolves the name and fails with code `EADDRBLOCKED` when any
   * address it resolves to is refused.
   */
  readonly lookup = (
    hostname: string,
    options: unknown,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
    dnsLookup(hostname, { all: true } as LookupAllOptions, (err, addresses) => {
      if (err) return callback(err, '');
      const refused = addresses.find((a) => !this.allows(a.address));
      if (refused || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(
          `refusing to connect to ${hostname} (${refused?.address ?? 'no address'}): private, loopback or reserved address`,
        );
        e.code = 'EADDRBLOCKED';
        return callback(e, '');
      }
      if (opts.all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}
