/**
 * @module
 * `telefax send` and `telefax receive`: one T.30 session over T.38/UDPTL with a known remote address, for interop
 * and field debugging. The sender is the calling station (CNG, waits for DIS); the receiver answers (CED, DIS).
 * With --json the last line on stdout is one JSON object with the outcome; the exit status is 0 only on success.
 */

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import type { BilevelPage } from '../image/bilevel-page.ts';
import { tiffPages } from '../image/tiff-reader.ts';
import { TiffWriter, tiffFileSink, writeTiff } from '../image/tiff-writer.ts';
import type { FaxCompression } from '../t30/dis-dcs.ts';
import type { FaxOutcome } from '../t30/fax-outcome.ts';
import type { T30Port } from '../t30/t30-port.ts';
import { T30Session, type T30SessionOptions } from '../t30/t30-session.ts';
import { T38Transport } from '../t38/t38-transport.ts';

/** The T.30 and output options every fax command shares (`telefax send|receive`, `telefax sip call|answer`). */
export interface T30CliOptions {
  ecm: 'on' | 'off';
  compression: FaxCompression;
  maxRate: string;
  ident?: string;
  pace: 'realtime' | 'none';
  t38Version: string;
  json: boolean;
  trace: boolean;
  t1Ms?: string;
}

interface FaxCliOptions extends T30CliOptions {
  remote: string;
  localPort: string;
  localAddress?: string;
  outDir?: string;
}

/** The JSON summary printed with --json (its field names are a contract for scripts). */
export interface FaxCliSummary {
  ok: boolean;
  reason: string | null;
  message: string | null;
  pages: number;
  bitRate: number | null;
  ecm: boolean | null;
  compression: string | null;
  resolution: string | null;
  remoteIdent: string | null;
  durationMs: number;
  pageDoneMs: number[];
}

export function summarise(outcome: FaxOutcome): FaxCliSummary {
  return {
    ok: outcome.ok,
    reason: outcome.ok ? null : outcome.reason,
    message: outcome.ok ? null : outcome.message,
    pages: outcome.pages,
    bitRate: outcome.line?.bitRate ?? null,
    ecm: outcome.line?.ecm ?? null,
    compression: outcome.line?.compression ?? null,
    resolution: outcome.line?.resolution ?? null,
    remoteIdent: outcome.remoteIdent,
    durationMs: outcome.durationMs,
    pageDoneMs: [...outcome.pageDoneMs],
  };
}

/** "host:port" or "[v6]:port". */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`--remote must be HOST:PORT, got "${text}"`);
  }
  return { host: m[1] === 'localhost' ? '127.0.0.1' : m[1], port };
}

function parsePort(text: string, name: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number`);
  return port;
}

function addLineOptions(cmd: Command): Command {
  cmd
    .requiredOption('--remote <host:port>', 'UDPTL address of the far end')
    .requiredOption('--local-port <port>', 'local UDPTL port to bind')
    .option('--local-address <ip>', 'local address to bind (default: all)');
  return addT30Options(cmd);
}

export function addT30Options(cmd: Command): Command {
  return cmd
    .addOption(new Option('--ecm <on|off>', 'error correction mode').choices(['on', 'off']).default('on'))
    .addOption(
      new Option('--compression <kind>', 'best coding to negotiate')
        .choices(['mh', 'mr', 'mmr'])
        .default('mmr'),
    )
    .addOption(
      new Option('--max-rate <bps>', 'highest signalling rate')
        .choices(['14400', '12000', '9600', '7200', '4800', '2400'])
        .default('14400'),
    )
    .option('--ident <id>', 'our CSI/TSI (up to 20 characters)')
    .addOption(new Option('--pace <mode>', 'T.38 pacing').choices(['realtime', 'none']).default('realtime'))
    .addOption(new Option('--t38-version <n>', 'T38FaxVersion').choices(['0', '1', '2', '3']).default('0'))
    .option('--json', 'print the outcome as one JSON object on the last line', false)
    .option('--trace', 'print every T.30 frame in and out on stderr', false)
    .addOption(new Option('--t1-ms <ms>', 'T1 (phase B timeout), for tests').hideHelp());
}

type CliSessionOptions = Omit<
  T30SessionOptions,
  'port' | 'ecm' | 'compression' | 'maxBitRate' | 'ident' | 'signal'
>;

async function runSession(opts: FaxCliOptions, session: CliSessionOptions): Promise<FaxOutcome> {
  const remote = parseHostPort(opts.remote);
  const port = await T38Transport.open({
    udptl: {
      localPort: parsePort(opts.localPort, '--local-port'),
      localAddress: opts.localAddress,
      remoteHost: remote.host,
      remotePort: remote.port,
    },
    pace: opts.pace,
    version: Number(opts.t38Version),
  });
  try {
    return await runT30Session(opts, port, session);
  } finally {
    await port.close();
  }
}

/** Runs one T.30 session over a port with the command's options; SIGINT/SIGTERM cancel it. */
export async function runT30Session(
  opts: T30CliOptions,
  port: T30Port,
  session: CliSessionOptions,
): Promise<FaxOutcome> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t30 = new T30Session({
      ...session,
      port,
      ecm: opts.ecm === 'on',
      compression: opts.compression,
      maxBitRate: Number(opts.maxRate),
      ident: opts.ident,
      signal: abort.signal,
      timers: opts.t1Ms ? { t1: Number(opts.t1Ms) } : undefined,
      onTrace: opts.trace
        ? (e) =>
            process.stderr.write(
              `${String(e.atMs).padStart(7)} ${e.dir} ${e.what}${e.bytes && e.bytes.length <= 40 ? ` [${hex(e.bytes)}]` : ''}\n`,
            )
        : undefined,
    });
    if (!opts.json) {
      t30.on('phaseB', (line) =>
        process.stderr.write(
          `phase B: ${line.modem} ${line.ecm ? 'ECM' : 'non-ECM'} ${line.compression} ${line.resolution} ${line.width}\n`,
        ),
      );
      t30.on('pageSent', (n) => process.stderr.write(`page ${n} sent\n`));
      t30.on('pageReceived', (_page, info) =>
        process.stderr.write(`page ${info.pageNumber} received (${info.rows} rows, ${info.badRows} bad)\n`),
      );
    }
    return await t30.run();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** Prints the outcome and sets the exit status; `extra` fields are appended to the JSON summary. */
export function report(outcome: FaxOutcome, json: boolean, extra: Record<string, unknown> = {}): void {
  const summary = summarise(outcome);
  if (!json) {
    const what = outcome.ok ? 'ok' : `failed: ${summary.reason} (phase ${outcome.phase}): ${summary.message}`;
    process.stdout.write(`${what}; ${summary.pages} page(s) in ${summary.durationMs} ms\n`);
  }
  if (json) process.stdout.write(`${JSON.stringify({ ...summary, ...extra })}\n`);
  process.exitCode = outcome.ok ? 0 : 1;
}

/** Pages of a TIFF file, decoded one at a time as the session asks for them. */
export function* filePages(bytes: Uint8Array): Generator<BilevelPage> {
  for (const p of tiffPages(bytes)) yield p.page;
}

/** Writes each received page durably before it is confirmed: DIR/fax.tif (all pages) and DIR/page-NNN.tif. */
export class ReceivedPageStore {
  private readonly fd: number;
  private readonly writer: TiffWriter;
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.fd = openSync(join(dir, 'fax.tif'), 'w');
    this.writer = new TiffWriter({ sink: tiffFileSink(this.fd) });
  }
  add(page: BilevelPage, pageNumber: number, badRows: number): void {
    const options = {
      compression: 'mr' as const,
      badFaxLines: badRows,
      cleanFaxData: badRows ? 2 : 0,
    } as const;
    this.writer.addPage(page, options);
    fsyncSync(this.fd);
    const single = join(this.dir, `page-${String(pageNumber).padStart(3, '0')}.tif`);
    writeFileSync(single, writeTiff([page], options), { flush: true });
  }
  close(): void {
    const pages = this.writer.pageCount;
    if (pages > 0) this.writer.finish();
    fsyncSync(this.fd);
    closeSync(this.fd);
    if (pages === 0) rmSync(join(this.dir, 'fax.tif'), { force: true });
  }
}

export function registerFaxCommands(program: Command): void {
  addLineOptions(
    program
      .command('send')
      .description('call a T.38 endpoint and send a TIFF (we are the calling station)')
      .argument('<file>', 'TIFF to send (pages 1728/2048/2432 wide)'),
  ).action(async (file: string, opts: FaxCliOptions) => {
    const bytes = readFileSync(file);
    const outcome = await runSession(opts, { direction: 'send', calling: true, pages: filePages(bytes) });
    report(outcome, opts.json);
  });

  addLineOptions(
    program
      .command('receive')
      .description('answer on a T.38 endpoint and receive a fax into a directory (we are the called station)')
      .requiredOption('--out-dir <dir>', 'where fax.tif and page-NNN.tif are written'),
  ).action(async (opts: FaxCliOptions) => {
    const store = new ReceivedPageStore(opts.outDir!);
    try {
      const outcome = await runSession(opts, {
        direction: 'receive',
        calling: false,
        onPage: (page, info) => store.add(page, info.pageNumber, info.badRows),
      });
      report(outcome, opts.json);
    } finally {
      store.close();
    }
  });
}
