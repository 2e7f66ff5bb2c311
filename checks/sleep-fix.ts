// PLACEHOLDER: being built; the registry entry exists so ids and config stay stable.

import type { Check } from '../src/engine/types.js';

export const sleepFix: Check = {
  id: 'sleep-fix',
  title: 'Not built yet',
  docs: { summary: 'Not built yet.', bad: { language: 'text', code: '' }, good: { language: 'text', code: '' } },
  defaultSeverity: 'error',
  languages: [],
  run() {},
};
