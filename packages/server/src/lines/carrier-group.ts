/**
 * @module lines/carrier-group
 * The queue group of a `fax.send` job, from configuration alone, so any process (an API node without lines
 * too) can enqueue the job with the group key of the carrier that will place the call; the worker's
 * groupConcurrency then keeps a carrier's jobs within its channels. Agrees with ChannelManager.carrierFor.
 */
import type { Config } from '../config/config.ts';
import { testNumbersFrom } from './test-numbers.ts';

export function carrierGroupKey(config: Pick<Config, 'lines' | 'loopbackRange'>, to: string): string | null {
  const { loopback, trunks } = config.lines;
  if (loopback.enabled) {
    const { first, last } = config.loopbackRange;
    if (to.length === first.length && to >= first && to <= last) return 'loopback';
    if (loopback.testNumbersFirst !== null && testNumbersFrom(loopback.testNumbersFirst).has(to))
      return 'loopback';
  }
  let best: string | null = null;
  let length = 0;
  for (const trunk of trunks) {
    for (const prefix of trunk.prefixes) {
      if (to.startsWith(prefix) && prefix.length > length) {
        best = `trunk:${trunk.name}`;
        length = prefix.length;
      }
    }
  }
  return best;
}

/** Job concurrency per group: each trunk's channels; the loopback carrier is unlimited. */
export function carrierGroupConcurrency(
  config: Pick<Config, 'lines'>,
): (groupKey: string) => number | undefined {
  const limits = new Map(config.lines.trunks.map((t) => [`trunk:${t.name}`, t.channels]));
  return (groupKey) => limits.get(groupKey);
}
