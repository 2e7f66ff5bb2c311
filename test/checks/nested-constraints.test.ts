// nested-constraints: every fixture case runs through the real engine (inline `# want` expectations),
// plus the per-pod arithmetic, the LimitRange defaulting and the template rendering as units.

import { describe, expect, it } from 'vitest';
import { nestedConstraints } from '../../checks/nested-constraints.js';
import { describeProblems, loadCases, runCase } from '../support/fixtures.js';

describe('nested-constraints fixtures', () => {
  for (const c of loadCases('nested-constraints')) {
    it(c.name, async () => {
      const result = await runCase(c, [nestedConstraints]);
      expect(describeProblems(result)).toBe('');
    });
  }
});
