// The contracts between the adapters (git, GitHub), the engine, the checks and the reporters.
// Everything a check may read arrives through these types; nothing here touches I/O.

import type { GoNode, GoTree } from '../lang/go-syntax-tree.js';
import type { SourceFile as TsSourceFile } from 'ts-morph';
import type { Document as YamlDocument, LineCounter } from 'yaml';
import type { Config } from '../config/schema.js';

/** A revision a file is read at: the PR base, the PR head, or one commit of the PR. */
export type Revision = 'base' | 'head' | { commit: string };
export type Side = 'base' | 'head';

export type FileStatus = 'added' | 'modified' | 'removed' | 'renamed';

/** One hunk of a unified diff, with line numbers 1-based on each side. */
export interface Hunk {
  baseStart: number;
  baseLines: number;
  headStart: number;
  headLines: number;
  /** head line numbers that the PR adds or changes */
  added: number[];
  /** base line numbers that the PR removes or changes */
  removed: number[];
}

export interface ChangedFile {
  path: string;
  previousPath?: string;
  status: FileStatus;
  hunks: Hunk[];
  /** set when the adapter could not get the diff (binary, too large): the whole head file counts as changed */
  wholeFile?: boolean;
}

export interface Commit {
  sha: string;
  message: string;
  author: { name: string; email: string; login?: string };
  committer?: { name: string; email: string; login?: string };
}

/** A pull request as the engine sees it, built by the git adapter or the GitHub adapter. */
export interface PullRequestSnapshot {
  repo: string;
  number?: number;
  baseSha: string;
  headSha: string;
  headRef?: string;
  title: string;
  body: string;
  labels: string[];
  author?: { login: string; type?: string };
  files: ChangedFile[];
  /** oldest first */
  commits: Commit[];
  /** things the adapter could not see in full (GitHub lists at most 3,000 files, ...) */
  notes: string[];
  /** a file's text at a revision; undefined when it does not exist there */
  read(path: string, rev: Revision): Promise<string | undefined>;
  /** every file path below dir (recursively; '' for the root) at a revision */
  list(dir: string, rev: Revision): Promise<string[]>;
  /**
   * True when the file's head text is known to hold no `causal-review:ignore` (the adapter looked as it
   * read the file): the suppression pass need not read it again. Undefined or false: read it.
   */
  withoutDirectives?(path: string): boolean;
}

export type Severity = 'error' | 'warning' | 'notice';

export type Language = 'go' | 'ts' | 'js' | 'shell' | 'yaml' | 'text';

/** Path used by findings on the PR title, body or commit messages. */
export const PR_TEXT_PATH = 'pr-text';

export interface Suggestion {
  /** head lines replaced, inclusive */
  startLine: number;
  endLine: number;
  replacement: string;
}

export interface Finding {
  checkId: string;
  path: string;
  line: number;
  endLine?: number;
  column?: number;
  severity: Severity;
  message: string;
  /** what the finding rests on: the quoted line, the claim, the values before and after */
  evidence?: string;
  suggestion?: Suggestion;
  /**
   * What identifies the finding across pushes (a normalized claim, a wait's call text).
   * The engine hashes it with the check and path into `fingerprint`; defaults to the source line.
   */
  key?: string;
  fingerprint?: string;
}

/** What a check reports: the engine fills in the check id, the severity and the fingerprint. */
export type Report = Omit<Finding, 'checkId' | 'severity' | 'fingerprint'> & { severity?: Severity };

/** A shell command as the shell front-end splits it: one simple command of a pipeline or list. */
export interface ShellCommand {
  /** words after quote removal; `$VAR` and `$(...)` kept as written */
  words: string[];
  /** the command as written (comments and continuations removed) */
  text: string;
  line: number;
  endLine: number;
  /** which script this command belongs to, for files that hold several (workflow steps, make targets) */
  script: string;
  /** index of this command in its script, to see what comes before and after */
  index: number;
}

/** A parsed file at one revision. Parsing is lazy and cached: one parse per file and revision. */
export interface ParsedFile {
  path: string;
  language: Language;
  rev: Revision;
  text: string;
  lines: string[];
  /** the diff entry when this file is part of the PR */
  change?: ChangedFile;
  /** true when the PR adds or changes this head line (1-based) */
  isChanged(line: number): boolean;
  go(): GoTree;
  ts(): TsSourceFile;
  yaml(): { docs: YamlDocument[]; lineCounter: LineCounter };
  shell(): ShellCommand[];
}

export type { GoNode, GoTree };

export interface CheckDocs {
  /** one paragraph: what it flags and why it matters */
  summary: string;
  /** optional longer explanation: thresholds, what keeps it silent */
  details?: string;
  bad: { language: Language; code: string; note?: string };
  good: { language: Language; code: string; note?: string };
}

export interface CheckContext {
  /** the changed files (not removed) in the languages the check declares, parsed at head */
  files: ParsedFile[];
  /** every file of the snapshot's diff, whatever its language and status */
  changes: ChangedFile[];
  read(path: string, rev?: Revision): Promise<string | undefined>;
  list(dir: string, rev?: Revision): Promise<string[]>;
  /** parse any file at a revision (cached across checks); undefined when it does not exist or is too large */
  parse(path: string, rev?: Revision): Promise<ParsedFile | undefined>;
  pr: { title: string; body: string; commits: Commit[]; labels: string[] };
  /** the check's options, defaults merged with the configuration */
  options: Record<string, unknown>;
  config: Config;
  report(finding: Report): void;
  /** throws when the check has used up its time budget; call it in long loops */
  checkBudget(): void;
  /** a finding-free note for the verdict: what the check could not evaluate and skipped */
  note?(message: string): void;
  /**
   * Derived, immutable analysis shared by every check of one snapshot (a Go package's index, its reconcile
   * path): computed on the first call for a key, then returned as is. The key must identify the content
   * it is computed from, e.g. `go-package:head:<dir>`; the value must never be changed by who reads it.
   * A key starting `snapshot:` is kept for the whole review, across the parts a large one is taken in:
   * only for what is computed from the files' texts, never from parse trees (freed with each part).
   */
  memo?<T>(key: string, compute: () => T): T;
}

export interface Check {
  id: string;
  /** one line, sentence case, no period */
  title: string;
  docs: CheckDocs;
  defaultSeverity: Severity;
  languages: Language[];
  /** findings may sit on lines the PR did not change (say why in docs.details) */
  reportsOutsideDiff?: boolean;
  /**
   * What it finds for a changed file depends on that file and what the check reads around it, never on
   * the other changed files in `ctx.files`: the engine may give it the changed files in parts (threads).
   */
  shardable?: boolean;
  /**
   * It reads the diff entries (`ctx.changes`) and parses what it needs through `ctx.parse`, never
   * `ctx.files` (given empty): the engine does not read every changed file for it.
   */
  changesOnly?: boolean;
  /**
   * The check parses a Go package's files only where one of them says this (its own gate, packageSays in
   * src/engine/packages.ts): the engine hands the files of other packages to no parse thread. Unset,
   * it may parse any Go file. Not global (`g`): it is tested again and again.
   */
  goPackageGate?: RegExp;
  /** default option values; configuration overrides them key by key */
  defaultOptions?: Record<string, unknown>;
  run(ctx: CheckContext): void | Promise<void>;
}

/** A finding someone with write access accepted (a diagnosis they verified, a waived finding). */
export interface Acceptance {
  fingerprint: string;
  /** the check id or fingerprint the person named */
  by: string;
  reason: string;
  at?: string;
}

export type Conclusion = 'success' | 'neutral' | 'failure';

export interface ReviewedFinding extends Finding {
  fingerprint: string;
  blocking: boolean;
  accepted?: Acceptance;
}

export interface Authorship {
  aiAuthored: boolean;
  reasons: string[];
}

export interface Verdict {
  conclusion: Conclusion;
  /** one sentence: why this conclusion */
  why: string;
  authorship: Authorship;
  blocking: ReviewedFinding[];
  advisory: ReviewedFinding[];
  accepted: ReviewedFinding[];
  findings: ReviewedFinding[];
  notes: string[];
}
