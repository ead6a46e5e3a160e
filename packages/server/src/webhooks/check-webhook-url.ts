/**
 * @module webhooks/check-webhook-url
 * Refuses, when an endpoint is created or changed, a URL the dispatcher would never be allowed to
 * reach: not http(s), or a host that is — or resolves to — a private, loopback or link-local address
 * outside FAXWIRE_WEBHOOK_ALLOW_NETS. The dispatcher checks again at connect time (DNS can change).
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ApiError } from '../api/errors.ts';
import type { OutboundAddressPolicy } from '../net/outbound-address-policy.ts';

export async function checkWebhookUrl(url: string, policy: OutboundAddressPolicy): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ApiError('validation_failed', '`url` is not a valid URL.', { field: 'url', reason: 'format' });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new ApiError('validation_failed', '`url` must be an http or https URL.', {
      field: 'url',
      reason: 'protocol',
    });
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(Object.assign(new Error('DNS timeout'), { code: 'ETIMEOUT' })),
          5_000,
        );
      });
      try {
        addresses = (await Promise.race([lookup(host, { all: true }), timeout])).map((a) => a.address);
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA') {
        throw new ApiError('validation_failed', `\`url\`: the host ${host} does not resolve.`, {
          field: 'url',
          reason: 'unresolvable',
        });
      }
      // DNS is unavailable right now; the dispatcher checks the address on every connection anyway.
      return;
    }
  }
  const refused = addresses.find((a) => !policy.allows(a));
  if (refused !== undefined) {
    throw new ApiError('webhook_url_not_allowed', undefined, { field: 'url', host, address: refused });
  }
}
