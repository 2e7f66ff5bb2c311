// End to end with the real check registry: the app, reading the PR through the fake GitHub API,
// reaches the same verdict as the engine on the same PR held in memory.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { review } from '../../src/engine/engine.js';
import { memorySnapshot, parsePrMarkdown, type MemoryPullRequest } from '../../src/engine/memory.js';
import { PR_TEXT_PATH } from '../../src/engine/types.js';
import { readTree } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/github-app.js';
import { addPull, pullRequestPayload } from './support.js';

// ../shared beside the repository, as in development and CI
const EXAMPLES = fileURLToPath(new URL('../../../shared/examples', import.meta.url));
const cases = existsSync(EXAMPLES) ? readdirSync(EXAMPLES).filter((d) => existsSync(join(EXAMPLES, d, 'pr.md'))).sort() : [];

function memoryPull(dir: string): MemoryPullRequest {
  const { title, body, commits } = parsePrMarkdown(readFileSync(join(dir, 'pr.md'), 'utf8'));
  const steps = readdirSync(dir).filter((d) => /^step\d+$/.test(d)).sort().map((d) => readTree(join(dir, d)));
  return { title, body, commits, base: readTree(join(dir, 'base')), steps, head: readTree(join(dir, 'head')), number: 7 };
}

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ checks: CHECKS });
});
afterAll(async () => {
  await h.stop();
  expect(h.github.violations).toEqual([]);
});

describe.runIf(cases.length > 0)('the real registry through the app', () => {
  it.each(cases)('%s: same conclusion and findings as the engine on the in-memory PR', async (name) => {
    const pr = memoryPull(join(EXAMPLES, name));
    const snapshot = memorySnapshot(pr);
    const expected = await review(snapshot, { config: structuredClone(DEFAULT_CONFIG), checks: CHECKS });

    const { repo, pull } = addPull(h.github, {
      number: pr.number, title: pr.title, body: pr.body, base: pr.base, head: pr.head,
      commits: snapshot.commits.map((c) => c.message), headSha: snapshot.headSha,
    });
    pull.commits = snapshot.commits.map((c) => ({ sha: c.sha, message: c.message }));
    pull.base.sha = snapshot.baseSha;
    (pr.steps ?? []).forEach((tree, i) => (repo.commits[snapshot.commits[i]!.sha] = { tree, parents: [], message: snapshot.commits[i]!.message }));
    repo.checkRuns = [];

    await h.deliver('pull_request', pullRequestPayload(pull));
    await h.app.idle();
    const run = repo.checkRuns.find((r) => r.head_sha === snapshot.headSha)!;
    expect(run.conclusion).toBe(expected.conclusion);
    const onFiles = expected.findings.filter((f) => f.path !== PR_TEXT_PATH).map((f) => `${f.checkId} ${f.path}:${f.line}`);
    expect(run.annotations.map((a: { title: string; path: string; start_line: number }) => `${a.title.split(' ')[0]} ${a.path}:${a.start_line}`)).toEqual(onFiles);
  });
});
