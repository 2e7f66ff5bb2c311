// The waits a file holds, as sleep-fix sees them: one record per wait with where it sits, shared by the
// Go, TypeScript and shell collectors (waits-go.ts, waits-ts.ts, waits-shell.ts) and the check that judges them.

import type { Suggestion } from '../engine/types.js';

/** Where a wait sits decides what it masks and what to do instead. */
export type Situation = 'reconcile' | 'test' | 'test-helper' | 'goroutine' | 'kubectl' | 'after-write' | 'deferred' | 'container' | 'generic';
export type Flavour = 'go' | 'ts' | 'shell';

export interface WaitSite {
  flavour: Flavour;
  path: string;
  line: number;
  endLine: number;
  /** enclosing function, test or script: with `callee`, what matches a wait across revisions */
  scope: string;
  callee: string;
  /** the wait as written, on one line */
  text: string;
  ms?: number;
  /** why this wait masks no race; such sites are kept only to match waits across revisions */
  benign?: string;
  situation: Situation;
  /** sits in a loop that polls with no deadline or attempt cap */
  poll: boolean;
  /** the reconcile call path, the kubectl command, the API call the wait follows */
  detail?: string;
  suggestion?: Suggestion;
  /** lines of this file's constants the duration is computed from: a PR can lengthen a wait there */
  durationLines?: number[];
  /** identifiers the duration is computed from (Go): a package constant changed in another file can lengthen it */
  durationNames?: string[];
  /**
   * Decides `benign`, `situation`, `poll`, `detail`, `suggestion`. Run only for the head waits on changed
   * lines: the rest of a large file, and every other revision, need only what matches waits across revisions.
   */
  judge?: () => void;
}


export const MAX_PACKAGE_FILES = 60;
export const MAX_SITES_PER_FILE = 500;
const TEXT_CAP = 120;

/** A wait or a command as shown in a message: in backticks, cut to a readable length. */
export const quote = (text: string) => `\`${text.length > TEXT_CAP ? `${text.slice(0, TEXT_CAP - 3)}...` : text}\``;

/** Counters that bound a retry by recursion (`send(req, retries + 1)`). */
export const RETRY_COUNTERS = /retr|attempt|tries|remaining|left|count/i;

/** Delays a server or a policy asks for (`Retry-After`, a backoff), not guesses: only when not a constant. */
export const REQUESTED_DELAY = /retry-?after|retry_after|backoff|jitter/i;

/** Mark a wait as sitting in a reconcile path (`Reconcile -> finalize`), when it does. */
export function inReconcilePath(site: WaitSite, path: string[] | undefined): boolean {
  if (!path) return false;
  site.situation = 'reconcile';
  site.detail = path.join(' -> ');
  return true;
}
