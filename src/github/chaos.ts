// The `causal-review/chaos` check: when the chaos workflow of a PR finishes (workflow_run.completed),
// its results.json artifact is read, validated and reported on the PR head. The artifact comes
// from the PR's own run, so everything in it is untrusted; a run of a PR that changed the chaos
// workflow or harness is not trusted at all: a maintainer is asked (action_required).

import { inflateRawSync } from 'node:zlib';
import type { Context } from 'probot';
import { renderChaosSummary, validateResults } from '../chaos/results.js';
import { escapeMarkdown } from '../report/checkrun.js';
import { ourRuns } from './analysis.js';
import type { EventHandler } from './handlers.js';
import type { Octokit } from './snapshot.js';

export const CHAOS_CHECK_NAME = 'causal-review/chaos';
/** The workflow users add (workflows/ in this repository), by file name, and its artifact. */
export const CHAOS_WORKFLOW_FILE = 'causal-review-chaos.yml';
export const CHAOS_ARTIFACT = 'causal-review-chaos';
const RESULTS_FILE = 'results.json';
/**
 * What a PR may not touch for its chaos result to count: the caller workflow, the reusable workflow
 * copied beside it (`causal-review-chaos-run.yml`, see docs/chaos.md) and the harness configuration.
 */
export const HARNESS_PATHS = ['.github/causal-review.yml', '.github/causal-review/', '.github/workflows/causal-review-chaos'];
const MAX_ARTIFACT_BYTES = 20_000_000;
const MAX_RESULTS_BYTES = 10_000_000;

interface WorkflowRun {
  id: number;
  path: string;
  event: string;
  head_sha: string;
  conclusion: string | null;
  html_url: string;
  pull_requests: { number: number }[];
}

/**
 * One file out of a zip archive (GitHub artifacts are zips): found through the central directory,
 * stored or deflated, its inflated size bounded so a hostile archive cannot balloon.
 */
export function unzipEntry(zip: Buffer, name: string, maxBytes: number): Buffer | undefined {
  // the end-of-central-directory record sits in the last 22 + 65,535 (comment) bytes
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd === -1) throw new Error('the artifact is not a zip archive');
  const entries = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries && at + 46 <= zip.length; n++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error('the artifact has a broken zip directory');
    const method = zip.readUInt16LE(at + 10);
    const compressed = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const entryName = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + nameLength + extra + comment;
    if (entryName !== name) continue;
    if (size > maxBytes) throw new Error(`${name} is larger than ${maxBytes} bytes`);
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50) throw new Error('the artifact has a broken zip entry');
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressed);
    if (method === 0) return data;
    if (method === 8) return inflateRawSync(data, { maxOutputLength: maxBytes });
    throw new Error(`${name} uses zip method ${method}, which is not supported`);
  }
  return undefined;
}

async function pullNumberOf(octokit: Octokit, owner: string, repo: string, run: WorkflowRun): Promise<number | undefined> {
  if (run.pull_requests[0]) return run.pull_requests[0].number;
  // a fork's run lists no pull requests: ask which PR carries the commit
  const { data } = await octokit.request('GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls', { owner, repo, commit_sha: run.head_sha });
  return data.find((p) => p.state === 'open')?.number;
}

/** Paths of the harness this PR changed: then its chaos result proves nothing. */
async function harnessChanges(octokit: Octokit, owner: string, repo: string, number: number, workflowPath: string): Promise<string[]> {
  const changed: string[] = [];
  for await (const page of octokit.paginate.iterator('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', { owner, repo, pull_number: number, per_page: 100 })) {
    for (const file of page.data) {
      const paths = [file.filename, file.previous_filename ?? ''];
      if (paths.some((p) => p === workflowPath || HARNESS_PATHS.some((h) => (h.endsWith('.yml') ? p === h : p.startsWith(h))))) changed.push(file.filename);
    }
  }
  return changed;
}

async function readResults(octokit: Octokit, owner: string, repo: string, runId: number): Promise<unknown> {
  const { data } = await octokit.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}/artifacts', { owner, repo, run_id: runId, name: CHAOS_ARTIFACT });
  const artifact = data.artifacts.find((a) => a.name === CHAOS_ARTIFACT && !a.expired);
  if (!artifact) throw new Error(`the workflow run has no "${CHAOS_ARTIFACT}" artifact`);
  if (artifact.size_in_bytes > MAX_ARTIFACT_BYTES) throw new Error(`the "${CHAOS_ARTIFACT}" artifact is larger than ${MAX_ARTIFACT_BYTES} bytes`);
  const response = await octokit.request('GET /repos/{owner}/{repo}/actions/artifacts/{artifact_id}/{archive_format}', { owner, repo, artifact_id: artifact.id, archive_format: 'zip' });
  const zip = Buffer.from(response.data as ArrayBuffer);
  if (zip.length > MAX_ARTIFACT_BYTES) throw new Error('the artifact download is larger than announced');
  const text = unzipEntry(zip, RESULTS_FILE, MAX_RESULTS_BYTES);
  if (!text) throw new Error(`the artifact has no ${RESULTS_FILE}`);
  return JSON.parse(text.toString('utf8'));
}

interface ChaosOutput {
  conclusion: 'success' | 'failure' | 'action_required' | 'neutral';
  title: string;
  summary: string;
}

async function decide(octokit: Octokit, owner: string, repo: string, run: WorkflowRun): Promise<ChaosOutput | undefined> {
  const number = await pullNumberOf(octokit, owner, repo, run);
  if (number === undefined) return undefined;
  const touched = await harnessChanges(octokit, owner, repo, number, run.path);
  if (touched.length > 0) {
    return {
      conclusion: 'action_required',
      title: 'Chaos result not trusted: the PR changes the chaos harness',
      summary: `This PR changes ${touched.slice(0, 10).map((p) => escapeMarkdown(p, 200)).join(', ')}, so its own chaos run cannot vouch for it. A maintainer should review those changes and run the chaos workflow from the default branch.`,
    };
  }
  if (run.conclusion === 'cancelled' || run.conclusion === 'skipped') {
    return { conclusion: 'neutral', title: `Chaos workflow ${run.conclusion}`, summary: `The chaos workflow run was ${run.conclusion}; re-run it to get a result.` };
  }
  try {
    const rendered = renderChaosSummary(validateResults(await readResults(octokit, owner, repo, run.id)));
    return { conclusion: rendered.conclusion, title: rendered.title, summary: rendered.summary };
  } catch (error) {
    // no readable result from a run that should have produced one: fail closed
    const why = error instanceof Error ? error.message : String(error);
    return { conclusion: 'failure', title: 'No chaos result', summary: `The chaos workflow run ended "${escapeMarkdown(run.conclusion ?? 'unknown', 40)}" without a usable result: ${escapeMarkdown(why, 500)}` };
  }
}

async function reportChaos(context: Context, run: WorkflowRun, appName: Parameters<typeof ourRuns>[4], now: () => Date): Promise<void> {
  const { owner, repo } = context.repo();
  const octokit = context.octokit as unknown as Octokit;
  const output = await decide(octokit, owner, repo, run);
  if (!output) return;
  const existing = (await ourRuns(octokit, owner, repo, run.head_sha, appName, CHAOS_CHECK_NAME))[0];
  const body = {
    owner, repo, name: CHAOS_CHECK_NAME, head_sha: run.head_sha, status: 'completed' as const, conclusion: output.conclusion,
    completed_at: now().toISOString(), details_url: run.html_url, output: { title: output.title.slice(0, 255), summary: output.summary },
  };
  if (existing) await octokit.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { ...body, check_run_id: existing.id });
  else await octokit.request('POST /repos/{owner}/{repo}/check-runs', body);
}

export const chaosResults: EventHandler = {
  name: 'chaos-results',
  events: ['workflow_run.completed'],
  async handle(context, services) {
    const run = (context.payload as unknown as { workflow_run: WorkflowRun }).workflow_run;
    const file = run.path.slice(run.path.lastIndexOf('/') + 1).split('@')[0];
    if (file !== CHAOS_WORKFLOW_FILE || run.event !== 'pull_request') return;
    const { owner, repo } = context.repo();
    services.defer(`chaos:${owner}/${repo}@${run.head_sha}`, () => reportChaos(context, run, services.deps.app, services.deps.now));
  },
};
