// A PullRequestSnapshot read from GitHub's REST API: the PR's files and commits up front, file
// contents and trees lazily (only what the enabled checks ask for), each fetched at most once.

import type { ProbotOctokit } from 'probot';
import { parsePatch } from '../engine/diff.js';
import type { ChangedFile, Commit, FileStatus, PullRequestSnapshot, Revision } from '../engine/types.js';

export type Octokit = InstanceType<typeof ProbotOctokit>;

/** GitHub lists at most 3,000 files of a PR. */
export const FILES_LIMIT = 3_000;
/** The pulls commits endpoint stops at 250; past that the compare API pages on, up to this bound. */
export const COMMITS_LIMIT = 1_000;
/** The contents API serves content up to 1 MB; larger files come back without it, which bounds each fetch. */
const CONTENTS_MAX_BYTES = 1_000_000;

/** What the snapshot is of: the PR's own fields as the snapshot carries them, and where it lives. */
export type PullRequestRef = Pick<PullRequestSnapshot, 'number' | 'baseSha' | 'headSha' | 'headRef' | 'title' | 'body' | 'labels' | 'author'> & {
  owner: string;
  repo: string;
  /** as GitHub counts them, to tell when a list came back short */
  changedFiles?: number;
  commitCount?: number;
};

interface GitHubFile {
  filename: string;
  previous_filename?: string;
  status: string;
  patch?: string;
}

interface GitHubCommit {
  sha: string;
  commit: { message: string; author: { name?: string; email?: string } | null; committer: { name?: string; email?: string } | null };
  author: { login: string } | null;
  committer: { login: string } | null;
}

function fileStatus(status: string): FileStatus {
  if (status === 'added' || status === 'copied') return 'added';
  if (status === 'removed' || status === 'renamed') return status;
  return 'modified';
}

export function changedFile(file: GitHubFile): ChangedFile {
  const change: ChangedFile = { path: file.filename, status: fileStatus(file.status), hunks: file.patch ? parsePatch(file.patch) : [] };
  if (file.previous_filename) change.previousPath = file.previous_filename;
  // no patch on a change with content: GitHub left it out (binary or too large), so every head line counts
  if (!file.patch && change.status !== 'removed' && file.status !== 'renamed') change.wholeFile = true;
  return change;
}

export function commitOf(c: GitHubCommit): Commit {
  const person = (who: { name?: string; email?: string } | null, user: { login: string } | null) => ({
    name: who?.name ?? '',
    email: who?.email ?? '',
    ...(user?.login ? { login: user.login } : {}),
  });
  return { sha: c.sha, message: c.commit.message, author: person(c.commit.author, c.author), committer: person(c.commit.committer, c.committer) };
}

async function pullFiles(octokit: Octokit, pr: PullRequestRef, notes: string[]): Promise<ChangedFile[]> {
  const files: GitHubFile[] = [];
  for await (const page of octokit.paginate.iterator('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', {
    owner: pr.owner, repo: pr.repo, pull_number: pr.number!, per_page: 100,
  })) {
    files.push(...(page.data as GitHubFile[]));
    if (files.length >= FILES_LIMIT) break;
  }
  if (files.length >= FILES_LIMIT || (pr.changedFiles !== undefined && pr.changedFiles > files.length)) {
    notes.push(`GitHub lists at most ${FILES_LIMIT} files of a PR; this PR changes ${pr.changedFiles ?? 'more'}, so files past the first ${files.length} were not analysed.`);
  }
  return files.slice(0, FILES_LIMIT).map(changedFile);
}

async function compareCommitsAndFiles(octokit: Octokit, pr: PullRequestRef, notes: string[], wantFiles: boolean) {
  const commits: GitHubCommit[] = [];
  const files: GitHubFile[] = [];
  for await (const page of octokit.paginate.iterator('GET /repos/{owner}/{repo}/compare/{basehead}', {
    owner: pr.owner, repo: pr.repo, basehead: `${pr.baseSha}...${pr.headSha}`, per_page: 100,
  })) {
    const data = page.data as unknown as { commits: GitHubCommit[]; files?: GitHubFile[] };
    commits.push(...data.commits);
    if (wantFiles && files.length < FILES_LIMIT) files.push(...(data.files ?? []));
    if (commits.length >= COMMITS_LIMIT && (!wantFiles || files.length >= FILES_LIMIT)) break;
  }
  if (commits.length > COMMITS_LIMIT) notes.push(`Only the first ${COMMITS_LIMIT} commits were read.`);
  if (wantFiles && files.length >= FILES_LIMIT) notes.push(`Only the first ${FILES_LIMIT} changed files were analysed.`);
  return { commits: commits.slice(0, COMMITS_LIMIT).map(commitOf), files: files.slice(0, FILES_LIMIT).map(changedFile) };
}

async function pullCommits(octokit: Octokit, pr: PullRequestRef, notes: string[]): Promise<Commit[]> {
  if ((pr.commitCount ?? 0) > 250) return (await compareCommitsAndFiles(octokit, pr, notes, false)).commits;
  const commits = (await octokit.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/commits', {
    owner: pr.owner, repo: pr.repo, pull_number: pr.number!, per_page: 100,
  })) as unknown as GitHubCommit[];
  return commits.map(commitOf);
}

/**
 * The snapshot of a PR (files from the pulls API) or of a comparison (a merge group's change
 * against the queue base: files and commits from the compare API, when `pr.number` is unset).
 */
export async function githubSnapshot(octokit: Octokit, pr: PullRequestRef, onCommits?: (commits: Commit[]) => void): Promise<PullRequestSnapshot> {
  const notes: string[] = [];
  let files: ChangedFile[];
  let commits: Commit[];
  if (pr.number === undefined) {
    ({ files, commits } = await compareCommitsAndFiles(octokit, pr, notes, true));
    onCommits?.(commits);
  } else {
    // commits first: if the files then fail, the commits still tell whether the PR is AI-authored
    commits = await pullCommits(octokit, pr, notes);
    onCommits?.(commits);
    files = await pullFiles(octokit, pr, notes);
  }
  const reader = new RepositoryReader(octokit, pr.owner, pr.repo, { base: pr.baseSha, head: pr.headSha }, notes);
  return {
    repo: `${pr.owner}/${pr.repo}`,
    ...(pr.number !== undefined ? { number: pr.number } : {}),
    baseSha: pr.baseSha,
    headSha: pr.headSha,
    ...(pr.headRef ? { headRef: pr.headRef } : {}),
    title: pr.title,
    body: pr.body,
    labels: pr.labels,
    ...(pr.author ? { author: pr.author } : {}),
    files,
    commits,
    notes,
    read: (path, rev) => reader.read(path, rev),
    list: (dir, rev) => reader.list(dir, rev),
  };
}

/** File texts and trees at the PR's revisions, cached so no file or tree is fetched twice. */
export class RepositoryReader {
  private readonly texts = new Map<string, Promise<string | undefined>>();
  private readonly trees = new Map<string, Promise<string[]>>();

  constructor(
    private readonly octokit: Octokit,
    private readonly owner: string,
    private readonly repo: string,
    private readonly revisions: { base: string; head: string },
    private readonly notes: string[],
  ) {}

  private sha(rev: Revision): string {
    return typeof rev === 'string' ? this.revisions[rev] : rev.commit;
  }

  read(path: string, rev: Revision): Promise<string | undefined> {
    const ref = this.sha(rev);
    const key = `${ref}\0${path}`;
    let text = this.texts.get(key);
    if (!text) {
      text = this.fetchText(path, ref);
      this.texts.set(key, text);
    }
    return text;
  }

  private async fetchText(path: string, ref: string): Promise<string | undefined> {
    try {
      const { data } = await this.octokit.request('GET /repos/{owner}/{repo}/contents/{path}', { owner: this.owner, repo: this.repo, path, ref });
      if (Array.isArray(data) || data.type !== 'file') return undefined;
      const file = data as { size: number; encoding?: string; content?: string };
      if (file.encoding !== 'base64' || file.size > CONTENTS_MAX_BYTES) {
        this.notes.push(`${path}: ${file.size} bytes at ${ref.slice(0, 7)}, too large to fetch; not analysed.`);
        return undefined;
      }
      return Buffer.from(file.content ?? '', 'base64').toString('utf8');
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    }
  }

  list(dir: string, rev: Revision): Promise<string[]> {
    const ref = this.sha(rev);
    let tree = this.trees.get(ref);
    if (!tree) {
      tree = this.fetchTree(ref);
      this.trees.set(ref, tree);
    }
    const prefix = dir === '' || dir.endsWith('/') ? dir : `${dir}/`;
    return tree.then((paths) => paths.filter((p) => p.startsWith(prefix)));
  }

  private async fetchTree(ref: string): Promise<string[]> {
    const { data } = await this.octokit.request('GET /repos/{owner}/{repo}/git/trees/{tree_sha}', {
      owner: this.owner, repo: this.repo, tree_sha: ref, recursive: 'true',
    });
    if (data.truncated) this.notes.push(`The file tree at ${ref.slice(0, 7)} is larger than GitHub returns in one listing; checks saw part of it.`);
    return data.tree.filter((e) => e.type === 'blob' && e.path).map((e) => e.path!).sort();
  }
}
