/**
 * @module
 * `faxwire render DOC… --out OUT.pdf|OUT.tif`: renders documents to fax pages exactly as a send would and
 * writes them out, a page at a time, as a fax PDF or a TIFF Class F file.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { extname } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { BilevelPage, FaxResolution } from 'telefax/image/bilevel-page';
import { tiffFileSink } from 'telefax/image/tiff-writer';
import type { CoverPage } from '../documents/cover-page.ts';
import { isDocumentError } from '../documents/document-error.ts';
import type { PaperChoice } from '../documents/paper-size.ts';
import { type DocumentInput, renderDocuments } from '../documents/render-documents.ts';
import { closePdfWorkers } from '../documents/render-pdf-pages.ts';
import { writeFaxPdf } from '../documents/write-fax-pdf.ts';
import { writeFaxTiff } from '../documents/write-fax-tiff.ts';

export interface RenderCommandOptions {
  readonly resolution: FaxResolution;
  readonly paper: PaperChoice;
  readonly out: string;
  readonly maxPages?: number;
  readonly coverTo?: string;
  readonly coverFrom?: string;
  readonly coverSubject?: string;
  readonly coverMessage?: string;
}

/** Extension hints only; the content is sniffed anyway. */
const MEDIA_TYPE_BY_EXTENSION: Readonly<Record<string, string>> = {
  '.pdf': 'application/pdf',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.txt': 'text/plain',
};

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('render documents to fax pages and write them as a fax PDF or TIFF Class F')
    .argument('<documents...>', 'PDF, TIFF, PNG, JPEG or plain-text files')
    .addOption(
      new Option('-r, --resolution <resolution>', 'fax resolution')
        .choices(['standard', 'fine', 'superfine'])
        .default('fine'),
    )
    .addOption(
      new Option('--paper <paper>', 'paper size').choices(['auto', 'letter', 'a4', 'legal']).default('auto'),
    )
    .requiredOption('-o, --out <file>', 'output file: .pdf, or .tif/.tiff')
    .option('--max-pages <n>', 'refuse documents with more pages', positiveInt)
    .option('--cover-to <text>', 'cover page: recipient')
    .option('--cover-from <text>', 'cover page: sender')
    .option('--cover-subject <text>', 'cover page: subject')
    .option('--cover-message <text>', 'cover page: message')
    .action(async (documents: string[], options: RenderCommandOptions) => {
      try {
        process.exitCode = await runRender(documents, options);
      } finally {
        await closePdfWorkers();
      }
    });
}

/** Renders and writes the file; the exit code (0 done, 1 a document refused, 2 bad arguments). */
export async function runRender(documents: string[], options: RenderCommandOptions): Promise<number> {
  const format = extname(options.out).toLowerCase();
  if (format !== '.pdf' && format !== '.tif' && format !== '.tiff') {
    console.error('error: --out must end in .pdf, .tif or .tiff');
    return 2;
  }
  const inputs: DocumentInput[] = documents.map((path) => ({
    data: readFileSync(path),
    mediaType: MEDIA_TYPE_BY_EXTENSION[extname(path).toLowerCase()],
    name: path,
  }));
  const cover: CoverPage | undefined =
    options.coverTo || options.coverFrom || options.coverSubject || options.coverMessage
      ? {
          to: options.coverTo,
          from: options.coverFrom,
          subject: options.coverSubject,
          message: options.coverMessage,
        }
      : undefined;
  const started = performance.now();
  let count = 0;
  async function* pages(): AsyncGenerator<BilevelPage> {
    for await (const rendered of renderDocuments(inputs, {
      resolution: options.resolution,
      paper: options.paper,
      cover,
      limits: options.maxPages ? { maxPages: options.maxPages } : undefined,
    })) {
      count++;
      yield rendered.page;
    }
  }
  const fd = openSync(options.out, 'w');
  try {
    if (format === '.pdf') {
      for await (const chunk of writeFaxPdf(pages())) writeSync(fd, chunk);
    } else {
      await writeFaxTiff(pages(), { sink: tiffFileSink(fd) });
    }
  } catch (err) {
    if (!isDocumentError(err)) throw err;
    const which =
      err.details.document === undefined ? '' : ` (${documents[err.details.document] ?? 'cover'})`;
    console.error(`error: ${err.code}${which}: ${err.message}`);
    return 1;
  } finally {
    closeSync(fd);
  }
  const ms = performance.now() - started;
  console.error(
    `${count} page(s) at ${options.resolution} resolution → ${options.out} in ${ms.toFixed(0)} ms`,
  );
  return 0;
}
