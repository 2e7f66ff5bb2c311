// The webhook handlers, one small module each, in a registry the app walks: a new event is one
// more entry. Handlers read the payload and enqueue; anything that calls GitHub runs deferred,
// so the webhook is acknowledged at once.

import type { Context } from 'probot';
import { escapeMarkdown, type AcceptanceRecord } from '../report/checkrun.js';
import { BUTTONS, isOurApp, pullNumberOfQueueRef, type AnalysisDeps, type AnalysisTarget } from './analysis.js';
import { chaosResults } from './chaos.js';
import { canOverride, parseCommand } from './commands.js';
import type { Octokit } from './snapshot.js';

export interface AppServices {
  deps: AnalysisDeps;
  /** queue an analysis; coalesces with a waiting job for the same repo and head SHA */
  enqueue(octokit: Octokit, target: AnalysisTarget): void;
  /** queue other work off the webhook (chaos results); a task waiting under the same key is replaced */
  defer(key: string, task: () => Promise<void>): void;
}

export interface EventHandler {
  name: string;
  events: string[];
  handle(context: Context, services: AppServices): Promise<void>;
}

interface RepoPayload {
  repository: { name: string; owner: { login: string } };
  sender?: { login: string; type?: string };
}

function repoOf(context: Context): { owner: string; repo: string } {
  const payload = context.payload as unknown as RepoPayload;
  return { owner: payload.repository.owner.login, repo: payload.repository.name };
}

function target(owner: string, repo: string, headSha: string, over: Partial<AnalysisTarget> = {}): AnalysisTarget {
  return { owner, repo, headSha, previousHeads: [], newAcceptances: [], ...over };
}

async function reply(context: Context, number: number, text: string): Promise<void> {
  const { owner, repo } = repoOf(context);
  await context.octokit.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner, repo, issue_number: number, body: text });
}

const pullRequest: EventHandler = {
  name: 'pull-request',
  events: ['pull_request.opened', 'pull_request.synchronize', 'pull_request.reopened', 'pull_request.ready_for_review', 'pull_request.edited'],
  async handle(context, services) {
    const payload = context.payload as unknown as {
      action: string;
      before?: string;
      changes?: Record<string, unknown>;
      pull_request: { number: number; head: { sha: string }; state: string };
    };
    // an edit matters only when the text changed: evidence may have been added to the body
    if (payload.action === 'edited' && !payload.changes?.title && !payload.changes?.body) return;
    if (payload.pull_request.state !== 'open') return;
    const { owner, repo } = repoOf(context);
    services.enqueue(context.octokit, target(owner, repo, payload.pull_request.head.sha, {
      pullNumber: payload.pull_request.number,
      previousHeads: payload.before ? [payload.before] : [],
    }));
  },
};

const mergeGroup: EventHandler = {
  name: 'merge-group',
  events: ['merge_group.checks_requested'],
  async handle(context, services) {
    const { merge_group: group } = context.payload as unknown as { merge_group: { head_sha: string; head_ref: string; base_sha: string } };
    const { owner, repo } = repoOf(context);
    services.enqueue(context.octokit, target(owner, repo, group.head_sha, { mergeGroup: { baseSha: group.base_sha, headRef: group.head_ref } }));
  },
};

interface RunPayload {
  head_sha: string;
  name?: string;
  app?: { id: number } | null;
  head_branch?: string | null;
  pull_requests: { number: number }[];
  check_suite?: { head_branch?: string | null };
}

/** The analysis a check run or suite stands for: its PR, or its merge group (found from the queue branch). */
async function targetOfRun(context: Context, run: RunPayload): Promise<AnalysisTarget | undefined> {
  const { owner, repo } = repoOf(context);
  const branch = run.head_branch ?? run.check_suite?.head_branch ?? '';
  if (branch.startsWith('gh-readonly-queue/')) {
    const { data } = await context.octokit.request('GET /repos/{owner}/{repo}/commits/{ref}', { owner, repo, ref: run.head_sha });
    const base = data.parents[0]?.sha;
    return base ? target(owner, repo, run.head_sha, { mergeGroup: { baseSha: base, headRef: branch } }) : undefined;
  }
  let number: number | undefined = run.pull_requests[0]?.number ?? pullNumberOfQueueRef(branch);
  if (number === undefined) {
    // runs on a fork's PR list no pull_requests: ask which PR carries the commit
    const { data } = await context.octokit.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', { owner, repo, commit_sha: run.head_sha });
    number = data.find((p) => p.state === 'open')?.number;
  }
  return number === undefined ? undefined : target(owner, repo, run.head_sha, { pullNumber: number });
}

function isOurs(run: RunPayload, services: AppServices): boolean {
  return isOurApp(run.app, services.deps.app);
}

const rerequested: EventHandler = {
  name: 'rerequested',
  events: ['check_run.rerequested', 'check_suite.rerequested'],
  async handle(context, services) {
    const payload = context.payload as unknown as { check_run?: RunPayload; check_suite?: RunPayload };
    const run = payload.check_run ?? payload.check_suite!;
    if (!isOurs(run, services) || (payload.check_run && run.name !== 'causal-review')) return;
    services.defer(`rerequested:${context.id}`, async () => {
      const found = await targetOfRun(context, run);
      if (found) services.enqueue(context.octokit, found);
    });
  },
};

function acceptance(target: string, login: string, reason: string, services: AppServices): AcceptanceRecord {
  return { fingerprint: target, by: target, reason, login, at: services.deps.now().toISOString() };
}

const requestedAction: EventHandler = {
  name: 'requested-action',
  events: ['check_run.requested_action'],
  async handle(context, services) {
    const payload = context.payload as unknown as { check_run: RunPayload; requested_action: { identifier: string }; sender: { login: string } };
    const run = payload.check_run;
    const { identifier } = payload.requested_action;
    if (!isOurs(run, services) || (identifier !== BUTTONS.rerun.identifier && identifier !== BUTTONS.acceptDiagnosis.identifier)) return;
    services.defer(`requested-action:${context.id}`, async () => {
      const { owner, repo } = repoOf(context);
      const found = await targetOfRun(context, run);
      if (!found) return;
      if (!(await canOverride(context.octokit, owner, repo, payload.sender.login))) {
        if (found.pullNumber !== undefined) {
          await reply(context, found.pullNumber, `${escapeMarkdown(payload.sender.login, 60)}: only people with write, maintain or admin permission can use the causal-review buttons; nothing changed.`);
        }
        return;
      }
      if (identifier === BUTTONS.acceptDiagnosis.identifier) {
        found.newAcceptances.push(acceptance('unverified-diagnosis', payload.sender.login, 'accepted with the "Accept diagnosis" button of the check run', services));
      }
      services.enqueue(context.octokit, found);
    });
  },
};

const commands: EventHandler = {
  name: 'commands',
  events: ['issue_comment.created'],
  async handle(context, services) {
    const payload = context.payload as unknown as {
      issue: { number: number; pull_request?: unknown; state: string };
      comment: { body: string; user: { login: string; type?: string } };
    };
    if (!payload.issue.pull_request || payload.comment.user.type === 'Bot') return;
    const command = parseCommand(payload.comment.body);
    if (!command) return;
    const login = payload.comment.user.login;
    const number = payload.issue.number;
    services.defer(`command:${context.id}`, async () => {
      if (command.kind === 'invalid') {
        await reply(context, number, `causal-review did not understand that: ${command.why}.`);
        return;
      }
      const { owner, repo } = repoOf(context);
      if (!(await canOverride(context.octokit, owner, repo, login))) {
        await reply(context, number, `${escapeMarkdown(login, 60)}: only people with write, maintain or admin permission can ask causal-review to ${command.kind === 'accept' ? 'accept a finding' : 'recheck'}; nothing changed.`);
        return;
      }
      const { data: pr } = await context.octokit.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner, repo, pull_number: number });
      const job = target(owner, repo, pr.head.sha, { pullNumber: number });
      if (command.kind === 'accept') job.newAcceptances.push(acceptance(command.target, login, command.reason, services));
      services.enqueue(context.octokit, job);
    });
  },
};

/** Every handler the app registers. */
export const HANDLERS: EventHandler[] = [pullRequest, mergeGroup, rerequested, requestedAction, commands, chaosResults];
