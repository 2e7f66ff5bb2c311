// The same analysis as a GitHub Action, for teams that cannot host the app: the workflow's PR (or
// merge group) in, a `causal-review` check run out through the same reporting code, with the
// workflow's token. Where that token cannot write check runs (a fork's PR), the findings become
// workflow annotations and a job summary instead, and the exit code carries the verdict.

import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { CHECKS } from '../../checks/index.js';
import { PR_TEXT_PATH } from '../engine/types.js';
import { renderSummary } from '../report/checkrun.js';
import { analyse, runAnalysis, type AnalysisDeps, type AnalysisTarget, type Progress } from './analysis.js';
import { configuredOctokit } from './app.js';
import { apiBaseUrl, type CommandIO } from './protect.js';
import type { Octokit } from './snapshot.js';

/** Workflow tokens act as the GitHub Actions app: its runs named causal-review are the ones to update. */
const ACTIONS_APP = { slug: 'github-actions' };
const MAX_EVENT_BYTES = 25_000_000;

/** The analysis a workflow event asks for; undefined for an event the action does not handle. */
export function targetOfEvent(eventName: string, event: any, repository: string): AnalysisTarget | undefined {
  const [owner, repo] = repository.split('/');
  if (!owner || !repo) return undefined;
  const base = { owner, repo, previousHeads: [], newAcceptances: [] };
  if ((eventName === 'pull_request' || eventName === 'pull_request_target') && event?.pull_request) {
    return { ...base, headSha: String(event.pull_request.head.sha), pullNumber: Number(event.pull_request.number), ...(event.before ? { previousHeads: [String(event.before)] } : {}) };
  }
  if (eventName === 'merge_group' && event?.merge_group) {
    const group = event.merge_group;
    return { ...base, headSha: String(group.head_sha), mergeGroup: { baseSha: String(group.base_sha), headRef: String(group.head_ref) } };
  }
  return undefined;
}

/** Workflow-command escaping: a PR's text cannot end the command or inject another. */
function escapeData(text: string): string {
  return text.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}
function escapeProperty(text: string): string {
  return escapeData(text).replaceAll(':', '%3A').replaceAll(',', '%2C');
}

/** Without a token that can write check runs: annotations through workflow commands, the summary to the job. */
async function reportWithoutCheckRun(octokit: Octokit, target: AnalysisTarget, deps: AnalysisDeps, io: CommandIO): Promise<string> {
  const progress: Progress = { acceptances: [] };
  const analysis = await analyse(octokit, target, deps, progress);
  if (analysis.kind === 'superseded') return 'skipped';
  const { verdict } = analysis;
  for (const f of verdict.findings.slice(0, 1_000)) {
    const level = f.blocking ? 'error' : f.severity === 'notice' || f.accepted ? 'notice' : 'warning';
    const where = f.path === PR_TEXT_PATH ? '' : `file=${escapeProperty(f.path)},line=${f.line}${f.endLine ? `,endLine=${f.endLine}` : ''},`;
    io.stdout.write(`::${level} ${where}title=${escapeProperty(`causal-review ${f.checkId}`)}::${escapeData(f.message.slice(0, 4_000))}\n`);
  }
  const summaryFile = io.env.GITHUB_STEP_SUMMARY;
  if (summaryFile) appendFileSync(summaryFile, `## causal-review\n\n${renderSummary(verdict)}\n`);
  return verdict.conclusion;
}

export async function actionCommand(_argv: string[], io: CommandIO): Promise<number> {
  const { env } = io;
  const token = env.GITHUB_TOKEN;
  const eventPath = env.GITHUB_EVENT_PATH;
  if (!token || !eventPath || !env.GITHUB_EVENT_NAME || !env.GITHUB_REPOSITORY) {
    io.stderr.write('causal-review action: run inside GitHub Actions (GITHUB_EVENT_NAME, GITHUB_EVENT_PATH, GITHUB_REPOSITORY) with GITHUB_TOKEN set\n');
    return 2;
  }
  if (statSync(eventPath).size > MAX_EVENT_BYTES) {
    io.stderr.write('causal-review action: the event payload is too large\n');
    return 2;
  }
  const target = targetOfEvent(env.GITHUB_EVENT_NAME, JSON.parse(readFileSync(eventPath, 'utf8')), env.GITHUB_REPOSITORY);
  if (!target) {
    io.stdout.write(`causal-review: nothing to review on a ${env.GITHUB_EVENT_NAME} event (use pull_request or merge_group)\n`);
    return 0;
  }
  const Octokit = configuredOctokit(io.tuning);
  const octokit = new Octokit({ auth: { token }, baseUrl: apiBaseUrl(env), ...(io.fetch ? { request: { fetch: io.fetch } } : {}) }) as Octokit;
  const deps: AnalysisDeps = {
    checks: CHECKS,
    app: ACTIONS_APP,
    readAcceptances: false,
    reviewComments: env.CAUSAL_REVIEW_COMMENTS !== 'false',
    now: () => new Date(),
    log: {
      info: () => {},
      warn: (o, msg) => io.stderr.write(`warning: ${msg ?? ''} ${(o as { err?: Error }).err?.message ?? ''}\n`),
      error: (o, msg) => io.stderr.write(`error: ${msg ?? ''} ${(o as { err?: Error }).err?.message ?? ''}\n`),
    },
  };
  let conclusion: string;
  try {
    try {
      conclusion = await runAnalysis(octokit, target, deps);
    } catch (error) {
      // a read-only token (a fork's pull_request) cannot create the run: report through the job instead
      if ((error as { status?: number }).status !== 403) throw error;
      io.stderr.write('causal-review: this token cannot write check runs (a fork\'s PR?); reporting through workflow annotations\n');
      conclusion = await reportWithoutCheckRun(octokit, target, deps, io);
    }
  } catch (error) {
    // nothing could be reported: fail the job, so a missing review never passes silently
    io.stderr.write(`causal-review action: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  io.stdout.write(`causal-review: ${conclusion}\n`);
  return conclusion === 'failure' ? 1 : 0;
}
