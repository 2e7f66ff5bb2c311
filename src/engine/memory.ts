// A PullRequestSnapshot from file trees held in memory: for tests, the demo and the bundled examples.

import { diffLines } from './diff.js';
import type { ChangedFile, Commit, PullRequestSnapshot, Revision } from './types.js';

export type FileTree = Record<string, string>;

export interface MemoryPullRequest {
  repo?: string;
  number?: number;
  title?: string;
  body?: string;
  labels?: string[];
  headRef?: string;
  author?: { login: string; type?: string };
  base: FileTree;
  /** intermediate trees, one per commit before the last; the last commit's tree is `head` */
  steps?: FileTree[];
  head: FileTree;
  /** messages, one per commit (steps then head); default one commit "change" */
  commits?: (string | Partial<Commit>)[];
}

export function changesBetween(base: FileTree, head: FileTree): ChangedFile[] {
  const files: ChangedFile[] = [];
  for (const path of [...new Set([...Object.keys(base), ...Object.keys(head)])].sort()) {
    const before = base[path];
    const after = head[path];
    if (before === after) continue;
    if (after === undefined) {
      files.push({ path, status: 'removed', hunks: diffLines(before!, '') });
    } else if (before === undefined) {
      files.push({ path, status: 'added', hunks: diffLines('', after) });
    } else {
      files.push({ path, status: 'modified', hunks: diffLines(before, after) });
    }
  }
  return files;
}

export function memorySnapshot(pr: MemoryPullRequest): PullRequestSnapshot {
  const trees = [...(pr.steps ?? []), pr.head];
  const messages = pr.commits ?? ['change'];
  const commits: Commit[] = trees.map((_, i) => {
    const given = messages[Math.min(i, messages.length - 1)] ?? 'change';
    const partial = typeof given === 'string' ? { message: given } : given;
    return {
      sha: partial.sha ?? `c${String(i + 1).padStart(39, '0')}`,
      message: partial.message ?? 'change',
      author: partial.author ?? { name: 'Dev', email: 'dev@example.com' },
      ...(partial.committer ? { committer: partial.committer } : {}),
    };
  });
  const treeAt = (rev: Revision): FileTree | undefined => {
    if (rev === 'base') return pr.base;
    if (rev === 'head') return pr.head;
    const index = commits.findIndex((c) => c.sha === rev.commit);
    return index === -1 ? undefined : trees[index];
  };
  return {
    repo: pr.repo ?? 'example/operator',
    number: pr.number,
    baseSha: 'b'.repeat(40),
    headSha: commits[commits.length - 1]!.sha,
    headRef: pr.headRef,
    title: pr.title ?? '',
    body: pr.body ?? '',
    labels: pr.labels ?? [],
    author: pr.author,
    files: changesBetween(pr.base, pr.head),
    commits,
    notes: [],
    read: async (path, rev) => treeAt(rev)?.[path],
    list: async (dir, rev) => {
      const prefix = dir === '' || dir.endsWith('/') ? dir : `${dir}/`;
      return Object.keys(treeAt(rev) ?? {}).filter((p) => p.startsWith(prefix)).sort();
    },
  };
}

/** Title, body and commit messages from a `pr.md`: `# title`, body, then after `---` one `commit:` block each. */
export function parsePrMarkdown(text: string): { title: string; body: string; commits: string[] } {
  const split = text.indexOf('\n---\n');
  const head = split === -1 ? text : text.slice(0, split);
  const tail = split === -1 ? '' : text.slice(split + 5);
  const commits = tail
    .split(/^commit: ?/m)
    .map((c) => c.trim())
    .filter(Boolean);
  const { title, body } = splitTitle(head);
  return { title, body, commits };
}

/** A first line `# ...` is the title; the rest is the body. */
export function splitTitle(markdown: string): { title: string; body: string } {
  const text = markdown.replace(/^\s+/, '');
  if (text.startsWith('# ')) {
    const end = text.indexOf('\n');
    // the body keeps its leading blank lines: `pr-text` line n is then line n of the file (the title is line 1;
    // with no title the body is, see prText)
    return { title: text.slice(2, end === -1 ? undefined : end).trim(), body: end === -1 ? '' : text.slice(end + 1).trimEnd() };
  }
  // no title: the body is the whole file, leading blank lines kept, so line numbers are the file's
  return { title: '', body: markdown.trimEnd() };
}
