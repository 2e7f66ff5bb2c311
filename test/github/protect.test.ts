// `causal-review protect` against the fake GitHub: a ruleset pinned to the app, updated in place,
// and classic branch protection where the rulesets API is missing.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { protectCommand, type CommandIO } from '../../src/github/protect.js';
import { FakeGitHub } from '../support/github-api.js';
import { loopbackFetch } from '../support/github-app.js';

let github: FakeGitHub;
let out: string[];
let err: string[];
beforeEach(async () => {
  github = new FakeGitHub();
  await github.start();
  out = [];
  err = [];
});
afterEach(async () => {
  await github.stop();
  expect(github.violations).toEqual([]);
});

function io(env: Record<string, string> = {}): CommandIO {
  return {
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => err.push(t) },
    env: { GITHUB_TOKEN: 't', GITHUB_API_URL: github.url, ...env },
    fetch: loopbackFetch(() => github.url),
    tuning: { retryAfterBaseValue: 1, noWritePacing: true },
  };
}

describe('protect', () => {
  it('creates a ruleset requiring causal-review from the app, then updates it instead of adding a second', async () => {
    const repo = github.repo('acme', 'operator');
    expect(await protectCommand(['--repo', 'acme/operator', '--branch', 'main', '--app-id', '123'], io())).toBe(0);
    expect(repo.rulesets).toHaveLength(1);
    expect(repo.rulesets[0]).toMatchObject({
      name: 'causal-review',
      enforcement: 'active',
      conditions: { ref_name: { include: ['refs/heads/main'] } },
      rules: [{ type: 'required_status_checks', parameters: { required_status_checks: [{ context: 'causal-review', integration_id: 123 }] } }],
    });
    expect(out.join('')).toContain('created ruleset');

    expect(await protectCommand(['--repo', 'acme/operator'], io({ APP_ID: '456' }))).toBe(0);
    expect(repo.rulesets).toHaveLength(1);
    expect(repo.rulesets[0].rules[0].parameters.required_status_checks[0].integration_id).toBe(456);
    expect(repo.rulesets[0].conditions.ref_name.include).toEqual(['~DEFAULT_BRANCH']);
    expect(github.routes()).toEqual([
      'GET /repos/{owner}/{repo}/rulesets',
      'GET /repos/{owner}/{repo}/rulesets',
      'POST /repos/{owner}/{repo}/rulesets',
      'PUT /repos/{owner}/{repo}/rulesets/{ruleset_id}',
    ]);
  });

  it('falls back to classic branch protection when the rulesets API answers 404', async () => {
    const repo = github.repo('acme', 'operator', { noRulesets: true });
    expect(await protectCommand(['--repo', 'acme/operator', '--app-id', '123'], io())).toBe(0);
    expect(repo.branchProtection.main.required_status_checks).toEqual({ strict: false, contexts: [], checks: [{ context: 'causal-review', app_id: 123 }] });

    // existing required checks are kept, ours is pinned to the app
    repo.branchProtection.main.required_status_checks = { strict: true, checks: [{ context: 'build', app_id: null }, { context: 'causal-review', app_id: 1 }] };
    expect(await protectCommand(['--repo', 'acme/operator', '--branch', 'main', '--app-id', '123'], io())).toBe(0);
    expect(repo.branchProtection.main.required_status_checks).toEqual({ strict: true, checks: [{ context: 'build' }, { context: 'causal-review', app_id: 123 }] });
  });

  it('names the bad input in one line: the repository, the app id, a repeated or empty flag', async () => {
    for (const [argv, message] of [
      [['--repo', 'x'], '--repo x: must be OWNER/NAME'],
      [['--repo', 'acme/operator', '--app-id', 'abc'], '--app-id abc: must be a whole number above 0'],
      [['--repo', 'acme/operator', '--app-id', '0'], '--app-id 0: must be a whole number above 0'],
      [['--repo', 'acme/operator', '--repo', 'acme/other', '--app-id', '1'], '--repo given twice'],
      [['--repo=', '--app-id', '1'], '--repo needs a value'],
      [['--bogus'], 'unknown argument --bogus'],
    ] as const) {
      err = [];
      expect(await protectCommand([...argv], io()), argv.join(' ')).toBe(2);
      expect(err.join(''), argv.join(' ')).toBe(`causal-review: protect: ${message}; see causal-review protect --help\n`);
    }
    expect(github.requests).toEqual([]);
    // --repo=OWNER/NAME is the same as --repo OWNER/NAME
    github.repo('acme', 'operator');
    expect(await protectCommand(['--repo=acme/operator', '--app-id=7'], io())).toBe(0);
  });

  it('answers a usage error with exit 2 and a reason', async () => {
    expect(await protectCommand(['--repo', 'acme'], io())).toBe(2);
    expect(await protectCommand(['--repo', 'acme/operator'], io())).toBe(2);
    expect(err.join('')).toContain('app id is required');
    expect(await protectCommand(['--repo', 'acme/operator', '--app-id', '1'], { ...io(), env: { GITHUB_API_URL: github.url } })).toBe(2);
    expect(github.requests).toEqual([]);
  });

  it('reports a GitHub error with exit 1', async () => {
    github.repo('acme', 'operator');
    github.fail({ method: 'GET', route: '/repos/{owner}/{repo}/rulesets', status: 401, message: 'Bad credentials' });
    expect(await protectCommand(['--repo', 'acme/operator', '--app-id', '1'], io())).toBe(1);
    expect(err.join('')).toContain('401');
  });
});
