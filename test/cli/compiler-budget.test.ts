// The entry points' inlining budget for V8 (src/cli/compiler-budget.js): set unless node's own command
// line gives one, in either spelling node takes.

import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { compilerBudgetFlag } from '../../src/cli/compiler-budget.js';

describe('compilerBudgetFlag', () => {
  it('sets a cumulative inlining budget of 200 when node was given none', () => {
    expect(compilerBudgetFlag([])).toBe('--max-inlined-bytecode-size-cumulative=200');
    expect(compilerBudgetFlag(['--import', 'tsx', '--max-inlined-bytecode-size=100'])).toBe('--max-inlined-bytecode-size-cumulative=200');
  });

  it("keeps a budget given on node's command line, with dashes or underscores", () => {
    expect(compilerBudgetFlag(['--max-inlined-bytecode-size-cumulative=920'])).toBeUndefined();
    expect(compilerBudgetFlag(['--max_inlined_bytecode_size_cumulative=500'])).toBeUndefined();
  });

  it('is what both entry points import first, before anything else they load', () => {
    for (const entry of ['bin/causal-review.js', 'src/github/action-main.js']) {
      const firstImport = readFileSync(new URL(`../../${entry}`, import.meta.url), 'utf8').match(/^import .*$/m)?.[0];
      expect(firstImport, entry).toMatch(/compiler-budget\.js';$/);
    }
  });
});
