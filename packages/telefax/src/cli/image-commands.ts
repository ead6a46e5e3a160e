/**
 * @module
 * `telefax encode | decode | info`: convert between PBM and TIFF Class F and inspect fax TIFFs.
 */

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { type BilevelPage, type FaxResolution, resolutionOf } from '../image/bilevel-page.ts';
import { convertResolution } from '../image/convert-resolution.ts';
import { isPbm, readPbm, writePbm } from '../image/pbm.ts';
import { readTiff, type TiffCompression } from '../image/tiff-reader.ts';
import { writeTiff } from '../image/tiff-writer.ts';

interface InputPage {
  readonly page: BilevelPage;
  readonly compression: TiffCompression | 'pbm';
  readonly badRows: number;
  readonly fillOrder?: 1 | 2;
  readonly badFaxLines?: number;
}

/** Reads a PBM (taken as fax fine, 204×196 dpi) or a TIFF, whichever the bytes are. */
function readImageFile(path: string): InputPage[] {
  const bytes = readFileSync(path);
  if (isPbm(bytes))
    return [{ page: readPbm(bytes, { xDpi: 204, yDpi: 196 }), compression: 'pbm', badRows: 0 }];
  return readTiff(bytes).pages;
}

const COMPRESSION_NAMES: Readonly<Record<InputPage['compression'], string>> = {
  none: 'none',
  mh: 'G3 1-D (MH)',
  mr: 'G3 2-D (MR)',
  mmr: 'G4 (MMR)',
  pbm: 'PBM',
};

export function registerImageCommands(program: Command): void {
  program
    .command('encode')
    .description('encode a PBM or TIFF into a TIFF Class F file')
    .argument('<in>', 'input .pbm or .tif')
    .argument('<out>', 'output .tif')
    .addOption(
      new Option('--compression <kind>', 'fax coding')
        .choices(['mh', 'mr', 'mmr', 'none'])
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--resolution <res>', 'vertical resolution (default: keep the input’s)').choices([
        'standard',
        'fine',
        'superfine',
      ]),
    )
    .addOption(
      new Option('--fill-order <n>', 'TIFF FillOrder (default 2 for G3/G4, 1 for none)').choices(['1', '2']),
    )
    .option('--byte-align', 'G3: pad EOLs to byte boundaries (T4Options bit 2)', false)
    .action(
      (
        input: string,
        output: string,
        opts: {
          compression: TiffCompression;
          resolution?: FaxResolution;
          fillOrder?: '1' | '2';
          byteAlign: boolean;
        },
      ) => {
        const pages = readImageFile(input).map(({ page }) =>
          opts.resolution === undefined ? page : convertResolution(page, opts.resolution),
        );
        const bytes = writeTiff(pages, {
          compression: opts.compression,
          ...(opts.fillOrder !== undefined
            ? { fillOrder: opts.fillOrder === '1' ? (1 as const) : (2 as const) }
            : {}),
          byteAlignEol: opts.byteAlign,
        });
        writeFileSync(output, bytes);
        process.stdout.write(
          `${output}: ${pages.length} page(s), ${COMPRESSION_NAMES[opts.compression]}, ${bytes.length} bytes\n`,
        );
      },
    );

  program
    .command('decode')
    .description('decode every page of a TIFF into DIR/page-N.pbm')
    .argument('<in>', 'input .tif')
    .requiredOption('--out-dir <dir>', 'directory for page-1.pbm, page-2.pbm, …')
    .action((input: string, opts: { outDir: string }) => {
      const pages = readImageFile(input);
      mkdirSync(opts.outDir, { recursive: true });
      pages.forEach(({ page, badRows }, i) => {
        const path = join(opts.outDir, `page-${i + 1}.pbm`);
        writeFileSync(path, writePbm(page));
        process.stdout.write(`${path}: ${page.width}×${page.height}, ${badRows} bad rows\n`);
      });
    });

  program
    .command('info')
    .description('describe the pages of a TIFF (or PBM)')
    .argument('<in>', 'input .tif')
    .option('--json', 'print JSON', false)
    .action((input: string, opts: { json: boolean }) => {
      const pages = readImageFile(input).map((p, i) => ({
        page: i + 1,
        width: p.page.width,
        height: p.page.height,
        xDpi: p.page.xDpi,
        yDpi: p.page.yDpi,
        resolution: resolutionOf(p.page),
        compression: p.compression,
        ...(p.fillOrder !== undefined ? { fillOrder: p.fillOrder } : {}),
        badRows: p.badRows,
        ...(p.badFaxLines !== undefined ? { badFaxLines: p.badFaxLines } : {}),
      }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ file: input, pageCount: pages.length, pages }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${input}: ${pages.length} page(s)\n`);
      for (const p of pages) {
        process.stdout.write(
          `  page ${p.page}: ${p.width}×${p.height}, ${p.xDpi}×${p.yDpi} dpi (${p.resolution}), ` +
            `${COMPRESSION_NAMES[p.compression]}, ${p.badRows} bad rows\n`,
        );
      }
    });
}
