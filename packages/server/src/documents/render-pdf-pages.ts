/**
 * @module
 * The main-thread side of PDF rasterizing: a piscina pool of PDFium workers, a time limit on every task (an
 * overdue task's worker is terminated), a JS heap limit per worker, and pages handed out in order as soon as
 * each is ready while the next ones render on the other workers.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import type { BilevelPage, FaxResolution } from 'telefax/image/bilevel-page';
import { DocumentError } from './document-error.ts';
import type { PaperChoice } from './paper-size.ts';
import type { PdfReply, PdfTask, RasterizedPdfPage } from './pdf-raster-worker.ts';
import type { RenderLimits } from './render-limits.ts';

/** JS heap per worker; PDFium's own heap is WebAssembly memory, capped inside the worker. */
const WORKER_HEAP_MB = 128;

let pool: Piscina | undefined;
let threads = Math.max(1, Math.min(4, availableParallelism()));

/**
 * Sets how many worker threads rasterize PDFs (default: the CPU count, at most 4). Takes effect for the
 * next pool; call {@link closePdfWorkers} first to resize a running one.
 */
export function configurePdfWorkers(options: { readonly threads: number }): void {
  if (!Number.isInteger(options.threads) || options.threads < 1) throw new RangeError('threads must be ≥ 1');
  threads = options.threads;
}

function workerPool(): Piscina {
  if (pool) return pool;
  pool = new Piscina({
    filename: new URL('./pdf-raster-worker-entry.mjs', import.meta.url).href,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: 30_000,
    resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: 32 },
  });
  return pool;
}

/**
 * Stops the workers and frees their memory; the next render starts a new pool. Idle workers also exit by
 * themselves after 30 s, and never keep the process alive.
 */
export async function closePdfWorkers(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await p.destroy();
}

/** A PDF loaded for rasterizing: its bytes are shared with the workers, not copied per page. */
export interface PdfSource {
  readonly docId: string;
  readonly bytes: Uint8Array;
  readonly pageCount: number;
}

/**
 * Tasks wait here, not in the pool's queue, so that a task's time limit runs from when a worker takes it:
 * many faxes rendering at once must not time each other out.
 */
const waiting: (() => void)[] = [];
let running = 0;

async function slot(): Promise<() => void> {
  const capacity = Math.max(1, workerPool().options.maxThreads);
  if (running >= capacity) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  return () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
}

interface TimedReply {
  readonly reply: PdfReply;
  /** Time the task spent on a worker. */
  readonly ms: number;
}

async function runTask(task: PdfTask, timeoutMs: number): Promise<TimedReply> {
  const release = await slot();
  const started = performance.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  const done = (reply: PdfReply): TimedReply => ({ reply, ms: performance.now() - started });
  try {
    return done((await workerPool().run(task, { signal: timeout })) as PdfReply);
  } catch (err) {
    if (timeout.aborted) {
      return done({
        ok: false,
        code: 'render_timeout',
        message: `rasterizing took longer than ${timeoutMs} ms`,
      });
    }
    if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return done({
        ok: false,
        code: 'document_too_large',
        message: 'the PDF needs too much memory',
        limit: 'memory',
      });
    }
    return done({
      ok: false,
      code: 'invalid_document',
      message: `PDF worker failed: ${(err as Error).message}`,
    });
  } finally {
    release();
  }
}

function fail(reply: Extract<PdfReply, { ok: false }>, page?: number): never {
  throw new DocumentError(reply.code, reply.message, {
    ...(reply.limit ? { limit: reply.limit } : {}),
    ...(page === undefined ? {} : { page }),
  });
}

/** Opens the PDF in a worker to learn its page count; refuses encrypted, corrupt or empty files. */
export async function openPdf(bytes: Uint8Array, limits: RenderLimits): Promise<PdfSource> {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  const docId = randomUUID();
  const { reply } = await runTask(
    { kind: 'open', docId, bytes: shared, memoryMb: limits.pdfMemoryMb },
    limits.pageTimeoutMs,
  );
  if (!reply.ok) fail(reply);
  if (!('pageCount' in reply) || reply.pageCount <= 0) {
    throw new DocumentError('invalid_document', 'the PDF has no pages');
  }
  return { docId, bytes: shared, pageCount: reply.pageCount };
}

export interface PdfRenderOptions {
  readonly resolution: FaxResolution;
  readonly paper: PaperChoice;
  readonly limits: RenderLimits;
}

export interface PdfPage extends BilevelPage {
  readonly rotated: boolean;
  readonly photoTiles: number;
}

/**
 * Pages in order, up to two per worker rendering ahead of the consumer. The document's time budget counts
 * time spent on workers, not wall time, since a fax line may take minutes to send each page.
 */
export async function* renderPdfPages(source: PdfSource, options: PdfRenderOptions): AsyncGenerator<PdfPage> {
  const { limits } = options;
  const ahead = 2 * Math.max(1, workerPool().options.maxThreads);
  const inFlight: Promise<TimedReply>[] = [];
  let spentMs = 0;
  let next = 0;
  const launch = () => {
    const task: PdfTask = {
      kind: 'render',
      docId: source.docId,
      bytes: source.bytes,
      memoryMb: limits.pdfMemoryMb,
      pageIndex: next++,
      resolution: options.resolution,
      paper: options.paper,
    };
    inFlight.push(runTask(task, limits.pageTimeoutMs));
  };
  try {
    for (let index = 0; index < source.pageCount; index++) {
      while (next < source.pageCount && inFlight.length < ahead) launch();
      const { reply, ms } = await inFlight.shift()!;
      if (!reply.ok) fail(reply, index);
      spentMs += ms;
      if (spentMs > limits.documentTimeoutMs) {
        throw new DocumentError(
          'render_timeout',
          `rasterizing took longer than ${limits.documentTimeoutMs} ms`,
          {
            page: index,
            limit: 'documentTimeoutMs',
          },
        );
      }
      if (!('page' in reply)) throw new DocumentError('invalid_document', 'unexpected worker reply');
      yield toPage(reply.page);
    }
  } finally {
    // Pages rendered ahead of an abandoned consumer are dropped; their rejections are already replies.
    inFlight.length = 0;
  }
}

function toPage(p: RasterizedPdfPage): PdfPage {
  return {
    width: p.width,
    height: p.height,
    stride: (p.width + 7) >> 3,
    data: p.data,
    xDpi: p.xDpi,
    yDpi: p.yDpi,
    rotated: p.rotated,
    photoTiles: p.photoTiles,
  };
}
