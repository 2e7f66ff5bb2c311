// `causal-review protect`: make the `causal-review` check required on a branch, pinned to our
// app's integration id so no other app (or a workflow) can satisfy it. A repository ruleset where
// the rulesets API exists; classic branch protection where it answers 404/403 (older GHES, plans).

import { CHECK_NAME } from '../report/checkrun.js';
import { configuredOctokit, type OctokitTuning } from './app.js';
import type { Octokit } from './snapshot.js';

export const RULESET_NAME = 'causal-review';

/** The CLI's io (src/cli/io.ts CliIo fits it), plus test hooks. */
export interface CommandIO {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
  env: Record<string, string | undefined>;
  /** injectable for tests: requests go nowhere else */
  fetch?: typeof fetch;
  /** for tests: no write pacing, fast retries */
  tuning?: OctokitTuning;
}

interface ProtectOptions {
  owner: string;
  repo: string;
  branch?: string;
  appId: number;
}

/** `causal-review protect --help` (the CLI prints it for --help). */
export const PROTECT_USAGE = `Usage: causal-review protect --repo OWNER/NAME [--branch BRANCH] [--app-id ID]

Make the causal-review check run required before merging: a repository ruleset that
requires the check from this app (its id pinned, so no other app or workflow can
satisfy it), falling back to classic branch protection where rulesets are unavailable.
Running it again updates the same ruleset.

Options:
  --repo OWNER/NAME   the repository
  --branch BRANCH     the protected branch (default: the default branch)
  --app-id ID         the GitHub App's id (default: APP_ID)

Environment:
  GITHUB_TOKEN        a token with administration write on the repository
  GITHUB_API_URL      GitHub Enterprise API root (default: https://api.github.com)
`;

/** GitHub's API root: GITHUB_API_URL (set in Actions), else GHE_HOST as Probot reads it, else api.github.com. */
export function apiBaseUrl(env: Record<string, string | undefined>): string {
  if (env.GITHUB_API_URL) return env.GITHUB_API_URL.replace(/\/+$/, '');
  if (env.GHE_HOST) return `${env.GHE_PROTOCOL ?? 'https'}://${env.GHE_HOST}/api/v3`;
  return 'https://api.github.com';
}

function parseArgs(argv: string[], env: Record<string, string | undefined>): ProtectOptions | string {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const given = argv[i]!;
    // `--repo a/b` and `--repo=a/b`
    const eq = given.startsWith('--') ? given.indexOf('=') : -1;
    const arg = eq === -1 ? given : given.slice(0, eq);
    if (!['--repo', '--branch', '--app-id'].includes(arg)) return `unknown argument ${given}`;
    const value = eq === -1 ? argv[++i] : given.slice(eq + 1);
    if (value === undefined || value === '' || value.startsWith('--')) return `${arg} needs a value`;
    if (values.has(arg)) return `${arg} given twice`;
    values.set(arg, value);
  }
  const repo = values.get('--repo');
  if (repo === undefined) return '--repo OWNER/NAME is required';
  const slash = repo.indexOf('/');
  if (slash <= 0 || slash === repo.length - 1 || repo.indexOf('/', slash + 1) !== -1) return `--repo ${repo}: must be OWNER/NAME`;
  const id = values.get('--app-id') ?? env.APP_ID;
  if (id === undefined || id === '') return 'the app id is required: --app-id ID or APP_ID';
  const appId = Number(id);
  if (!Number.isInteger(appId) || appId <= 0) return `${values.has('--app-id') ? '--app-id' : 'APP_ID'} ${id}: must be a whole number above 0`;
  const branch = values.get('--branch');
  return { owner: repo.slice(0, slash), repo: repo.slice(slash + 1), appId, ...(branch ? { branch } : {}) };
}

function isUnavailable(error: unknown): boolean {
  const status = (error as { status?: number }).status;
  return status === 404 || status === 403;
}

async function protectWithRuleset(octokit: Octokit, o: ProtectOptions): Promise<string> {
  const { owner, repo } = o;
  const { data: existing } = await octokit.request('GET /repos/{owner}/{repo}/rulesets', { owner, repo, per_page: 100 });
  const ours = existing.find((r) => r.name === RULESET_NAME && r.source_type !== 'Organization');
  const body = {
    name: RULESET_NAME,
    target: 'branch' as const,
    enforcement: 'active' as const,
    conditions: { ref_name: { include: [o.branch ? `refs/heads/${o.branch}` : '~DEFAULT_BRANCH'], exclude: [] } },
    rules: [
      {
        type: 'required_status_checks' as const,
        parameters: {
          strict_required_status_checks_policy: false,
          required_status_checks: [{ context: CHECK_NAME, integration_id: o.appId }],
        },
      },
    ],
  };
  if (ours) {
    await octokit.request('PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}', { owner, repo, ruleset_id: ours.id, ...body });
    return `updated ruleset "${RULESET_NAME}" (${ours.id})`;
  }
  const { data } = await octokit.request('POST /repos/{owner}/{repo}/rulesets', { owner, repo, ...body });
  return `created ruleset "${RULESET_NAME}" (${data.id})`;
}

type Check = { context: string; app_id?: number };

/** Classic protection: add our check to the required ones, keeping the rest of the branch's protection. */
async function protectWithBranchProtection(octokit: Octokit, o: ProtectOptions): Promise<string> {
  const { owner, repo } = o;
  const branch = o.branch ?? (await octokit.request('GET /repos/{owner}/{repo}', { owner, repo })).data.default_branch;
  const ours = { context: CHECK_NAME, app_id: o.appId };
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks', { owner, repo, branch });
    const checks = ((data.checks ?? []) as { context: string; app_id?: number | null }[]).filter((c) => c.context !== CHECK_NAME).map((c) => ({ context: c.context, ...(c.app_id ? { app_id: c.app_id } : {}) }));
    await octokit.request('PATCH /repos/{owner}/{repo}/branches/{branch}/protection/required_status_checks', {
      owner, repo, branch, strict: data.strict ?? false, checks: [...checks, ours],
    });
    return `added ${CHECK_NAME} to the required checks of ${branch} (classic branch protection)`;
  } catch (error) {
    if ((error as { status?: number }).status !== 404) throw error;
  }
  // no required checks yet: a branch without protection gets the least that requires ours
  await octokit.request('PUT /repos/{owner}/{repo}/branches/{branch}/protection', {
    owner, repo, branch,
    // the description requires `contexts` (deprecated) next to `checks`; empty, since `checks` pins the app
    required_status_checks: { strict: false, contexts: [], checks: [ours] },
    enforce_admins: null,
    required_pull_request_reviews: null,
    restrictions: null,
  });
  return `protected ${branch}, requiring ${CHECK_NAME} (classic branch protection)`;
}

export async function protectCommand(argv: string[], io: CommandIO): Promise<number> {
  const options = parseArgs(argv, io.env);
  // bad input: one line, named as every command's errors are (the usage is `protect --help`)
  if (typeof options === 'string') {
    io.stderr.write(`causal-review: protect: ${options}; see causal-review protect --help\n`);
    return 2;
  }
  const token = io.env.GITHUB_TOKEN;
  if (!token) {
    io.stderr.write(`causal-review: protect: GITHUB_TOKEN is required (a token with administration: write on ${options.owner}/${options.repo})\n`);
    return 2;
  }
  const Octokit = configuredOctokit(io.tuning);
  const octokit = new Octokit({ auth: { token }, baseUrl: apiBaseUrl(io.env), ...(io.fetch ? { request: { fetch: io.fetch } } : {}) }) as Octokit;
  try {
    let done: string;
    try {
      done = await protectWithRuleset(octokit, options);
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      done = await protectWithBranchProtection(octokit, options);
    }
    io.stdout.write(`${options.owner}/${options.repo}: ${done}; the check must come from app ${options.appId}.\n`);
    return 0;
  } catch (error) {
    const status = (error as { status?: number }).status;
    // a status is GitHub's answer; without one the request never got an answer (network, a bad GITHUB_API_URL)
    const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
    io.stderr.write(`causal-review: protect: ${status && status < 500 ? `GitHub answered ${status}: ` : status ? `GitHub answered ${status} (or the request failed on the way): ` : 'the request to GitHub failed: '}${message}\n`);
    return 1;
  }
}
