// PLACEHOLDER: being built; the registry entry exists so ids and config stay stable.

import type { Check } from '../src/engine/types.js';

export const unsynchronizedState: Check = {
  id: 'unsynchronized-state',
  title: 'Not built yet',
  docs: { summary: 'Not built yet.', bad: { language: 'text', code: '' }, good: { language: 'text', code: '' } },
  defaultSeverity: 'error',
  languages: [],
  run() {},
};
