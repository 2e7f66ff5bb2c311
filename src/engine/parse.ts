// One parse per file and revision per snapshot, shared by every check.

import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import type { GoTree as Tree } from '../lang/go-syntax-tree.js';
import type { SourceFile } from 'ts-morph';
import { isShellShebang, languageOf, mayBeScript } from '../lang/detect.js';
import { parseGo, reparseGo } from '../lang/go.js';
import { forgetTypeScript, parseTypeScript } from '../lang/typescript.js';
import { splitShellFile } from '../lang/shell.js';
import type { ChangedFile, ParsedFile, PullRequestSnapshot, Revision, ShellCommand } from './types.js';

export function revKey(rev: Revision): string {
  return typeof rev === 'string' ? rev : `commit:${rev.commit}`;
}

/** The head lines a change adds or modifies. */
export function changedLines(change: ChangedFile | undefined): Set<number> | 'all' {
  if (!change) return new Set();
  if (change.wholeFile || change.status === 'added') return 'all';
  const lines = new Set<number>();
  for (const hunk of change.hunks) for (const line of hunk.added) lines.add(line);
  return lines;
}

/**
 * Go trees parsed in another thread ahead of the analyses (src/cli/parse-thread.ts): the engine hands a
 * package's files over once they are read (ParseCache.handOver), where the checks will parse it, and a
 * file's tree is taken when a check first asks for it.
 */
export interface GoParseAhead {
  /** The file's text, to parse now; its ticket takes the tree (the ticket of a prefetched text, if there is one). */
  enqueue(text: string): GoParseTicket;
  /** A text a later part will ask for (enqueue), to parse once what is asked for now is done. */
  prefetch(text: string): void;
  /** The prefetched texts not asked for by now are not wanted (the part that was to ask has handed its files over). */
  dropPrefetched(): void;
}

export interface GoParseTicket {
  /**
   * The tree the other thread made, waiting for it if that thread has the file now; undefined where this
   * thread is to parse the file itself (the other has not reached it, gave up on it, or failed).
   */
  take(): Tree | undefined;
  /** The tree is not wanted (a tree of the same text is already here, or the cache is done). */
  discard(): void;
}

/** What is computed from a snapshot's texts alone (`snapshot:` memo keys), for as long as the snapshot lives. */
const SNAPSHOT_FACTS = new WeakMap<PullRequestSnapshot, Map<string, unknown>>();

function snapshotFacts(snapshot: PullRequestSnapshot): Map<string, unknown> {
  let facts = SNAPSHOT_FACTS.get(snapshot);
  if (!facts) SNAPSHOT_FACTS.set(snapshot, (facts = new Map()));
  return facts;
}

export class ParseCache {
  private readonly files = new Map<string, Promise<ParsedFile | undefined>>();
  private readonly trees: Tree[] = [];
  private readonly sources: SourceFile[] = [];
  /** head Go files handed to the parse thread, by path, until their tree is taken */
  private readonly tickets = new Map<string, GoParseTicket>();
  private disposed = false;
  readonly skipped: string[] = [];

  constructor(
    private readonly snapshot: PullRequestSnapshot,
    private readonly maxFileBytes: number,
    /** parses the head's Go files ahead, in another thread */
    private readonly ahead?: GoParseAhead,
  ) {}

  get(path: string, rev: Revision = 'head'): Promise<ParsedFile | undefined> {
    const key = `${revKey(rev)}\0${path}`;
    let file = this.files.get(key);
    if (!file) {
      file = this.load(path, rev);
      this.files.set(key, file);
    }
    return file;
  }

  private async load(path: string, rev: Revision): Promise<ParsedFile | undefined> {
    let language = languageOf(path);
    if (!language && !mayBeScript(path)) return undefined;
    const text = await this.snapshot.read(path, rev);
    if (text === undefined) return undefined;
    if (!language) {
      if (!isShellShebang(text)) return undefined;
      language = 'shell';
    }
    if (text.length > this.maxFileBytes) {
      this.skipped.push(`${path}: ${text.length} bytes, over the ${this.maxFileBytes}-byte limit; not analysed`);
      return undefined;
    }
    const change = rev === 'head' ? this.changeOf(path) : undefined;
    const changed = changedLines(change);
    let go: Tree | undefined;
    let ts: SourceFile | undefined;
    let yaml: { docs: Document[]; lineCounter: LineCounter } | undefined;
    let shell: ShellCommand[] | undefined;
    let lines: string[] | undefined;
    const cache = this;
    return {
      path,
      language,
      rev,
      text,
      get lines() {
        return (lines ??= text.split('\n'));
      },
      change,
      isChanged: (line) => changed === 'all' || changed.has(line),
      go() {
        return (go ??= cache.goTree(text, change?.previousPath ?? path, rev === 'head' ? cache.ticketOf(path) : undefined));
      },
      ts() {
        if (!ts) {
          ts = parseTypeScript(path, text);
          cache.sources.push(ts);
        }
        return ts;
      },
      yaml() {
        if (!yaml) {
          const lineCounter = new LineCounter();
          const parsed = parseAllDocuments(text, { lineCounter });
          yaml = { docs: Array.isArray(parsed) ? parsed : [parsed as unknown as Document], lineCounter };
        }
        return yaml;
      },
      shell() {
        return (shell ??= splitShellFile(path, text));
      },
    };
  }

  /**
   * Hand these head files (read already) to the parse thread, in this order: those the checks will parse,
   * as near as the caller can tell. A file not handed over is parsed in this thread when a check asks.
   */
  async handOver(paths: readonly string[]): Promise<void> {
    if (!this.ahead) return;
    for (const path of paths) {
      const file = await this.get(path, 'head');
      // a cache disposed meanwhile (its part failed) takes no more tickets: none would ever be discarded
      if (this.disposed) return;
      if (file?.language === 'go' && !this.tickets.has(path)) this.tickets.set(path, this.ahead.enqueue(file.text));
    }
  }

  private ticketOf(path: string): GoParseTicket | undefined {
    const ticket = this.tickets.get(path);
    this.tickets.delete(path);
    return ticket;
  }

  private changes: Map<string, ChangedFile> | undefined;

  /** The diff entry of a path, from an index built once: a whole-tree scan has thousands of entries. */
  private changeOf(path: string): ChangedFile | undefined {
    this.changes ??= new Map(this.snapshot.files.map((f) => [f.path, f]));
    return this.changes.get(path);
  }

  private readonly derived = new Map<string, unknown>();
  /** Go trees by source text: a file the PR does not touch reads the same at base and head, and is parsed once */
  private readonly goByText = new Map<string, Tree>();

  /** the first tree parsed of each file (by its base path), to reparse its other versions from */
  private readonly goByFile = new Map<string, { tree: Tree; text: string }>();

  private goTree(text: string, file: string, ticket: GoParseTicket | undefined): Tree {
    let tree = this.goByText.get(text);
    if (tree) ticket?.discard();
    else {
      const other = this.goByFile.get(file);
      tree = ticket?.take() ?? (other ? reparseGo(other, text) : parseGo(text));
      this.trees.push(tree);
      this.goByText.set(text, tree);
      if (!other) this.goByFile.set(file, { tree, text });
    }
    return tree;
  }

  /**
   * Per-snapshot memo of derived analysis (see CheckContext.memo): computed once, shared by every check;
   * a `snapshot:` key is shared by every ParseCache of the snapshot (the parts of a large review).
   */
  memo<T>(key: string, compute: () => T): T {
    const derived = key.startsWith('snapshot:') ? snapshotFacts(this.snapshot) : this.derived;
    if (derived.has(key)) return derived.get(key) as T;
    const value = compute();
    derived.set(key, value);
    // a computation that failed (a check over its budget) is not kept: the next check to ask computes it again
    if (value instanceof Promise) value.catch(() => derived.get(key) === value && derived.delete(key));
    return value;
  }

  /** Free the parse trees (tree-sitter trees live in wasm memory). */
  dispose(): void {
    this.disposed = true;
    this.derived.clear();
    this.goByText.clear();
    this.goByFile.clear();
    for (const ticket of this.tickets.values()) ticket.discard();
    this.tickets.clear();
    for (const tree of this.trees.splice(0)) tree.delete();
    for (const source of this.sources.splice(0)) forgetTypeScript(source);
    this.files.clear();
  }
}
