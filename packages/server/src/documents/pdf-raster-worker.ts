/**
 * @module
 * Runs inside a piscina worker thread: PDFium (WebAssembly) opens a PDF and rasterizes one page per task
 * straight to the fax grid, then thresholds/dithers it. Everything the document can make PDFium do stays in
 * this thread; the pool terminates it on timeout, and the WebAssembly heap is capped here.
 *
 * Replies are plain objects, never thrown errors, because structured cloning drops an error's code.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { init, type WrappedPdfiumModule } from '@embedpdf/pdfium';
import type { FaxResolution } from 'telefax/image/bilevel-page';
import type { DocumentErrorCode } from './document-error.ts';
import { greyToBilevel, halveRows } from './grey-to-bilevel.ts';
import { choosePaper, type PaperChoice, type PaperSize, pageGeometry } from './paper-size.ts';
import { placeOnPage } from './place-on-page.ts';

export interface PdfOpenTask {
  readonly kind: 'open';
  readonly docId: string;
  /** The PDF, usually over a SharedArrayBuffer so tasks share it without copies. */
  readonly bytes: Uint8Array;
  readonly memoryMb: number;
}

export interface PdfRenderTask {
  readonly kind: 'render';
  readonly docId: string;
  readonly bytes: Uint8Array;
  readonly memoryMb: number;
  readonly pageIndex: number;
  readonly resolution: FaxResolution;
  readonly paper: PaperChoice;
}

/**
 * One document of a count task: where it ends in the task's `bytes`, or a file the worker reads itself
 * (a large upload never passes through the main thread's memory).
 */
export type PdfCountSource = { readonly end: number } | { readonly path: string };

/**
 * Page counts of several PDFs in one round trip, each opened and closed again at once: what accepting a
 * fax needs, without keeping documents open for a rendering that may never come here.
 */
export interface PdfCountTask {
  readonly kind: 'count';
  /** The documents given in memory, back to back. */
  readonly bytes: Uint8Array;
  /** Every document, in order. */
  readonly documents: readonly PdfCountSource[];
  readonly memoryMb: number;
}

export type PdfTask = PdfOpenTask | PdfRenderTask | PdfCountTask;

export type PdfFailure = {
  readonly ok: false;
  readonly code: DocumentErrorCode;
  readonly message: string;
  readonly limit?: string;
};

export type PdfCount = { readonly ok: true; readonly pageCount: number } | PdfFailure;

export interface RasterizedPdfPage {
  readonly width: number;
  readonly height: number;
  readonly xDpi: number;
  readonly yDpi: number;
  readonly data: Uint8Array;
  readonly paper: PaperSize;
  readonly rotated: boolean;
  readonly photoTiles: number;
}

export type PdfReply =
  | { readonly ok: true; readonly pageCount: number }
  | { readonly ok: true; readonly page: RasterizedPdfPage }
  | { readonly ok: true; readonly counts: PdfCount[] }
  | PdfFailure;

// FPDF_* constants from PDFium's public headers (fpdfview.h).
const FPDF_ANNOT = 0x01;
const FPDF_PRINTING = 0x800;
const FPDF_RENDER_NO_SMOOTHTEXT = 0x1000;
const FPDF_RENDER_NO_SMOOTHPATH = 0x4000;
const FPDFBITMAP_GRAY = 1;
const FPDF_ERR_FORMAT = 3;
const FPDF_ERR_PASSWORD = 4;
const FPDF_ERR_SECURITY = 5;
/**
 * Text and paths without anti-aliasing come out as pure black and white, which keeps thin strokes (the
 * cross-bar of "e") intact through thresholding; images keep their smoothing so photos dither well.
 */
const RENDER_FLAGS = FPDF_ANNOT | FPDF_PRINTING | FPDF_RENDER_NO_SMOOTHTEXT | FPDF_RENDER_NO_SMOOTHPATH;

/** The parts of the WebAssembly instance the typings leave out. */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}

interface Engine {
  readonly pdfium: WrappedPdfiumModule;
  readonly memory: WasmMemory;
  /** The WebAssembly heap; re-read after anything that may grow memory. */
  heap(): Uint8Array;
}

interface OpenDocument {
  readonly handle: number;
  readonly bufferPtr: number;
}

let engine: Promise<Engine> | undefined;
let memoryLimitBytes = 512 * 1024 * 1024;
let memoryExceeded = false;
const documents = new Map<string, OpenDocument>();
const MAX_OPEN_DOCUMENTS = 2;

function wasmBinary(): Uint8Array {
  const require = createRequire(import.meta.url);
  return readFileSync(require.resolve('@embedpdf/pdfium/pdfium.wasm'));
}

async function startEngine(): Promise<Engine> {
  const pdfium = await init({ wasmBinary: wasmBinary(), print: () => {}, printErr: () => {} } as never);
  pdfium.PDFiumExt_Init();
  const memory = (pdfium.pdfium.wasmExports as unknown as { memory: WasmMemory }).memory;
  const grow = memory.grow.bind(memory);
  // Emscripten grows the heap through this method; refusing here makes PDFium's allocations fail instead of
  // letting a hostile file take gigabytes.
  memory.grow = (delta: number): number => {
    if (memory.buffer.byteLength + delta * 65536 > memoryLimitBytes) {
      memoryExceeded = true;
      throw new RangeError('PDF heap limit reached');
    }
    return grow(delta);
  };
  const runtime = pdfium.pdfium as unknown as { HEAPU8: Uint8Array };
  return { pdfium, memory, heap: () => runtime.HEAPU8 };
}

/** The page bitmap, kept between pages of the same size: allocating and freeing megabytes per page costs. */
let pageBitmap: { readonly handle: number; readonly width: number; readonly height: number } | undefined;

function bitmapFor(e: Engine, width: number, height: number): number {
  if (pageBitmap && pageBitmap.width === width && pageBitmap.height === height) return pageBitmap.handle;
  if (pageBitmap) e.pdfium.FPDFBitmap_Destroy(pageBitmap.handle);
  pageBitmap = undefined;
  const handle = e.pdfium.FPDFBitmap_CreateEx(width, height, FPDFBITMAP_GRAY, 0, 0);
  if (handle !== 0) pageBitmap = { handle, width, height };
  return handle;
}

function resetEngine(): void {
  engine = undefined;
  pageBitmap = undefined;
  documents.clear();
}

function openDocument(e: Engine, docId: string, bytes: Uint8Array): OpenDocument | PdfReply {
  const known = documents.get(docId);
  if (known) {
    documents.delete(docId);
    documents.set(docId, known);
    return known;
  }
  while (documents.size >= MAX_OPEN_DOCUMENTS) {
    const [oldId, old] = documents.entries().next().value as [string, OpenDocument];
    closeDocument(e, old);
    documents.delete(oldId);
  }
  const doc = loadDocument(e, bytes);
  if (!('ok' in doc)) documents.set(docId, doc);
  return doc;
}

const NO_ROOM: PdfFailure = {
  ok: false,
  code: 'document_too_large',
  message: 'PDF too large',
  limit: 'memory',
};

/** FPDF_LoadMemDocument over a copy in the WebAssembly heap, which must outlive the document. */
function loadDocument(e: Engine, bytes: Uint8Array): OpenDocument | PdfFailure {
  const bufferPtr = e.pdfium.pdfium.wasmExports.malloc(bytes.length);
  if (bufferPtr === 0) return NO_ROOM;
  e.heap().set(bytes, bufferPtr);
  return openInHeap(e, bufferPtr, bytes.length);
}

/**
 * As {@link loadDocument}, for a document in a file, read straight into the WebAssembly heap. PDFium
 * needs the whole document in memory, so this worker holds it while it counts; with one document at a
 * time per worker, the pool's size bounds that memory, not the number of requests waiting.
 */
function loadDocumentFile(e: Engine, path: string): OpenDocument | PdfFailure {
  const unreadable = (err: unknown): PdfFailure => ({
    ok: false,
    code: 'invalid_document',
    message: `the PDF file could not be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
  });
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    return unreadable(err);
  }
  try {
    let size: number;
    try {
      size = fstatSync(fd).size;
    } catch (err) {
      return unreadable(err);
    }
    const bufferPtr = e.pdfium.pdfium.wasmExports.malloc(size);
    if (bufferPtr === 0) return NO_ROOM;
    let filled = 0;
    try {
      while (filled < size) {
        const n = readSync(fd, e.heap(), bufferPtr + filled, size - filled, filled);
        if (n === 0) break;
        filled += n;
      }
    } catch (err) {
      e.pdfium.pdfium.wasmExports.free(bufferPtr);
      return unreadable(err);
    }
    return openInHeap(e, bufferPtr, filled);
  } finally {
    closeSync(fd);
  }
}

/** Opens the document at `bufferPtr`; on failure the buffer is freed. */
function openInHeap(e: Engine, bufferPtr: number, length: number): OpenDocument | PdfFailure {
  const m = e.pdfium;
  const handle = m.FPDF_LoadMemDocument(bufferPtr, length, '');
  if (handle === 0) {
    const err = m.FPDF_GetLastError();
    m.pdfium.wasmExports.free(bufferPtr);
    if (err === FPDF_ERR_PASSWORD || err === FPDF_ERR_SECURITY) {
      return { ok: false, code: 'password_protected', message: 'the PDF needs a password to open' };
    }
    return {
      ok: false,
      code: 'invalid_document',
      message:
        err === FPDF_ERR_FORMAT ? 'not a PDF, or the file is corrupted' : `PDF could not be opened (${err})`,
    };
  }
  return { handle, bufferPtr };
}

function closeDocument(e: Engine, doc: OpenDocument): void {
  e.pdfium.FPDF_CloseDocument(doc.handle);
  e.pdfium.pdfium.wasmExports.free(doc.bufferPtr);
}

function renderPage(e: Engine, doc: OpenDocument, task: PdfRenderTask): PdfReply {
  const m = e.pdfium;
  const page = m.FPDF_LoadPage(doc.handle, task.pageIndex);
  if (page === 0) {
    return { ok: false, code: 'invalid_document', message: `page ${task.pageIndex + 1} could not be loaded` };
  }
  let scratch = 0;
  try {
    // Sizes after the page's /Rotate; PDFium's display matrix applies /Rotate before ours.
    const widthPt = m.FPDF_GetPageWidthF(page);
    const heightPt = m.FPDF_GetPageHeightF(page);
    if (!(widthPt > 0 && heightPt > 0)) {
      return { ok: false, code: 'invalid_document', message: `page ${task.pageIndex + 1} has no size` };
    }
    const paper = choosePaper(task.paper, widthPt, heightPt);
    const geometry = pageGeometry(paper, task.resolution);
    const halve = task.resolution === 'standard';
    const renderYDpi = halve ? 2 * geometry.yDpi : geometry.yDpi;
    const renderHeight = halve ? 2 * geometry.height : geometry.height;
    const place = placeOnPage(
      widthPt / 72,
      heightPt / 72,
      { width: geometry.width, height: renderHeight, xDpi: geometry.xDpi, yDpi: renderYDpi },
      true,
    );
    const kx = place.scaleX / 72;
    const ky = place.scaleY / 72;
    // FS_MATRIX maps PDFium's top-left page space (points) to pixels: x' = a·x + c·y + e, y' = b·x + d·y + f.
    const matrix = place.rotate
      ? [0, -ky, kx, 0, place.left, place.top + ky * widthPt]
      : [kx, 0, 0, ky, place.left, place.top];
    const bitmap = bitmapFor(e, geometry.width, renderHeight);
    if (bitmap === 0)
      return { ok: false, code: 'document_too_large', message: 'out of memory', limit: 'memory' };
    m.FPDFBitmap_FillRect(bitmap, 0, 0, geometry.width, renderHeight, 0xffffffff);
    scratch = m.pdfium.wasmExports.malloc(40);
    const f32 = new Float32Array(e.heap().buffer, scratch, 10);
    f32.set([...matrix, 0, 0, geometry.width, renderHeight]);
    m.FPDF_RenderPageBitmapWithMatrix(bitmap, page, scratch, scratch + 24, RENDER_FLAGS);
    if (memoryExceeded) {
      return {
        ok: false,
        code: 'document_too_large',
        message: 'the page needs too much memory',
        limit: 'memory',
      };
    }
    const stride = m.FPDFBitmap_GetStride(bitmap);
    const ptr = m.FPDFBitmap_GetBuffer(bitmap);
    let grey = {
      width: geometry.width,
      height: renderHeight,
      stride,
      data: e.heap().subarray(ptr, ptr + stride * renderHeight),
    };
    if (halve) grey = halveRows(grey);
    const bits = greyToBilevel(grey);
    return {
      ok: true,
      page: {
        width: geometry.width,
        height: geometry.height,
        xDpi: geometry.xDpi,
        yDpi: geometry.yDpi,
        data: bits.data,
        paper,
        rotated: place.rotate,
        photoTiles: bits.photoTiles,
      },
    };
  } finally {
    if (scratch) m.pdfium.wasmExports.free(scratch);
    m.FPDF_ClosePage(page);
  }
}

const MEMORY_EXCEEDED: PdfFailure = {
  ok: false,
  code: 'document_too_large',
  message: 'the PDF needs too much memory',
  limit: 'memory',
};

/** The engine with a heap within `memoryMb`; WebAssembly memory never shrinks, so a grown one is replaced. */
async function engineWithin(memoryMb: number): Promise<Engine> {
  const limitBytes = memoryMb * 1024 * 1024;
  engine ??= startEngine();
  let e = await engine;
  if (e.memory.buffer.byteLength > limitBytes) {
    resetEngine();
    engine = startEngine();
    e = await engine;
  }
  memoryLimitBytes = Math.max(e.memory.buffer.byteLength, limitBytes);
  memoryExceeded = false;
  return e;
}

/** A WebAssembly trap or an abort leaves PDFium's state undefined: start a fresh instance next time. */
function engineFailure(err: unknown): PdfFailure {
  resetEngine();
  if (memoryExceeded) return MEMORY_EXCEEDED;
  return { ok: false, code: 'invalid_document', message: `PDF engine failure: ${(err as Error).message}` };
}

async function countPages(task: PdfCountTask): Promise<PdfReply> {
  const counts: PdfCount[] = [];
  let start = 0;
  for (const source of task.documents) {
    const from = start;
    if ('end' in source) start = source.end;
    const e = await engineWithin(task.memoryMb);
    try {
      const doc =
        'end' in source
          ? loadDocument(e, task.bytes.subarray(from, source.end))
          : loadDocumentFile(e, source.path);
      if ('ok' in doc) {
        if (memoryExceeded) resetEngine();
        counts.push(memoryExceeded ? MEMORY_EXCEEDED : doc);
        continue;
      }
      const pageCount = e.pdfium.FPDF_GetPageCount(doc.handle);
      closeDocument(e, doc);
      if (memoryExceeded) {
        resetEngine();
        counts.push(MEMORY_EXCEEDED);
      } else {
        counts.push({ ok: true, pageCount });
      }
    } catch (err) {
      counts.push(engineFailure(err));
    }
  }
  return { ok: true, counts };
}

export default async function pdfRasterWorker(task: PdfTask): Promise<PdfReply> {
  if (task.kind === 'count') return countPages(task);
  const e = await engineWithin(task.memoryMb);
  try {
    const doc = openDocument(e, task.docId, task.bytes);
    if ('ok' in doc) return doc;
    if (memoryExceeded) {
      resetEngine();
      return MEMORY_EXCEEDED;
    }
    if (task.kind === 'open') return { ok: true, pageCount: e.pdfium.FPDF_GetPageCount(doc.handle) };
    const reply = renderPage(e, doc, task);
    if (memoryExceeded) resetEngine();
    return reply;
  } catch (err) {
    return engineFailure(err);
  }
}
