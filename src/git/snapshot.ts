// The local adapter: a PullRequestSnapshot from a git range (base..head) or a whole tree (--all),
// with files read through one `git cat-file --batch` process for the snapshot's lifetime.

import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { createInterface } from 'node:readline';
import { parsePatch } from '../engine/diff.js';
import { mayHoldDirective } from '../engine/suppress.js';
import type { ChangedFile, Commit, FileStatus, PullRequestSnapshot, Revision } from '../engine/types.js';
import { BlobReader } from './blobs.js';
import { GIT_FLAGS, GitInputError, git, gitEnv, runGit } from './exec.js';
import { TextCache } from './text-cache.js';
import { lowerBound } from '../util/sorted.js';

export interface GitSnapshotOptions {
  /** a directory inside the work tree (default `.`) */
  repo?: string;
  /** default: the merge-base of head with origin/HEAD, else main, else master */
  base?: string;
  /** default HEAD */
  head?: string;
  /** review every tracked file at head as if the PR added it (base = the empty tree) */
  all?: boolean;
  title?: string;
  body?: string;
  labels?: string[];
  limits?: Partial<GitLimits>;
}

export interface GitLimits {
  /** a file larger than this is not read (a note says so) */
  maxFileBytes: number;
  /** one file's patch larger than this counts as wholly changed */
  maxPatchBytesPerFile: number;
  /** the whole diff's output; past it the remaining files count as wholly changed */
  maxPatchBytes: number;
  /** commits read from the range, newest kept */
  maxCommits: number;
}

const DEFAULT_LIMITS: GitLimits = {
  maxFileBytes: 50_000_000,
  maxPatchBytesPerFile: 4_000_000,
  maxPatchBytes: 128_000_000,
  maxCommits: 1000,
};

export interface GitSnapshot extends PullRequestSnapshot {
  /** the work tree's top directory */
  root: string;
  /** the user's names for the range, for messages */
  range: { base: string; head: string };
  /** stop the blob reader; reads after this restart it */
  close(): void;
}

const EMPTY_TREE: Record<string, string> = {
  sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  sha256: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321',
};

const SUBMODULE = '160000';
/**
 * A name git cannot be asked for: `git cat-file --batch` reads a path per line, and a name that is not
 * UTF-8 is read back altered. Such a file is not read, by path or by object id, and a note says so.
 */
const UNREADABLE_NAME = /[\n\r\uFFFD]/;

/**
 * Texts kept for reading again (src/git/text-cache.ts): more than one part's files of a whole-tree scan
 * (1,500 files, about 36 MB of library code), so a part's checks read each file from git once.
 */
const TEXT_CACHE_CHARS = 64_000_000;

export async function gitSnapshot(options: GitSnapshotOptions = {}): Promise<GitSnapshot> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const root = await workTree(options.repo ?? '.');
  const headName = options.head ?? 'HEAD';
  const headSha = await resolveCommit(root, headName, '--head');
  const notes: string[] = [];
  let baseSha: string;
  let baseName: string;
  let files: ChangedFile[];
  let commits: Commit[];
  /** the object id of each file at head, where the listing gave it (a whole-tree scan) */
  let headBlobs = new Map<string, string>();
  if (options.all) {
    const format = (await git(root, ['rev-parse', '--show-object-format'])).trim();
    baseSha = EMPTY_TREE[format] ?? EMPTY_TREE.sha1!;
    baseName = '(empty tree)';
    ({ files, blobs: headBlobs } = await wholeTree(root, headSha));
    // a whole-tree scan is not a PR: no commits, so authorship comes only from the description
    commits = [];
    notes.push('whole-tree scan (--all): no commits, so only the PR description can make it count as AI-authored; `enforce: all` fails on any blocking finding');
  } else {
    baseName = options.base ?? (await defaultBaseName(root));
    // as on GitHub, the PR's changes are those since head left the base branch: a base that moved on
    // since (new commits on main) must not show up as changes the PR reverts
    const target = options.base ? await resolveCommit(root, options.base, '--base') : baseName;
    baseSha = await mergeBase(root, headSha, target, baseName);
    files = await changedFiles(root, baseSha, headSha, limits, notes);
    commits = await commitsBetween(root, baseSha, headSha, limits.maxCommits, notes);
    // an empty range passes: say that nothing was reviewed, and between what (uncommitted changes are not in it)
    if (files.length === 0) {
      notes.push(`nothing to review: ${headName} has no changes against ${baseName === target ? baseName : `the merge-base with ${baseName}`} (${baseSha.slice(0, 7)}); only committed changes are reviewed`);
    }
  }

  // a file git cannot be asked for says so rather than passing unreviewed
  for (const f of files) {
    if (notes.length >= 1000) break;
    if (f.status !== 'removed' && UNREADABLE_NAME.test(f.path)) {
      notes.push(`${JSON.stringify(f.path).slice(1, -1)}: its name has a line break or is not UTF-8, so it cannot be read; not analysed`);
    }
  }
  const blobs = new BlobReader(root, limits.maxFileBytes);
  const shaOf = (rev: Revision): string | undefined => {
    if (rev === 'base') return baseSha;
    if (rev === 'head') return headSha;
    // commit names come from checks, not users; still, only object names go to git
    return /^[0-9a-f]{7,64}$/i.test(rev.commit) ? rev.commit : undefined;
  };
  const trees = new Map<string, Promise<string[]>>();
  const listings = new Map<string, string[]>();
  const reported = new Set<string>();
  // a path the diff does not list reads the same at base and head: read it once, for both (the checks
  // read a changed package's other files on both sides, and the same text is parsed once)
  const changedPaths = new Set(files.flatMap((f) => (f.previousPath ? [f.path, f.previousPath] : [f.path])));
  const texts = new TextCache(TEXT_CACHE_CHARS);
  /** head files read and found to hold no suppression directive (the text cache may not keep them) */
  const withoutDirectives = new Set<string>();
  const readBlob = async (sha: string, clean: string): Promise<string | undefined> => {
    // by object id where the listing gave one: git finds `<commit>:<path>` by walking the path's trees,
    // which was 70 ms of git's time for a 3,000-file scan against 15 ms by id (the review waits for it)
    const blob = sha === headSha ? headBlobs.get(clean) : undefined;
    const result = await blobs.read(blob ?? `${sha}:${clean}`);
    if (result.kind === 'blob') return result.data.toString('utf8');
    if (result.kind === 'too-large' && !reported.has(clean)) {
      reported.add(clean);
      notes.push(`${clean}: ${result.size} bytes, over the ${limits.maxFileBytes}-byte read limit; not analysed`);
    }
    return undefined;
  };
  return {
    root,
    range: { base: baseName, head: headName },
    repo: await repoName(root),
    baseSha,
    headSha,
    headRef: await branchOf(root, headName),
    title: options.title ?? '',
    body: options.body ?? '',
    labels: options.labels ?? [],
    files,
    commits,
    notes,
    async read(path, rev) {
      const sha = shaOf(rev);
      const clean = path.replace(/^\.\//, '');
      if (!sha || clean === '' || clean.startsWith('/')) return undefined;
      const same = (rev === 'base' || rev === 'head') && !options.all && !changedPaths.has(clean);
      const at = same ? headSha : sha;
      return texts.get(`${at}:${clean}`, async () => {
        const text = await readBlob(at, clean);
        if (at === headSha && text !== undefined && !mayHoldDirective(text)) withoutDirectives.add(clean);
        return text;
      });
    },
    withoutDirectives: (path) => withoutDirectives.has(path.replace(/^\.\//, '')),
    async list(dir, rev) {
      const sha = shaOf(rev);
      if (!sha) return [];
      let tree = trees.get(sha);
      if (!tree) {
        tree = sha === baseSha && options.all ? Promise.resolve([]) : listTree(root, sha);
        trees.set(sha, tree);
      }
      const prefix = dir === '' || dir.endsWith('/') ? dir : `${dir}/`;
      // the checks list the same package directories again and again: each listing is made once
      const key = `${sha}\0${prefix}`;
      let listed = listings.get(key);
      if (!listed) {
        listed = underPrefix(await tree, prefix);
        if (listings.size < 10_000) listings.set(key, listed);
      }
      return [...listed];
    },
    close: () => blobs.close(),
  };
}

/** The top of the work tree that holds `dir`; a missing directory or a non-repository is the user's error. */
async function workTree(dir: string): Promise<string> {
  const full = resolvePath(dir);
  if (!existsSync(full) || !statSync(full).isDirectory()) throw new GitInputError(`--repo ${dir}: no such directory`);
  const result = await runGit(full, ['rev-parse', '--show-toplevel']);
  if (result.code !== 0) throw new GitInputError(`--repo ${dir}: not a git repository (or not inside its work tree)`);
  return result.stdout.trim();
}

async function resolveCommit(root: string, ref: string, flag: string): Promise<string> {
  if (ref === '' || ref.startsWith('-') || ref.includes('\0')) throw new GitInputError(`${flag} ${ref}: not a revision`);
  const result = await runGit(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  if (result.code !== 0) throw new GitInputError(`${flag} ${ref}: unknown revision in ${root}`);
  return result.stdout.trim();
}

/** The default branch the PR would merge into: origin/HEAD, else main, else master. */
async function defaultBaseName(root: string): Promise<string> {
  for (const candidate of ['origin/HEAD', 'main', 'master']) {
    const result = await runGit(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${candidate}^{commit}`]);
    if (result.code === 0) return candidate;
  }
  throw new GitInputError(`no --base given, and ${root} has no origin/HEAD, main or master to take the merge-base with`);
}

async function mergeBase(root: string, headSha: string, target: string, baseName: string): Promise<string> {
  const result = await runGit(root, ['merge-base', '--end-of-options', headSha, target]);
  if (result.code !== 0) {
    // in a shallow clone (actions/checkout's default depth 1) the common ancestor is simply not fetched
    const shallow = (await runGit(root, ['rev-parse', '--is-shallow-repository'])).stdout.trim() === 'true';
    throw new GitInputError(
      shallow
        ? `--head and ${baseName} have no common ancestor in the fetched history: ${root} is a shallow clone; fetch the history (actions/checkout with fetch-depth: 0, or git fetch --unshallow)`
        : `--head and ${baseName} have no common ancestor in ${root}`,
    );
  }
  return result.stdout.trim();
}

/** The branch name of a ref that is a branch (local or remote-tracking), for branch-prefix authorship. */
async function branchOf(root: string, ref: string): Promise<string | undefined> {
  // `ref` has passed resolveCommit (it does not start with '-'); this rev-parse mode echoes --end-of-options
  const result = await runGit(root, ['rev-parse', '--symbolic-full-name', ref]);
  const full = result.code === 0 ? result.stdout.trim() : '';
  if (full.startsWith('refs/heads/')) return full.slice('refs/heads/'.length);
  if (full.startsWith('refs/remotes/')) {
    const rest = full.slice('refs/remotes/'.length);
    const slash = rest.indexOf('/');
    return slash === -1 ? undefined : rest.slice(slash + 1);
  }
  return undefined;
}

/** `owner/name` from the origin URL when there is one, else the directory's name. */
async function repoName(root: string): Promise<string> {
  const result = await runGit(root, ['config', '--get', 'remote.origin.url']);
  const url = result.code === 0 ? result.stdout.trim().replace(/\/+$/, '').replace(/\.git$/, '') : '';
  const parts = url.split(/[/:]/).filter(Boolean);
  return parts.length >= 2 ? `${parts[parts.length - 2]}/${parts[parts.length - 1]}` : basename(root);
}

/** Every file path of a tree, sorted, so the paths under a directory are one run of it (`underPrefix`). */
async function listTree(root: string, sha: string): Promise<string[]> {
  const out = await git(root, ['ls-tree', '-r', '-z', '--full-tree', '--name-only', sha], 512 * 1024 * 1024);
  const paths = out.split('\0').filter(Boolean);
  // git lists a tree in this order already, but for names outside the Basic Multilingual Plane
  return paths.every((p, i) => i === 0 || paths[i - 1]! < p) ? paths : paths.sort();
}

/** The paths of a sorted list that start with `prefix`: found by bisection, not by testing every path
 * (a whole-tree scan lists 2,000 directories of a 12,000-file tree). */
export function underPrefix(sorted: readonly string[], prefix: string): string[] {
  const start = lowerBound(sorted, prefix);
  let end = start;
  while (end < sorted.length && sorted[end]!.startsWith(prefix)) end++;
  return sorted.slice(start, end);
}

/** Every tracked file at head, each as added in full (submodules are not files), and its object id. */
async function wholeTree(root: string, headSha: string): Promise<{ files: ChangedFile[]; blobs: Map<string, string> }> {
  const out = await git(root, ['ls-tree', '-r', '-z', '--full-tree', headSha], 512 * 1024 * 1024);
  const files: ChangedFile[] = [];
  const blobs = new Map<string, string>();
  for (const entry of out.split('\0')) {
    const tab = entry.indexOf('\t');
    if (tab === -1 || entry.startsWith(SUBMODULE)) continue;
    // the hunks are left empty: `wholeFile` makes every head line count as changed without reading the file now
    const path = entry.slice(tab + 1);
    files.push({ path, status: 'added', hunks: [], wholeFile: true });
    // `<mode> blob <id>\t<path>`
    const id = entry.slice(0, tab).split(' ')[2];
    if (id && /^[0-9a-f]{40,64}$/.test(id) && !UNREADABLE_NAME.test(path)) blobs.set(path, id);
  }
  return { files, blobs };
}

const STATUS: Record<string, FileStatus> = { A: 'added', C: 'added', D: 'removed', M: 'modified', T: 'modified', R: 'renamed' };

/** The range's files from `git diff --raw -z` (exact paths, renames), then their hunks from the patch. */
async function changedFiles(root: string, base: string, head: string, limits: GitLimits, notes: string[]): Promise<ChangedFile[]> {
  const common = ['--no-ext-diff', '--no-textconv', '--no-relative', '-M', base, head];
  const raw = await git(root, ['diff', '--raw', '-z', '--no-abbrev', ...common], 256 * 1024 * 1024);
  const tokens = raw.split('\0');
  const files: ChangedFile[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const meta = tokens[i]!;
    if (!meta.startsWith(':')) continue;
    const [srcMode, dstMode, , , status = 'M'] = meta.slice(1).split(' ');
    const letter = status[0]!;
    const twoPaths = letter === 'R' || letter === 'C';
    const from = tokens[++i] ?? '';
    const to = twoPaths ? (tokens[++i] ?? '') : from;
    if (srcMode === SUBMODULE || dstMode === SUBMODULE) continue;
    files.push({
      path: to,
      ...(twoPaths ? { previousPath: from } : {}),
      status: STATUS[letter] ?? 'modified',
      hunks: [],
    });
  }
  if (files.length) await readHunks(root, ['diff', '-p', '--unified=0', '--src-prefix=a/', '--dst-prefix=b/', ...common], files, limits, notes);
  return files;
}

/** git's C-style quoting of a path in a patch header (core.quotePath=false leaves non-ASCII alone). */
export function quotePath(path: string): string {
  if (!/["\\\x00-\x1f\x7f]/.test(path)) return path;
  const escapes: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\v': '\\v', '\f': '\\f', '\r': '\\r', '"': '\\"', '\\': '\\\\' };
  let out = '"';
  for (const ch of path) {
    const code = ch.charCodeAt(0);
    out += escapes[ch] ?? (code < 0x20 || code === 0x7f ? `\\${code.toString(8).padStart(3, '0')}` : ch);
  }
  return `${out}"`;
}

function patchHeader(file: ChangedFile): string {
  return `diff --git ${quotePath(`a/${file.previousPath ?? file.path}`)} ${quotePath(`b/${file.path}`)}`;
}

/**
 * Stream the patch and give each file its hunks. Patches are matched to files by their exact
 * `diff --git` header; a file whose patch is too large, cut off or not found counts as wholly changed.
 */
async function readHunks(root: string, args: string[], files: ChangedFile[], limits: GitLimits, notes: string[]): Promise<void> {
  const byHeader = new Map(files.map((f) => [patchHeader(f), f]));
  const seen = new Set<ChangedFile>();
  const proc = spawn('git', [...GIT_FLAGS, ...args], { cwd: root, env: gitEnv(), windowsHide: true });
  let total = 0;
  let truncated = false;
  proc.stdout.on('data', (chunk: Buffer) => {
    total += chunk.length;
    if (total > limits.maxPatchBytes && !truncated) {
      truncated = true;
      proc.kill();
    }
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', resolve);
  });
  let current: ChangedFile | undefined;
  let lines: string[] = [];
  let bytes = 0;
  const flush = () => {
    if (!current) return;
    if (bytes > limits.maxPatchBytesPerFile) {
      current.wholeFile = true;
      notes.push(`${current.path}: the diff is over ${limits.maxPatchBytesPerFile} bytes; the whole file counts as changed`);
    } else {
      current.hunks.push(...parsePatch(lines.join('\n')));
    }
    seen.add(current);
  };
  for await (const line of createInterface({ input: proc.stdout, crlfDelay: Infinity })) {
    if (line.startsWith('diff --git ')) {
      flush();
      current = byHeader.get(line);
      lines = [];
      bytes = 0;
      continue;
    }
    if (!current) continue;
    bytes += line.length + 1;
    if (bytes <= limits.maxPatchBytesPerFile) lines.push(line);
  }
  const code = await exited;
  if (!truncated) flush();
  if (!truncated && code !== 0) throw new Error(`git diff failed in ${root} (exit ${code})`);
  const unmatched = files.filter((f) => !seen.has(f) && f.status !== 'removed');
  if (truncated) notes.push(`the diff is over ${limits.maxPatchBytes} bytes; ${unmatched.length} files after the cut count as wholly changed`);
  for (const file of unmatched) {
    // a binary or mode-only change has a header but no hunks, so it was seen; these had no patch we could read
    file.wholeFile = true;
    if (!truncated) notes.push(`${file.path}: no patch could be matched to this file; the whole file counts as changed`);
  }
}

/** The range's commits, oldest first, at most `max` (the newest). */
async function commitsBetween(root: string, base: string, head: string, max: number, notes: string[]): Promise<Commit[]> {
  const format = '%H%x00%an%x00%ae%x00%cn%x00%ce%x00%B';
  const out = await git(
    root,
    ['log', '-z', '--reverse', '--topo-order', '--no-color', `--max-count=${max}`, `--format=${format}`, `${base}..${head}`],
    256 * 1024 * 1024,
  );
  const fields = out.split('\0');
  const commits: Commit[] = [];
  for (let i = 0; i + 5 < fields.length; i += 6) {
    const [sha, name, email, committerName, committerEmail, message] = fields.slice(i, i + 6) as [string, string, string, string, string, string];
    commits.push({
      sha: sha.trim(),
      message: message.replace(/\n+$/, ''),
      author: { name, email },
      committer: { name: committerName, email: committerEmail },
    });
  }
  if (commits.length >= max) notes.push(`the range has more than ${max} commits; only the newest ${max} were read`);
  return commits;
}
