/**
 * @module
 * Time to the first page event of a long fax against the whole fax: a 50-page fax sent through the API
 * from one loopback number to the other over real SIP + T.38, paced like a real line (the loopback
 * carrier's `realtime` pacing), with a webhook endpoint on loopback. It reports when the first
 * `fax.page.received` webhook arrived, when the last one did, and when `fax.received` came — the moment a
 * service that hands a fax over only whole would have delivered anything: the peer in this comparison.
 * Pages are short (text at the top of a standard-resolution page), so the call lasts minutes, not an hour.
 *
 * Usage: npx tsx bench/first-page-event.ts [pages=50]   (prints a table and one JSON line)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { samplePage } from 'telefax/codec/sample-pages';
import { startPlatform } from '../packages/server/src/cli/start-command.ts';
import { loadConfig } from '../packages/server/src/config/config.ts';
import { writeFaxTiff } from '../packages/server/src/documents/write-fax-tiff.ts';
import { OutboundAddressPolicy } from '../packages/server/src/net/outbound-address-policy.ts';
import { startTestReceiver } from '../packages/server/src/webhooks/test-receiver.ts';
import { markdownTable, round, sleep } from './lib/report.ts';

const pages = Math.max(2, Number(process.argv[2] ?? 50));
const dataDir = mkdtempSync(join(tmpdir(), 'faxwire-first-page-'));
const config = loadConfig({ FAXWIRE_DATA_DIR: dataDir, FAXWIRE_LOOPBACK_PACING: 'realtime' });
const platform = await startPlatform(config, {
  listen: false,
  logger: pino({ level: 'silent' }),
  webhookPolicy: new OutboundAddressPolicy(['127.0.0.0/8']),
});
const receiver = await startTestReceiver();
const headers = { authorization: `Bearer ${readFileSync(platform.initialKeyPath!, 'utf8').trim()}` };
const loadBefore = loadavg()[0]!;
try {
  const numbers = (await platform.app.inject({ method: 'GET', url: '/v1/numbers', headers })).json().data as {
    number: string;
  }[];
  const hook = await platform.app.inject({
    method: 'POST',
    url: '/v1/webhooks',
    headers,
    payload: { url: receiver.url, eventTypes: ['fax.page.received', 'fax.received', 'fax.delivered'] },
  });
  if (hook.statusCode !== 201) throw new Error(`webhook endpoint: ${hook.body}`);

  const source = Array.from({ length: pages }, (_, i) => ({
    ...samplePage('text', 1728, 32, i + 1),
    yDpi: 98,
  }));
  const tiff = Buffer.from(await writeFaxTiff(source)).toString('base64');
  const started = performance.now();
  const sent = await platform.app.inject({
    method: 'POST',
    url: '/v1/faxes',
    headers,
    payload: {
      to: numbers[1]!.number,
      from: numbers[0]!.number,
      resolution: 'standard',
      documents: [{ content: tiff }],
      retries: { count: 0, delaySeconds: 0 },
    },
  });
  if (sent.statusCode !== 202) throw new Error(`send: ${sent.body}`);

  const arrivals: { type: string; page?: number; at: number }[] = [];
  const deadline = Date.now() + pages * 30_000;
  while (
    Date.now() < deadline &&
    !arrivals.some((a) => a.type === 'fax.received' || a.type === 'fax.failed')
  ) {
    for (const r of receiver.received.splice(0)) {
      const body = JSON.parse(r.body) as { type: string; data: { page?: number } };
      arrivals.push({ type: body.type, page: body.data.page, at: r.arrivedAt - started });
    }
    await sleep(50);
  }
  const pageEvents = arrivals.filter((a) => a.type === 'fax.page.received');
  const received = arrivals.find((a) => a.type === 'fax.received');
  if (!received || pageEvents.length !== pages) {
    throw new Error(`the fax did not arrive whole: ${JSON.stringify(arrivals.map((a) => a.type))}`);
  }
  const first = pageEvents.find((a) => a.page === 1)!;
  const last = pageEvents.find((a) => a.page === pages)!;
  const result = {
    pages,
    firstPageEventS: round(first.at / 1000, 1),
    lastPageEventS: round(last.at / 1000, 1),
    faxReceivedS: round(received.at / 1000, 1),
    firstPageShareOfFax: round(first.at / received.at, 3),
    pageEventsPerMinute: round((pages - 1) / ((last.at - first.at) / 60_000), 1),
  };
  console.log(
    `a ${pages}-page fax over the loopback carrier, paced in real time (load average ${loadBefore.toFixed(1)})\n`,
  );
  console.log(
    markdownTable(
      [
        'pages',
        'first fax.page.received',
        'last fax.page.received',
        'fax.received (whole-fax delivery)',
        'first page at',
      ],
      [
        [
          pages,
          `${result.firstPageEventS} s`,
          `${result.lastPageEventS} s`,
          `${result.faxReceivedS} s`,
          `${round(result.firstPageShareOfFax * 100, 1)} % of the fax`,
        ],
      ],
    ),
  );
  console.log(
    JSON.stringify({ bench: 'first-page-event', load: { before: loadBefore, after: loadavg()[0] }, result }),
  );
} finally {
  await receiver.close();
  await platform.close();
  rmSync(dataDir, { recursive: true, force: true });
}
