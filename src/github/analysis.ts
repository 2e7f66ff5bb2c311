// One analysis job: a `causal-review` check run in progress on the head SHA, the snapshot, the
// engine, the verdict written back (annotations in batches of 50) and the review comments.
// Every run it starts reaches a terminal state, whatever fails on the way.

import { configFromObject, DEFAULT_CONFIG, type Config } from '../config/schema.js';
import { detectAuthorship } from '../engine/authorship.js';
import { conclude, review } from '../engine/engine.js';
import type { Check, Commit, Conclusion, PullRequestSnapshot, Verdict } from '../engine/types.js';
import {
  ANNOTATIONS_PER_REQUEST,
  CHECK_NAME,
  decodeAcceptances,
  renderCheckRun,
  renderError,
  type AcceptanceRecord,
  type Annotation,
} from '../report/checkrun.js';
import { planReview, type PostedComment } from '../report/review.js';
import { githubSnapshot, type Octokit, type PullRequestRef } from './snapshot.js';

export const CONFIG_PATH = '.github/causal-review.yml';
const ACCEPTANCE_LOOKBACK = 10;
const MAX_POSTED_COMMENTS = 1_000;

/** What to analyse: a PR's head, or a merge group's head against the queue base. */
export interface AnalysisTarget {
  owner: string;
  repo: string;
  headSha: string;
  pullNumber?: number;
  /** set for a merge group: its base, and the PR it carries when the ref names one */
  mergeGroup?: { baseSha: string; headRef: string };
  /** earlier heads of the PR whose runs may hold acceptances (a synchronize's `before`) */
  previousHeads: string[];
  /** acceptances given since the last run, by a comment or a button */
  newAcceptances: AcceptanceRecord[];
}

export interface AnalysisDeps {
  checks: readonly Check[];
  /** whose `causal-review` runs are ours: the app's id, or in an Action the slug of the workflow token's app */
  app: AppIdentity;
  /** read and carry acceptances (off in an Action: no one can give them there, and any workflow could write a run) */
  readAcceptances?: boolean;
  now: () => Date;
  log: { info(o: object, msg?: string): void; warn(o: object, msg?: string): void; error(o: object, msg?: string): void };
  /** leave review comments (off in Action mode when the token cannot) */
  reviewComments?: boolean;
}

export interface CheckRun {
  id: number;
  head_sha: string;
  status: string;
  started_at?: string | null;
  app?: { id: number; slug?: string } | null;
  output: { text?: string | null };
}

export const BUTTONS = {
  rerun: { label: 'Re-run', description: 'Run causal-review again on this commit', identifier: 'rerun' },
  acceptDiagnosis: { label: 'Accept diagnosis', description: 'Accept the unverified diagnoses (write)', identifier: 'accept-diagnosis' },
} as const;

export type AppIdentity = { id: number } | { slug: string };

export function isOurApp(app: { id?: number; slug?: string } | null | undefined, ours: AppIdentity): boolean {
  return 'id' in ours ? app?.id === ours.id : app?.slug === ours.slug;
}

/** Our app's runs of one check (`causal-review` unless named) on a commit, newest first. */
export async function ourRuns(octokit: Octokit, owner: string, repo: string, sha: string, app: AppIdentity, name = CHECK_NAME): Promise<CheckRun[]> {
  const { data } = await octokit.request('GET /repos/{owner}/{repo}/commits/{ref}/check-runs', {
    owner, repo, ref: sha, check_name: name, filter: 'all', per_page: 20, ...('id' in app ? { app_id: app.id } : {}),
  });
  return (data.check_runs as unknown as CheckRun[]).filter((r) => isOurApp(r.app, app)).sort((a, b) => b.id - a.id);
}

/** Redelivery and re-runs update the run already on the SHA instead of making a second. */
async function startRun(octokit: Octokit, target: AnalysisTarget, deps: AnalysisDeps): Promise<{ run: CheckRun; previous?: CheckRun }> {
  const { owner, repo, headSha } = target;
  const [existing] = await ourRuns(octokit, owner, repo, headSha, deps.app);
  const started_at = deps.now().toISOString();
  if (existing) {
    const { data } = await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      owner, repo, check_run_id: existing.id, status: 'in_progress', started_at,
    });
    return { run: data as unknown as CheckRun, previous: existing };
  }
  const { data } = await octokit.request('POST /repos/{owner}/{repo}/check-runs', {
    owner, repo, name: CHECK_NAME, head_sha: headSha, status: 'in_progress', started_at,
  });
  return { run: data as unknown as CheckRun };
}

async function loadConfig(octokit: Octokit, owner: string, repo: string, checks: readonly Check[]): Promise<Config> {
  // the config plugin reads the default branch (and the owner's .github repo): a PR cannot switch off its own gate
  const { config } = await octokit.config.get({ owner, repo, path: CONFIG_PATH });
  return configFromObject(config, CONFIG_PATH, checks);
}

export class ConfigLoadError extends Error {}

/** Acceptances on record: the newest marker among our runs on this head and the PR's earlier heads. */
async function recordedAcceptances(octokit: Octokit, target: AnalysisTarget, shas: string[], deps: AnalysisDeps, current?: CheckRun): Promise<AcceptanceRecord[]> {
  if (current?.output.text) {
    const found = decodeAcceptances(current.output.text);
    if (found.length > 0) return found;
  }
  const seen = new Set([target.headSha]);
  for (const sha of shas) {
    if (seen.has(sha) || seen.size > ACCEPTANCE_LOOKBACK) continue;
    seen.add(sha);
    for (const run of await ourRuns(octokit, target.owner, target.repo, sha, deps.app)) {
      const found = decodeAcceptances(run.output.text);
      if (found.length > 0) return found;
    }
  }
  return [];
}

function mergeAcceptances(recorded: AcceptanceRecord[], added: AcceptanceRecord[]): AcceptanceRecord[] {
  const byTarget = new Map(recorded.map((r) => [r.fingerprint, r]));
  for (const a of added) byTarget.set(a.fingerprint, a);
  return [...byTarget.values()];
}

interface PullRequestData {
  number: number;
  title: string;
  body: string | null;
  draft?: boolean;
  changed_files?: number;
  commits?: number;
  labels: { name?: string }[];
  user: { login: string; type?: string } | null;
  head: { sha: string; ref: string };
  base: { sha: string };
}

function refOf(owner: string, repo: string, pr: PullRequestData | undefined, headSha: string, baseSha: string): PullRequestRef {
  return {
    owner, repo, headSha, baseSha,
    title: pr?.title ?? '',
    body: pr?.body ?? '',
    labels: (pr?.labels ?? []).map((l) => l.name ?? '').filter(Boolean),
    ...(pr?.user ? { author: { login: pr.user.login, ...(pr.user.type ? { type: pr.user.type } : {}) } } : {}),
    ...(pr?.head.ref ? { headRef: pr.head.ref } : {}),
  };
}

/** The PR number a merge queue branch carries: `gh-readonly-queue/main/pr-123-<sha>`. */
export function pullNumberOfQueueRef(ref: string): number | undefined {
  const at = ref.lastIndexOf('/pr-');
  if (at === -1) return undefined;
  const digits = ref.slice(at + 4, at + 4 + 12).split('-')[0]!;
  return /^[0-9]+$/.test(digits) ? Number(digits) : undefined;
}

async function writeVerdict(octokit: Octokit, target: AnalysisTarget, runId: number, verdict: Verdict, acceptances: AcceptanceRecord[], deps: AnalysisDeps) {
  const output = renderCheckRun(verdict, { acceptances });
  const actions: { label: string; description: string; identifier: string }[] = [BUTTONS.rerun];
  if (verdict.blocking.some((f) => f.checkId === 'unverified-diagnosis')) actions.push(BUTTONS.acceptDiagnosis);
  await completeInBatches(octokit, target, runId, output, verdict.conclusion, actions, deps);
}

/** GitHub takes 50 annotations per request: earlier batches update the run, the last one completes it. */
export async function completeInBatches(
  octokit: Octokit,
  target: { owner: string; repo: string },
  runId: number,
  output: { title: string; summary: string; text: string; annotations: Annotation[] },
  conclusion: string,
  actions: { label: string; description: string; identifier: string }[],
  deps: Pick<AnalysisDeps, 'now'>,
): Promise<void> {
  const batches: Annotation[][] = [];
  for (let i = 0; i < output.annotations.length; i += ANNOTATIONS_PER_REQUEST) batches.push(output.annotations.slice(i, i + ANNOTATIONS_PER_REQUEST));
  if (batches.length === 0) batches.push([]);
  const { title, summary, text } = output;
  for (const [i, annotations] of batches.entries()) {
    const last = i === batches.length - 1;
    await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
      owner: target.owner, repo: target.repo, check_run_id: runId,
      output: { title, summary, text, ...(annotations.length ? { annotations } : {}) },
      ...(last ? { status: 'completed' as const, conclusion: conclusion as 'success', completed_at: deps.now().toISOString(), actions } : {}),
    });
  }
}

async function postReviewComments(octokit: Octokit, target: AnalysisTarget, verdict: Verdict, files: Parameters<typeof planReview>[1], botLogin: string) {
  const { owner, repo, headSha } = target;
  const pull_number = target.pullNumber!;
  const all: { id: number; body: string; in_reply_to_id?: number; user: { login: string } | null }[] = [];
  for await (const page of octokit.paginate.iterator('GET /repos/{owner}/{repo}/pulls/{pull_number}/comments', { owner, repo, pull_number, per_page: 100 })) {
    all.push(...(page.data as typeof all));
    if (all.length >= MAX_POSTED_COMMENTS) break;
  }
  const repliedTo = new Set(all.map((c) => c.in_reply_to_id).filter((id): id is number => id !== undefined));
  const ours: PostedComment[] = all.filter((c) => c.user?.login === botLogin).map((c) => ({ id: c.id, body: c.body, replied: repliedTo.has(c.id) }));
  const plan = planReview(verdict, files, ours, headSha);
  if (plan.comments.length > 0) {
    await octokit.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews', {
      owner, repo, pull_number, commit_id: headSha, event: 'COMMENT',
      body: `causal-review found ${plan.comments.length} thing${plan.comments.length === 1 ? '' : 's'} to look at on lines this PR changes; the check run has the full list.`,
      comments: plan.comments.map(({ fingerprint: _, ...comment }) => comment),
    });
  }
  for (const resolved of plan.resolve) {
    await octokit.request('PATCH /repos/{owner}/{repo}/pulls/comments/{comment_id}', { owner, repo, comment_id: resolved.id, body: resolved.body });
  }
}

/** What an analysis learnt, step by step: an error part-way still leaves what came before. */
export interface Progress {
  ref?: PullRequestRef;
  commits?: Commit[];
  config?: Config;
  acceptances: AcceptanceRecord[];
}

export type Analysis =
  | { kind: 'verdict'; verdict: Verdict; snapshot: PullRequestSnapshot; acceptances: AcceptanceRecord[] }
  | { kind: 'superseded'; by: string };

/** Snapshot, configuration, acceptances on record and the engine: everything but the reporting. */
export async function analyse(octokit: Octokit, target: AnalysisTarget, deps: AnalysisDeps, progress: Progress, previous?: CheckRun): Promise<Analysis> {
  const { owner, repo, headSha } = target;
  const number = target.pullNumber ?? (target.mergeGroup ? pullNumberOfQueueRef(target.mergeGroup.headRef) : undefined);
  const pr = number === undefined
    ? undefined
    : ((await octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner, repo, pull_number: number })).data as unknown as PullRequestData);
  if (target.pullNumber !== undefined && pr && pr.head.sha !== headSha) return { kind: 'superseded', by: pr.head.sha };
  let ref = refOf(owner, repo, pr, headSha, target.mergeGroup?.baseSha ?? pr?.base.sha ?? '');
  if (target.pullNumber !== undefined && pr) ref = { ...ref, number: pr.number, changedFiles: pr.changed_files, commitCount: pr.commits };
  progress.ref = ref;
  // the snapshot first: when the config is broken, its commits still tell whether the PR is AI-authored
  const snapshot = await githubSnapshot(octokit, ref, (read) => (progress.commits = read));
  try {
    progress.config = await loadConfig(octokit, owner, repo, deps.checks);
  } catch (error) {
    throw new ConfigLoadError(error instanceof Error ? error.message : String(error));
  }
  if (deps.readAcceptances !== false) {
    // a merge group's acceptances were given on its PR: that head's run holds them
    const earlierHeads = [...target.previousHeads, ...(pr ? [pr.head.sha] : []), ...snapshot.commits.map((c) => c.sha).reverse()];
    progress.acceptances = mergeAcceptances(await recordedAcceptances(octokit, target, earlierHeads, deps, previous), target.newAcceptances);
  }
  const verdict = await review(snapshot, { config: progress.config, checks: deps.checks, acceptances: progress.acceptances });
  return { kind: 'verdict', verdict, snapshot, acceptances: progress.acceptances };
}

/** The conclusion of a run that could not finish: fail closed on AI-authored PRs, and when authorship is unknown. */
export function errorConclusion(progress: Progress, target: AnalysisTarget): { conclusion: Conclusion; aiAuthored: boolean | undefined } {
  const config = progress.config ?? structuredClone(DEFAULT_CONFIG);
  const aiAuthored = progress.ref && progress.commits
    ? detectAuthorship({ ...progress.ref, repo: `${target.owner}/${target.repo}`, files: [], commits: progress.commits, notes: [], read: async () => undefined, list: async () => [] }, config).aiAuthored
    : undefined;
  const conclusion = config.onInternalError === 'neutral' ? 'neutral' : conclude(config.enforce, { aiAuthored: aiAuthored ?? true, reasons: [] }, 1).conclusion;
  return { conclusion, aiAuthored };
}

/** Analyse a target and report; never throws for a run it started without completing that run. Returns the run's conclusion. */
export async function runAnalysis(octokit: Octokit, target: AnalysisTarget, deps: AnalysisDeps): Promise<string> {
  const { owner, repo, headSha } = target;
  const { run, previous } = await startRun(octokit, target, deps);
  // what the run on this head already records survives an error before the acceptances are re-read
  const progress: Progress = { acceptances: mergeAcceptances(decodeAcceptances(previous?.output.text), target.newAcceptances) };
  try {
    const analysis = await analyse(octokit, target, deps, progress, previous);
    if (analysis.kind === 'superseded') {
      await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', {
        owner, repo, check_run_id: run.id, status: 'completed', conclusion: 'skipped', completed_at: deps.now().toISOString(),
        output: { title: 'Superseded', summary: `The PR's head moved on to ${analysis.by.slice(0, 12)}; that commit gets its own run.` },
      });
      return 'skipped';
    }
    const { verdict, snapshot, acceptances } = analysis;
    await writeVerdict(octokit, target, run.id, verdict, acceptances, deps);
    deps.log.info({ owner, repo, headSha, conclusion: verdict.conclusion, findings: verdict.findings.length }, 'analysis complete');
    if (target.pullNumber !== undefined && deps.reviewComments !== false && run.app?.slug) {
      try {
        await postReviewComments(octokit, target, verdict, snapshot.files, `${run.app.slug}[bot]`);
      } catch (error) {
        // the gate is already decided and written; comments are a courtesy on top
        deps.log.warn({ err: error, owner, repo, headSha }, 'review comments failed');
      }
    }
    return verdict.conclusion;
  } catch (error) {
    const kind = error instanceof ConfigLoadError ? 'config' : 'internal';
    const detail = error instanceof Error ? error.message : String(error);
    deps.log.error({ err: error, owner, repo, headSha }, 'analysis failed');
    const { conclusion, aiAuthored } = errorConclusion(progress, target);
    const output = { ...renderError(kind, detail, conclusion, aiAuthored, progress.acceptances), annotations: [] };
    await completeInBatches(octokit, target, run.id, output, conclusion, [BUTTONS.rerun], deps);
    return conclusion;
  }
}
