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
import type {
  PdfCount,
  PdfCountSource,
  PdfCountTask,
  PdfFailure,
  PdfReply,
  PdfTask,
  RasterizedPdfPage,
} from './pdf-raster-worker.ts';
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

async function runTask(
  task: PdfTask,
  timeoutMs: number,
  transferList?: readonly ArrayBuffer[],
): Promise<TimedReply> {
  const release = await slot();
  const started = performance.now();
  const timeout = AbortSignal.timeout(timeoutMs);
  const done = (reply: PdfReply): TimedReply => ({ reply, ms: performance.now() - started });
  try {
    return done(
      (await workerPool().run(task, {
        signal: timeout,
        ...(transferList ? { transferList: [...transferList] } : {}),
      })) as PdfReply,
    );
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

function fail(reply: PdfFailure, page?: number): never {
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

/** Documents up to this size are counted together; a larger one goes alone. */
const BATCH_DOCUMENT_MAX_BYTES = 1024 * 1024;
/** Most documents, and most bytes, one counting round trip carries. */
const BATCH_MAX_DOCUMENTS = 64;
const BATCH_MAX_BYTES = 8 * 1024 * 1024;
/**
 * A batch of small documents that takes longer than this has a document that needs a closer look:
 * the batch is abandoned and each document is counted alone under the full time limit. So one
 * hostile file holds the others up this long, not the whole page time limit.
 */
const BATCH_TIMEOUT_MS = 2_000;

/**
 * A PDF waiting in a file. Its page count is taken by a worker that reads the file itself, so the main
 * thread never holds it; the worker does (PDFium opens documents from memory), one at a time, so the
 * pool's size bounds that memory however many requests are waiting.
 */
export interface PdfFile {
  readonly path: string;
  readonly byteSize: number;
}

interface CountRequest {
  readonly source: Uint8Array | PdfFile;
  readonly limits: RenderLimits;
  readonly resolve: (count: PdfCount) => void;
}

function sizeOf(source: Uint8Array | PdfFile): number {
  return source instanceof Uint8Array ? source.length : source.byteSize;
}

/** One count task for `sources`: the in-memory ones copied back to back (and transferred), files by path. */
function countTask(
  sources: readonly (Uint8Array | PdfFile)[],
  memoryMb: number,
): { task: PdfCountTask; transferList: ArrayBuffer[] } {
  let total = 0;
  for (const source of sources) if (source instanceof Uint8Array) total += source.length;
  const bytes = new Uint8Array(total);
  const documents: PdfCountSource[] = [];
  let at = 0;
  for (const source of sources) {
    if (source instanceof Uint8Array) {
      bytes.set(source, at);
      at += source.length;
      documents.push({ end: at });
    } else {
      documents.push({ path: source.path });
    }
  }
  return { task: { kind: 'count', bytes, documents, memoryMb }, transferList: [bytes.buffer] };
}

const countQueue: CountRequest[] = [];
let batchesRunning = 0;
/** Batches on workers at once: a second fills while the first is counted, and neither waits long. */
const BATCHES_IN_FLIGHT = 2;
let countFlushScheduled = false;

/**
 * A PDF's page count, refusing encrypted, corrupt or empty files as {@link openPdf} does, without
 * keeping it open for rendering. Small documents requested together share one worker round trip, so
 * accepting many faxes does not pay a message exchange per document; when a shared batch fails as a
 * whole (time limit, worker crash), each of its documents is counted again alone, so only the
 * document at fault is refused. A {@link PdfFile} is read by the worker, never by this thread.
 */
export async function countPdfPages(source: Uint8Array | PdfFile, limits: RenderLimits): Promise<number> {
  const count = await new Promise<PdfCount>((resolve) => {
    if (sizeOf(source) > BATCH_DOCUMENT_MAX_BYTES) {
      void countAlone({ source, limits, resolve });
      return;
    }
    countQueue.push({ source, limits, resolve });
    scheduleCountFlush();
  });
  if (!count.ok) fail(count);
  if (count.pageCount <= 0) throw new DocumentError('invalid_document', 'the PDF has no pages');
  return count.pageCount;
}

/** Few batches at a time: while they are on workers the next one fills, so a burst costs few round trips. */
function scheduleCountFlush(): void {
  if (countFlushScheduled || batchesRunning >= BATCHES_IN_FLIGHT || countQueue.length === 0) return;
  countFlushScheduled = true;
  // After this turn's I/O callbacks, so the requests they make join the batch.
  setImmediate(async () => {
    countFlushScheduled = false;
    batchesRunning++;
    const batch = takeCountBatch();
    let counted = false;
    try {
      counted = await countTogether(batch);
    } catch {
      counted = false;
    }
    batchesRunning--;
    scheduleCountFlush();
    if (!counted) for (const request of batch) void countAlone(request);
  });
}

/** The oldest request and those queued after it that fit the same batch (same limits, size cap). */
function takeCountBatch(): CountRequest[] {
  const first = countQueue.shift()!;
  const batch = [first];
  let bytes = sizeOf(first.source);
  for (let i = 0; i < countQueue.length && batch.length < BATCH_MAX_DOCUMENTS; ) {
    const next = countQueue[i]!;
    const fits =
      bytes + sizeOf(next.source) <= BATCH_MAX_BYTES &&
      next.limits.pdfMemoryMb === first.limits.pdfMemoryMb &&
      next.limits.pageTimeoutMs === first.limits.pageTimeoutMs;
    if (!fits) {
      i++;
      continue;
    }
    batch.push(next);
    bytes += sizeOf(next.source);
    countQueue.splice(i, 1);
  }
  return batch;
}

/** @returns whether every request of the batch got its answer. */
async function countTogether(batch: readonly CountRequest[]): Promise<boolean> {
  const { limits } = batch[0]!;
  const { task, transferList } = countTask(
    batch.map((r) => r.source),
    limits.pdfMemoryMb,
  );
  const { reply } = await runTask(task, Math.min(limits.pageTimeoutMs, BATCH_TIMEOUT_MS), transferList);
  if (!reply.ok || !('counts' in reply) || reply.counts.length !== batch.length) return false;
  for (const [i, r] of batch.entries()) r.resolve(reply.counts[i]!);
  return true;
}

/** One document, on its own worker round trip and under the full time limit: its answer is final. */
async function countAlone(request: CountRequest): Promise<void> {
  try {
    const { task, transferList } = countTask([request.source], request.limits.pdfMemoryMb);
    const { reply } = await runTask(task, request.limits.pageTimeoutMs, transferList);
    if (!reply.ok) request.resolve(reply);
    else if ('counts' in reply && reply.counts.length === 1) request.resolve(reply.counts[0]!);
    else request.resolve({ ok: false, code: 'invalid_document', message: 'unexpected worker reply' });
  } catch (err) {
    request.resolve({
      ok: false,
      code: 'invalid_document',
      message: `PDF worker failed: ${(err as Error).message}`,
    });
  }
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
