// A fake GitHub REST API on loopback for the app's tests: just enough in-memory GitHub (PRs,
// contents, check runs, review comments, permissions, rulesets) to serve the app, every request
// checked against GitHub's OpenAPI description and recorded, and faults to inject.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { diffLines } from '../../src/engine/diff.js';
import type { FileTree } from '../../src/engine/memory.js';
import { openApiValidator, type RouteMatch } from './github-openapi.js';

export interface RecordedRequest {
  method: string;
  /** the OpenAPI path template, e.g. /repos/{owner}/{repo}/check-runs */
  route: string;
  /** as requested, with /api/v3 when the client took the fake for GitHub Enterprise Server */
  path: string;
  query: URLSearchParams;
  body: any;
}

export interface FakeCommit {
  sha: string;
  message: string;
  author?: { name: string; email: string; login?: string };
  parents?: string[];
}

export interface FakePull {
  number: number;
  title: string;
  body: string;
  labels: string[];
  user: { login: string; type: string };
  headRef: string;
  base: { sha: string; tree: FileTree };
  head: { sha: string; tree: FileTree };
  commits: FakeCommit[];
  state: 'open' | 'closed';
  /** files the API leaves without a patch (too large, binary) */
  noPatch?: string[];
}

export interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  status: string;
  started_at?: string;
  conclusion: string | null;
  app: { id: number; slug: string };
  output: { title: string | null; summary: string | null; text: string | null; annotations_count: number };
  annotations: any[];
  actions: any[];
  external_id?: string;
}

export interface FakeComment {
  id: number;
  body: string;
  path?: string;
  line?: number;
  user: { login: string; type: string };
  in_reply_to_id?: number;
  pull_number: number;
}

export interface Fault {
  method: string;
  route: string;
  status: number;
  headers?: Record<string, string>;
  message?: string;
  times: number;
}

export interface FakeRepoState {
  owner: string;
  name: string;
  defaultBranch: string;
  /** the config file on the default branch, raw YAML */
  config?: string;
  pulls: FakePull[];
  /** login -> permission; role_name mirrors it ('maintain' reports permission 'write') */
  permissions: Record<string, 'admin' | 'maintain' | 'write' | 'triage' | 'read'>;
  checkRuns: FakeCheckRun[];
  reviewComments: FakeComment[];
  issueComments: FakeComment[];
  reviews: { id: number; commit_id: string; body: string; comments: any[] }[];
  rulesets: any[];
  /** 404 from the rulesets API, as on older GHES or plans without rulesets */
  noRulesets?: boolean;
  branchProtection: Record<string, any>;
  /** commits outside any PR (merge group heads), by sha */
  commits: Record<string, { tree: FileTree; parents: string[]; message: string }>;
  /** workflow run id -> its artifacts (zip bytes) */
  artifacts: Record<number, { id: number; name: string; zip: Buffer; expired?: boolean }[]>;
}

export const APP_ID = 4242;
export const APP_SLUG = 'causal-review';
export const BOT_LOGIN = `${APP_SLUG}[bot]`;
export const INSTALLATION_ID = 77;
/** the app a workflow's GITHUB_TOKEN acts as */
export const ACTIONS_APP = { id: 15368, slug: 'github-actions' };

/** Who a request acts as: our app's installation token, or a workflow's token (the GitHub Actions app). */
function actor(req: IncomingMessage): { login: string; type: string } {
  return { login: (req.headers.authorization ?? '').includes('ghs_test_') ? BOT_LOGIN : `${ACTIONS_APP.slug}[bot]`, type: 'Bot' };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(status === 204 ? undefined : JSON.stringify(body));
}

/** A unified-diff patch from two texts, as GitHub's `patch` field carries it (no context lines). */
export function patchOf(before: string, after: string): string {
  const lines = (text: string) => (text === '' ? [] : text.split('\n'));
  const a = lines(before);
  const b = lines(after);
  return diffLines(before, after)
    .map((h) => {
      const removed = h.removed.map((n) => `-${a[n - 1]}`);
      const added = h.added.map((n) => `+${b[n - 1]}`);
      return [`@@ -${h.baseStart},${h.baseLines} +${h.headStart},${h.headLines} @@`, ...removed, ...added].join('\n');
    })
    .join('\n');
}

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  /** requests that did not fit GitHub's OpenAPI description: a test fails when any is here */
  readonly violations: string[] = [];
  readonly repos = new Map<string, FakeRepoState>();
  readonly installations = [{ id: INSTALLATION_ID, account: { login: 'Codertocat' } }];
  private readonly faults: Fault[] = [];
  private readonly holds = new Map<string, Promise<void>>();
  private nextId = 1000;
  private server?: Server;
  url = '';

  repo(owner: string, name: string, init: Partial<FakeRepoState> = {}): FakeRepoState {
    const key = `${owner}/${name}`;
    let state = this.repos.get(key);
    if (!state) {
      state = {
        owner, name, defaultBranch: 'main', pulls: [], permissions: {}, checkRuns: [], reviewComments: [], issueComments: [],
        reviews: [], rulesets: [], branchProtection: {}, commits: {}, artifacts: {}, ...init,
      };
      this.repos.set(key, state);
    }
    return state;
  }

  /** Make the next `times` requests to a route fail with this status (and headers, message). */
  fail(fault: Omit<Fault, 'times'> & { times?: number }): void {
    this.faults.push({ times: 1, ...fault });
  }

  /** Hold requests to a route until the returned function is called: to observe what happens meanwhile. */
  hold(method: string, route: string): () => void {
    let release!: () => void;
    this.holds.set(`${method} ${route}`, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      this.holds.delete(`${method} ${route}`);
      release();
    };
  }

  id(): number {
    return this.nextId++;
  }

  /** "METHOD /template" of every request, sorted: for asserting that nothing unexpected happened. */
  routes(): string[] {
    return this.requests.map((r) => `${r.method} ${r.route}`).sort();
  }

  count(method: string, route: string): number {
    return this.requests.filter((r) => r.method === method && r.route === route).length;
  }

  reset(): void {
    this.requests.length = 0;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', this.url);
    const requestedPath = url.pathname;
    // GitHub Enterprise Server serves the same API under /api/v3
    if (url.pathname.startsWith('/api/v3/')) url.pathname = url.pathname.slice('/api/v3'.length);
    const method = req.method ?? 'GET';
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      this.violations.push(`${method} ${url.pathname}: body is not JSON`);
    }
    if (url.pathname.startsWith('/_blob/')) {
      // the storage host an artifact download redirects to: not part of the API
      this.requests.push({ method, route: '/_blob', path: url.pathname, query: url.searchParams, body });
      const id = Number(url.pathname.slice('/_blob/'.length));
      const zip = [...this.repos.values()].flatMap((r) => Object.values(r.artifacts).flat()).find((a) => a.id === id)?.zip;
      res.writeHead(zip ? 200 : 404, { 'content-type': 'application/zip' });
      res.end(zip);
      return;
    }
    const isGraphql = url.pathname === '/graphql';
    const { match, problems } = isGraphql ? { match: undefined, problems: ['unexpected GraphQL request'] } : openApiValidator().check(method, url.pathname, url.searchParams, body);
    this.requests.push({ method, route: match?.template ?? url.pathname, path: requestedPath, query: url.searchParams, body });
    if (problems.length > 0 || !match) {
      this.violations.push(...problems.map((p) => `${method} ${url.pathname}: ${p}`));
      json(res, 422, { message: problems.join('; ') });
      return;
    }
    await this.holds.get(`${method} ${match.template}`);
    const fault = this.faults.find((f) => f.method === method && f.route === match.template && f.times > 0);
    if (fault) {
      fault.times--;
      json(res, fault.status, { message: fault.message ?? 'fault injected' }, fault.headers);
      return;
    }
    try {
      this.route(method, match, url, body as any, req, res);
    } catch (error) {
      json(res, 500, { message: String(error) });
    }
  }

  private page<T>(res: ServerResponse, url: URL, items: T[], wrap?: (items: T[]) => unknown): void {
    const perPage = Number(url.searchParams.get('per_page') ?? 30);
    const page = Number(url.searchParams.get('page') ?? 1);
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const headers: Record<string, string> = {};
    if (page * perPage < items.length) {
      const next = new URL(url);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${next.toString()}>; rel="next"`;
    }
    json(res, 200, wrap ? wrap(slice) : slice, headers);
  }

  private pullJson(repo: FakeRepoState, pull: FakePull) {
    return {
      number: pull.number, title: pull.title, body: pull.body, state: pull.state, draft: false,
      labels: pull.labels.map((name) => ({ name })), user: pull.user,
      head: { sha: pull.head.sha, ref: pull.headRef }, base: { sha: pull.base.sha, ref: repo.defaultBranch },
      commits: pull.commits.length, changed_files: this.filesOf(pull).length,
    };
  }

  filesOf(pull: { base: { tree: FileTree }; head: { tree: FileTree }; noPatch?: string[] }) {
    const paths = [...new Set([...Object.keys(pull.base.tree), ...Object.keys(pull.head.tree)])].sort();
    return paths
      .filter((p) => pull.base.tree[p] !== pull.head.tree[p])
      .map((filename) => {
        const before = pull.base.tree[filename];
        const after = pull.head.tree[filename];
        const status = before === undefined ? 'added' : after === undefined ? 'removed' : 'modified';
        const patch = pull.noPatch?.includes(filename) ? undefined : patchOf(before ?? '', after ?? '');
        return { sha: 'f'.repeat(40), filename, status, additions: 0, deletions: 0, changes: 0, ...(patch !== undefined ? { patch } : {}) };
      });
  }

  private commitJson(c: FakeCommit) {
    const author = c.author ?? { name: 'Dev', email: 'dev@example.com' };
    return {
      sha: c.sha,
      commit: { message: c.message, author: { name: author.name, email: author.email }, committer: { name: author.name, email: author.email } },
      author: author.login ? { login: author.login } : null,
      committer: null,
      parents: (c.parents ?? []).map((sha) => ({ sha })),
    };
  }

  /** The tree at a sha: a PR's base or head, one of its commits (taken as its head), or a loose commit. */
  private treeAt(repo: FakeRepoState, sha: string): FileTree | undefined {
    for (const pull of repo.pulls) {
      if (pull.head.sha === sha) return pull.head.tree;
      if (pull.base.sha === sha) return pull.base.tree;
    }
    return repo.commits[sha]?.tree;
  }

  private route(method: string, match: RouteMatch, url: URL, body: any, req: IncomingMessage, res: ServerResponse): void {
    const p = match.params;
    const key = `${method} ${match.template}`;
    if (key === 'POST /app/installations/{installation_id}/access_tokens') {
      json(res, 201, { token: `ghs_test_${p.installation_id}`, expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {}, repository_selection: 'all' });
      return;
    }
    if (key === 'GET /app/installations') return this.page(res, url, this.installations);
    if (key === 'GET /installation/repositories') {
      const repositories = [...this.repos.values()].map((r) => ({ name: r.name, full_name: `${r.owner}/${r.name}`, owner: { login: r.owner } }));
      return this.page(res, url, repositories, (items) => ({ total_count: repositories.length, repositories: items }));
    }
    const repo = p.owner && p.repo ? this.repos.get(`${p.owner}/${p.repo}`) : undefined;
    if (!repo) {
      json(res, 404, { message: 'Not Found' });
      return;
    }
    const pull = p.pull_number ? repo.pulls.find((x) => x.number === Number(p.pull_number)) : undefined;
    switch (key) {
      case 'GET /repos/{owner}/{repo}/pulls':
        return this.page(res, url, repo.pulls.filter((x) => x.state === 'open').map((x) => this.pullJson(repo, x)));
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}':
        return pull ? json(res, 200, this.pullJson(repo, pull)) : json(res, 404, { message: 'Not Found' });
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files':
        return this.page(res, url, pull ? this.filesOf(pull) : []);
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/commits':
        return this.page(res, url, (pull?.commits ?? []).map((c) => this.commitJson(c)));
      case 'GET /repos/{owner}/{repo}/compare/{basehead}': {
        const [base, head] = p.basehead!.split('...');
        const baseTree = this.treeAt(repo, base!) ?? {};
        const headTree = this.treeAt(repo, head!) ?? {};
        const loose = repo.commits[head!];
        const fromPull = repo.pulls.find((x) => x.head.sha === head)?.commits;
        const commits = fromPull ?? (loose ? [{ sha: head!, message: loose.message, parents: loose.parents }] : []);
        return this.page(res, url, commits.map((c) => this.commitJson(c)), (items) => ({
          url: `https://api.github.com/repos/${repo.owner}/${repo.name}/compare/${p.basehead}`, status: 'ahead', ahead_by: commits.length, behind_by: 0, total_commits: commits.length,
          commits: items, files: this.filesOf({ base: { tree: baseTree }, head: { tree: headTree } }),
        }));
      }
      case 'GET /repos/{owner}/{repo}/contents/{path}': {
        const raw = (req.headers.accept ?? '').includes('raw');
        const ref = url.searchParams.get('ref');
        const text = ref ? this.treeAt(repo, ref)?.[p.path!] : p.path === '.github/causal-review.yml' ? repo.config : undefined;
        if (text === undefined) return json(res, 404, { message: 'Not Found' });
        if (raw) {
          res.writeHead(200, { 'content-type': 'application/vnd.github.raw; charset=utf-8' });
          res.end(text);
          return;
        }
        return json(res, 200, { type: 'file', path: p.path, name: p.path!.split('/').pop(), size: Buffer.byteLength(text), encoding: 'base64', content: Buffer.from(text).toString('base64'), sha: 'e'.repeat(40) });
      }
      case 'GET /repos/{owner}/{repo}/git/trees/{tree_sha}': {
        const tree = this.treeAt(repo, p.tree_sha!) ?? {};
        return json(res, 200, { sha: p.tree_sha, truncated: false, tree: Object.keys(tree).sort().map((path) => ({ path, type: 'blob', mode: '100644', sha: 'e'.repeat(40) })) });
      }
      case 'GET /repos/{owner}/{repo}/commits/{ref}': {
        const loose = repo.commits[p.ref!];
        return loose ? json(res, 200, this.commitJson({ sha: p.ref!, message: loose.message, parents: loose.parents })) : json(res, 404, { message: 'Not Found' });
      }
      case 'GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls':
        return json(res, 200, repo.pulls.filter((x) => x.head.sha === p.commit_sha).map((x) => ({ ...this.pullJson(repo, x), state: x.state })));
      case 'GET /repos/{owner}/{repo}/commits/{ref}/check-runs': {
        const name = url.searchParams.get('check_name');
        const appId = url.searchParams.get('app_id');
        const runs = repo.checkRuns.filter((r) => r.head_sha === p.ref && (!name || r.name === name) && (!appId || r.app.id === Number(appId)));
        return this.page(res, url, runs, (items) => ({ total_count: runs.length, check_runs: items.map((r) => this.runJson(r)) }));
      }
      case 'POST /repos/{owner}/{repo}/check-runs': {
        const run: FakeCheckRun = {
          id: this.id(), name: body.name, head_sha: body.head_sha, status: body.status ?? 'queued', conclusion: body.conclusion ?? null, started_at: body.started_at,
          app: actor(req).login === BOT_LOGIN ? { id: APP_ID, slug: APP_SLUG } : ACTIONS_APP, output: { title: null, summary: null, text: null, annotations_count: 0 }, annotations: [], actions: body.actions ?? [],
        };
        this.applyOutput(run, body.output);
        repo.checkRuns.push(run);
        return json(res, 201, this.runJson(run));
      }
      case 'PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}': {
        const run = repo.checkRuns.find((r) => r.id === Number(p.check_run_id));
        if (!run) return json(res, 404, { message: 'Not Found' });
        if (body.status) run.status = body.status;
        if (body.started_at) run.started_at = body.started_at;
        if (body.conclusion) {
          run.conclusion = body.conclusion;
          run.status = 'completed';
        }
        if (body.status === 'in_progress') {
          run.conclusion = null;
          run.annotations = [];
          run.output.annotations_count = 0;
        }
        if (body.actions) run.actions = body.actions;
        this.applyOutput(run, body.output);
        return json(res, 200, this.runJson(run));
      }
      case 'GET /repos/{owner}/{repo}/collaborators/{username}/permission': {
        const role = repo.permissions[p.username!];
        if (!role) return json(res, 404, { message: 'Not Found' });
        const permission = role === 'maintain' ? 'write' : role === 'triage' ? 'read' : role;
        return json(res, 200, { permission, role_name: role, user: { login: p.username } });
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const comment: FakeComment = { id: this.id(), body: body.body, user: actor(req), pull_number: Number(p.issue_number) };
        repo.issueComments.push(comment);
        return json(res, 201, comment);
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/comments':
        return this.page(res, url, repo.reviewComments.filter((c) => c.pull_number === Number(p.pull_number)));
      case 'POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews': {
        const review = { id: this.id(), commit_id: body.commit_id, body: body.body, comments: body.comments ?? [] };
        repo.reviews.push(review);
        for (const c of review.comments) {
          repo.reviewComments.push({ id: this.id(), body: c.body, path: c.path, line: c.line, user: actor(req), pull_number: Number(p.pull_number) });
        }
        return json(res, 200, { id: review.id, state: 'COMMENTED', body: review.body });
      }
      case 'PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}': {
        const comment = repo.reviewComments.find((c) => c.id === Number(p.comment_id));
        if (!comment) return json(res, 404, { message: 'Not Found' });
        comment.body = body.body;
        return json(res, 200, comment);
      }
      case 'GET /repos/{owner}/{repo}/rulesets':
        return repo.noRulesets ? json(res, 404, { message: 'Not Found' }) : json(res, 200, repo.rulesets.map(({ rules: _, ...r }) => r));
      case 'GET /repos/{owner}/{repo}/rulesets/{ruleset_id}': {
        const found = repo.rulesets.find((r) => r.id === Number(p.ruleset_id));
        return found ? json(res, 200, found) : json(res, 404, { message: 'Not Found' });
      }
      case 'POST /repos/{owner}/{repo}/rulesets': {
        if (repo.noRulesets) return json(res, 404, { message: 'Not Found' });
        const ruleset = { id: this.id(), ...body, source_type: 'Repository', source: `${repo.owner}/${repo.name}` };
        repo.rulesets.push(ruleset);
        return json(res, 201, ruleset);
      }
      case 'PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}': {
        const index = repo.rulesets.findIndex((r) => r.id === Number(p.ruleset_id));
        if (index === -1) return json(res, 404, { message: 'Not Found' });
        repo.rulesets[index] = { ...repo.rulesets[index], ...body };
        return json(res, 200, repo.rulesets[index]);
      }
      case 'GET /repos/{owner}/{repo}/branches/{branch}/protection': {
        const protection = repo.branchProtection[p.branch!];
        return protection ? json(res, 200, protection) : json(res, 404, { message: 'Branch not protected' });
      }
      case 'PUT /repos/{owner}/{repo}/branches/{branch}/protection':
        repo.branchProtection[p.branch!] = body;
        return json(res, 200, body);
      case 'GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks': {
        const checks = repo.branchProtection[p.branch!]?.required_status_checks;
        return checks ? json(res, 200, checks) : json(res, 404, { message: 'Required status checks not enabled' });
      }
      case 'PATCH /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks': {
        const protection = repo.branchProtection[p.branch!];
        if (!protection?.required_status_checks) return json(res, 404, { message: 'Required status checks not enabled' });
        protection.required_status_checks = { ...protection.required_status_checks, ...body };
        return json(res, 200, protection.required_status_checks);
      }
      case 'GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts': {
        const name = url.searchParams.get('name');
        const artifacts = (repo.artifacts[Number(p.run_id)] ?? []).filter((a) => !name || a.name === name);
        return json(res, 200, { total_count: artifacts.length, artifacts: artifacts.map((a) => ({ id: a.id, name: a.name, size_in_bytes: a.zip.length, expired: a.expired ?? false })) });
      }
      case 'GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}':
        res.writeHead(302, { location: `${this.url}/_blob/${p.artifact_id}` });
        res.end();
        return;
      case 'GET /repos/{owner}/{repo}':
        return json(res, 200, { name: repo.name, full_name: `${repo.owner}/${repo.name}`, default_branch: repo.defaultBranch, owner: { login: repo.owner } });
      default:
        this.violations.push(`the fake has no handler for ${key}`);
        return json(res, 501, { message: `not in the fake: ${key}` });
    }
  }

  private applyOutput(run: FakeCheckRun, output: any): void {
    if (!output) return;
    run.output.title = output.title ?? run.output.title;
    run.output.summary = output.summary ?? run.output.summary;
    run.output.text = output.text ?? run.output.text;
    if (output.annotations) {
      // GitHub's own limit, enforced here so a test sees the app keep to it
      if (output.annotations.length > 50) this.violations.push('more than 50 annotations in one request');
      run.annotations.push(...output.annotations);
      run.output.annotations_count = run.annotations.length;
    }
    for (const field of ['summary', 'text'] as const) {
      if ((run.output[field]?.length ?? 0) > 65_535) this.violations.push(`output.${field} longer than 65535 characters`);
    }
  }

  private runJson(run: FakeCheckRun) {
    return { id: run.id, name: run.name, head_sha: run.head_sha, status: run.status, started_at: run.started_at ?? null, conclusion: run.conclusion, app: run.app, output: run.output, external_id: run.external_id ?? null };
  }
}
