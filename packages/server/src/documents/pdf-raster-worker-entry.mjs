/**
 * @module
 * Worker-thread entry for the PDF pool. Node 20 does not apply `--import tsx` to a worker's ES module loader,
 * so the worker registers tsx itself before loading the TypeScript task.
 */
import { register } from 'tsx/esm/api';

register();
const { default: pdfRasterWorker } = await import('./pdf-raster-worker.ts');

export default pdfRasterWorker;
