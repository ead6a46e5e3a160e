import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runConformanceCase } from './conformance-runner.ts';
import { SCRIPTED_CASES } from './scripted-cases.ts';

describe('scripted conformance cases', () => {
  for (const c of SCRIPTED_CASES) {
    test(`${c.name}: ${c.description}`, { skip: c.skip }, async () => {
      const result = await runConformanceCase(c);
      assert.equal(result.status, 'pass', result.message);
    });
  }
});
