/**
 * @module
 * Runs the TSB-85 procedures against the engine and prints one line per test and the totals:
 * `npx tsx packages/telefax/src/t30/conformance/run-tsb85.ts path/to/tsb85.xml [name-filter]`.
 */

import { readFileSync } from 'node:fs';
import { runConformanceCase } from './conformance-runner.ts';
import { parseTsb85, tsb85Case } from './tsb85-cases.ts';

const path = process.argv[2] ?? process.env.TSB85_XML;
if (!path) {
  process.stderr.write('usage: run-tsb85.ts path/to/tsb85.xml [name-filter]   (spandsp/tsb85.xml)\n');
  process.exit(2);
}
const filter = process.argv[3] ?? '';
const tests = parseTsb85(readFileSync(path, 'utf8')).filter((t) => t.name.includes(filter));
let passed = 0;
for (const t of tests) {
  const r = await runConformanceCase(tsb85Case(t));
  if (r.status === 'pass') passed++;
  process.stdout.write(
    `${r.status.padEnd(4)} ${t.name.padEnd(10)} ${r.status === 'pass' ? '' : r.message}\n`,
  );
}
process.stdout.write(`TSB-85: ${passed}/${tests.length} passed\n`);
