// The registry of checks, sorted by id. A check not listed here does not run.

import type { Check } from '../src/engine/types.js';
import { eventOrdering } from './event-ordering.js';
import { nestedConstraints } from './nested-constraints.js';
import { sleepFix } from './sleep-fix.js';
import { symptomaticTuning } from './symptomatic-tuning.js';
import { unsynchronizedState } from './unsynchronized-state.js';
import { unverifiedDiagnosis } from './unverified-diagnosis.js';

export const CHECKS: readonly Check[] = [
  eventOrdering,
  nestedConstraints,
  sleepFix,
  symptomaticTuning,
  unsynchronizedState,
  unverifiedDiagnosis,
];

export const CHECK_IDS = CHECKS.map((c) => c.id);
