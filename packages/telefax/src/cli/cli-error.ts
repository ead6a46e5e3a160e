/**
 * @module
 * How the CLI ends on an error: one line on stderr and a non-zero exit status, no stack trace.
 */

import { ImageError } from '../image/image-error.ts';

export function reportCliError(err: unknown): void {
  const message =
    err instanceof ImageError
      ? `${err.code}: ${err.message}`
      : err instanceof Error
        ? err.message
        : String(err);
  process.stderr.write(`telefax: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exitCode = 1;
}
