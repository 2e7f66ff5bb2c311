// The CLI end to end on real git repositories: formats, exit codes, every bad input, --all,
// configuration from the base, suppressions, escalation over commits; in-process and as a process.

import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { captureIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { TestRepo, cleanTemps, tempDir } from '../git/repo.js';

afterAll(cleanTemps);

const CLAUDE = 'Co-Authored-By: Claude <noreply@anthropic.com>';

const reconciler = (...body: string[]) =>
  [
    'package controller',
    '',
    'import (',
    '\t"context"',
    '\t"time"',
    '',
    '\tctrl "sigs.k8s.io/controller-runtime"',
    ')',
    '',
    'type WidgetReconciler struct{}',
    '',
    'func (r *WidgetReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {',
    ...body.map((l) => `\t${l}`),
    '\treturn ctrl.Result{}, nil',
    '}',
    '',
    'var _ = time.Second',
    '',
  ].join('\n');

const CONTROLLER = 'internal/controller/widget_controller.go';

async function run(...argv: string[]) {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err() };
}

/** main on `main` plus a PR branch whose one commit adds a sleep to a reconciler. */
function sleepPr(message = `status: wait for the API server\n\n${CLAUDE}`, extra: Record<string, string | null> = {}) {
  const repo = TestRepo.init();
  repo.commit('base', { [CONTROLLER]: reconciler('_ = ctx'), 'README.md': '# widgets\n' });
  repo.git('checkout', '-q', '-b', 'fix');
  repo.commit(message, { [CONTROLLER]: reconciler('_ = ctx', 'time.Sleep(5 * time.Second)'), ...extra });
  return repo;
}

describe('analyze: outputs and exit codes', () => {
  const repo = sleepPr();

  it('json: only the document on stdout, failure and exit 1 on an AI-authored PR', async () => {
    const r = await run('analyze', '--repo', repo.dir, '--format', 'json');
    expect(r.err).toBe('');
    const out = JSON.parse(r.out);
    expect(out).toMatchObject({ conclusion: 'failure', aiAuthored: true });
    expect(out.findings).toEqual([expect.objectContaining({ checkId: 'sleep-fix', path: CONTROLLER, line: 14, severity: 'error', blocking: true })]);
    expect(r.code).toBe(1);
  });

  it('text: the finding with its source line, the verdict and the authorship, no ANSI', async () => {
    const r = await run('analyze', '--repo', repo.dir, '--base', 'main', '--head', 'fix');
    expect(r.code).toBe(1);
    expect(r.out).toContain(`${CONTROLLER}:14  sleep-fix (error, blocking)`);
    expect(r.out).toContain('| time.Sleep(5 * time.Second)');
    expect(r.out).toMatch(/failure: 1 blocking finding on an AI-authored PR\.\nAI-authored: yes \(commit \w+ has the trailer "Co-Authored-By: Claude/);
    expect(r.out).not.toContain('\x1b[');
  });

  it('sarif: a 2.1.0 log with the finding located in the file', async () => {
    const r = await run('analyze', '--repo', repo.dir, '--format', 'sarif');
    const log = JSON.parse(r.out);
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0].results).toHaveLength(1);
    expect(log.runs[0].results[0]).toMatchObject({ ruleId: 'sleep-fix', level: 'error' });
    expect(log.runs[0].results[0].locations[0].physicalLocation).toEqual({ artifactLocation: { uri: CONTROLLER, uriBaseId: '%SRCROOT%' }, region: { startLine: 14 } });
    expect(r.code).toBe(1);
  });

  it('neutral and exit 0 for the same sleep on a PR that is not AI-authored', async () => {
    const human = sleepPr('status: wait for the API server');
    const r = await run('analyze', '--repo', human.dir, '--format', 'json');
    expect(JSON.parse(r.out)).toMatchObject({ conclusion: 'neutral', aiAuthored: false });
    expect(r.code).toBe(0);
  });

  it('success and exit 0 when the PR adds nothing to flag; the description feeds the title and body', async () => {
    const clean = TestRepo.init();
    clean.commit('base', { 'a.go': 'package a\n' });
    clean.git('checkout', '-q', '-b', 'docs');
    clean.commit('docs', { 'README.md': '# docs\n' });
    const description = join(tempDir(), 'pr.md');
    writeFileSync(description, '# Update docs\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n');
    const r = await run('analyze', '--repo', clean.dir, '--pr-description', description, '--format', 'json');
    expect(JSON.parse(r.out)).toMatchObject({ conclusion: 'success', aiAuthored: true, findings: [] });
    expect(JSON.parse(r.out).aiReasons.join()).toContain('Generated with [Claude Code]');
    expect(r.code).toBe(0);
  });

  it('a pr-text finding is on the line of the --pr-description file, with or without a # title line', async () => {
    const repo = TestRepo.init();
    repo.commit('base', { 'a.go': 'package a\n' });
    repo.git('checkout', '-q', '-b', 'fix');
    repo.commit('retry', { 'a.go': 'package a\n\nconst attempts = 5\n' });
    const claim = 'The root cause was API server overload, so the reconciler now retries.';
    const lineOf = async (text: string) => {
      const description = join(tempDir(), 'pr.md');
      writeFileSync(description, text);
      const r = await run('analyze', '--repo', repo.dir, '--pr-description', description, '--format', 'json');
      const findings = (JSON.parse(r.out) as { findings: { checkId: string; line: number }[] }).findings;
      return findings.filter((f) => f.checkId === 'unverified-diagnosis').map((f) => f.line);
    };
    expect(await lineOf(`# Fix a flaky reconcile\n\n${claim}\n`)).toEqual([3]);
    expect(await lineOf(`${claim}\n`)).toEqual([1]);
    expect(await lineOf(`\n\n## Summary\n\n${claim}\n`)).toEqual([5]);
  });

  it('--label feeds label authorship', async () => {
    const human = sleepPr('status: wait');
    const r = await run('analyze', '--repo', human.dir, '--label', 'bug', '--label', 'ai-generated', '--format', 'json');
    expect(JSON.parse(r.out).aiReasons).toEqual(['the PR has the label "ai-generated"']);
    expect(r.code).toBe(1);
  });

  it('a branch with an agent prefix counts as AI-authored through --head', async () => {
    const repo2 = sleepPr('status: wait');
    repo2.git('branch', 'claude/status-race', 'fix');
    const r = await run('analyze', '--repo', repo2.dir, '--head', 'claude/status-race', '--format', 'json');
    expect(JSON.parse(r.out).aiReasons).toEqual(['the branch claude/status-race starts with "claude/"']);
    expect(r.code).toBe(1);
  });
});

describe('analyze: renames, deletions, --all', () => {
  it('reports only the changed line of a renamed file, and nothing for a deleted one', async () => {
    const repo = TestRepo.init();
    const padding = Array.from({ length: 30 }, (_, i) => `var pad${i} = ${i}`);
    repo.commit('base', { 'old/widget.go': [reconciler('_ = ctx'), ...padding].join('\n'), 'gone.go': reconciler('time.Sleep(time.Second)') });
    repo.git('checkout', '-q', '-b', 'fix');
    repo.commit(`move\n\n${CLAUDE}`, {
      'old/widget.go': null,
      'gone.go': null,
      'new/widget.go': [reconciler('_ = ctx', 'time.Sleep(2 * time.Second)'), ...padding].join('\n'),
    });
    const r = await run('analyze', '--repo', repo.dir, '--format', 'json');
    const out = JSON.parse(r.out);
    expect(out.findings.map((f: { path: string; line: number }) => `${f.path}:${f.line}`)).toEqual(['new/widget.go:14']);
  });

  it('--all reviews every tracked file, including sleeps that no PR touched', async () => {
    const repo = sleepPr();
    const r = await run('analyze', '--all', '--repo', repo.dir, '--format', 'json');
    const out = JSON.parse(r.out);
    expect(out.findings.map((f: { checkId: string; path: string }) => `${f.checkId} ${f.path}`)).toEqual([`sleep-fix ${CONTROLLER}`]);
    // a whole-tree scan has no commits, so no authorship: the finding is advice under enforce: ai-authored
    expect(out).toMatchObject({ conclusion: 'neutral', aiAuthored: false });
    expect(r.code).toBe(0);
  });
});

describe('analyze: configuration', () => {
  it('reads .github/causal-review.yml at the base, so the PR cannot switch off its own gate', async () => {
    const repo = TestRepo.init();
    repo.commit('base', { [CONTROLLER]: reconciler('_ = ctx'), '.github/causal-review.yml': 'enforce: all\n' });
    repo.git('checkout', '-q', '-b', 'fix');
    repo.commit('add a wait', {
      [CONTROLLER]: reconciler('_ = ctx', 'time.Sleep(5 * time.Second)'),
      '.github/causal-review.yml': 'enforce: none\nchecks:\n  sleep-fix:\n    enabled: false\n',
    });
    const r = await run('analyze', '--repo', repo.dir, '--format', 'json');
    expect(JSON.parse(r.out)).toMatchObject({ conclusion: 'failure', aiAuthored: false });
    expect(r.code).toBe(1);
  });

  it('--config overrides the repository file', async () => {
    const repo = sleepPr();
    const config = join(tempDir(), 'c.yml');
    writeFileSync(config, 'checks:\n  sleep-fix:\n    severity: warning\n');
    const r = await run('analyze', '--repo', repo.dir, '--config', config, '--format', 'json');
    expect(JSON.parse(r.out)).toMatchObject({ conclusion: 'success', findings: [expect.objectContaining({ severity: 'warning', blocking: false })] });
    expect(r.code).toBe(0);
  });

  it('a malformed file at the base is exit 2 naming the file and revision', async () => {
    const repo = TestRepo.init();
    repo.commit('base', { '.github/causal-review.yml': 'enforce: [\n' });
    repo.git('checkout', '-q', '-b', 'fix');
    repo.commit('x', { 'a.go': 'package a\n' });
    const r = await run('analyze', '--repo', repo.dir);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^causal-review: \.github\/causal-review\.yml at main: not valid YAML/);
    expect(r.out).toBe('');
  });
});

describe('analyze: suppressions end to end', () => {
  it('a directive with a reason suppresses the finding; one without is reported and suppresses nothing', async () => {
    const repo = TestRepo.init();
    repo.commit('base', { [CONTROLLER]: reconciler('_ = ctx'), 'other.go': reconciler('_ = ctx') });
    repo.git('checkout', '-q', '-b', 'fix');
    repo.commit(`waits\n\n${CLAUDE}`, {
      [CONTROLLER]: reconciler('_ = ctx', '// causal-review:ignore sleep-fix -- the device needs 5 s after reset (datasheet 4.2)', 'time.Sleep(5 * time.Second)'),
      'other.go': reconciler('_ = ctx', 'time.Sleep(5 * time.Second) // causal-review:ignore sleep-fix'),
    });
    const r = await run('analyze', '--repo', repo.dir, '--format', 'json');
    const out = JSON.parse(r.out);
    expect(out.findings.map((f: { checkId: string; path: string; line: number }) => `${f.checkId} ${f.path}:${f.line}`)).toEqual([
      'sleep-fix other.go:14',
      'suppression other.go:14',
    ]);
    expect(r.code).toBe(1);
  });
});

describe('analyze: escalation over commits', () => {
  async function escalated() {
    const repo = TestRepo.init();
    repo.commit('base', { [CONTROLLER]: reconciler('time.Sleep(5 * time.Second)') });
    repo.git('checkout', '-q', '-b', 'fix');
    for (const seconds of [30, 120, 600]) {
      repo.commit(`wait longer (${seconds}s)\n\n${CLAUDE}`, { [CONTROLLER]: reconciler(`time.Sleep(${seconds} * time.Second)`) });
    }
    const r = await run('analyze', '--repo', repo.dir, '--format', 'json');
    return { r, out: JSON.parse(r.out) as { findings: { checkId: string; line: number; blocking: boolean; message: string }[] } };
  }

  const seconds = (d: string) => Number(d.slice(0, -1)) * (d.endsWith('h') ? 3600 : d.endsWith('m') ? 60 : 1);

  it('reports a sleep lengthened 5s -> 30s -> 120s -> 600s over three commits as escalated, with every step', async () => {
    const { r, out } = await escalated();
    expect(out.findings).toHaveLength(1);
    expect(out.findings[0]).toMatchObject({ checkId: 'sleep-fix', line: 13, blocking: true });
    const steps = /escalated ((?:\d+[smh] -> ){3}\d+[smh]) over 3 commits/.exec(out.findings[0]!.message);
    expect(steps, out.findings[0]!.message).not.toBeNull();
    expect(steps![1]!.split(' -> ').map(seconds)).toEqual([5, 30, 120, 600]);
    expect(r.code).toBe(1);
  });

  it('words the escalation exactly as the issue does', async () => {
    const { out } = await escalated();
    expect(out.findings[0]!.message).toContain('escalated 5s -> 30s -> 120s -> 600s over 3 commits');
  });
});

describe('bad input: exit 2 with one line on stderr and nothing on stdout', () => {
  const repo = sleepPr();
  const dir = tempDir();
  const malformed = join(dir, 'malformed.yml');
  writeFileSync(malformed, 'checks: {sleep-fix: [\n');
  const unknownKey = join(dir, 'unknown.yml');
  writeFileSync(unknownKey, 'enforce: all\nsleeps: 3\n');
  mkdirSync(join(dir, 'a-directory'));
  const config = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const unknownCheck = config('unknown-check.yml', 'checks:\n  sleep-fixx: {severity: error}\n');
  const unknownOption = config('unknown-option.yml', 'checks:\n  sleep-fix: {options: {minimumMS: 100}}\n');
  const badOption = config('bad-option.yml', 'checks:\n  sleep-fix: {options: {minimumMs: "abc"}}\n');
  const unknownChaos = config('unknown-chaos.yml', 'chaos:\n  vcluster: {quotaa: {}}\n');

  it.each([
    ['not a git repository', ['--repo', dir], /^causal-review: --repo .*: not a git repository/],
    ['a missing directory', ['--repo', join(dir, 'nope')], /^causal-review: --repo .*: no such directory$/],
    ['an unknown base', ['--repo', repo.dir, '--base', 'nosuch'], /^causal-review: --base nosuch: unknown revision in /],
    ['an unknown head', ['--repo', repo.dir, '--head', 'nosuch'], /^causal-review: --head nosuch: unknown revision in /],
    ['an unreadable config', ['--repo', repo.dir, '--config', join(dir, 'missing.yml')], /^causal-review: --config .*missing\.yml: no such file$/],
    ['a config that is a directory', ['--repo', repo.dir, '--config', join(dir, 'a-directory')], /^causal-review: --config .*a-directory: is a directory$/],
    ['malformed config YAML', ['--repo', repo.dir, '--config', malformed], /^causal-review: --config .*malformed\.yml: not valid YAML/],
    ['a config with an unknown key', ['--repo', repo.dir, '--config', unknownKey], /^causal-review: --config .*unknown\.yml: \(top level\): unknown key "sleeps"$/],
    ['a config naming no check', ['--repo', repo.dir, '--config', unknownCheck], /^causal-review: --config .*: checks: unknown check "sleep-fixx" \(the checks are .*sleep-fix.*\)$/],
    ['a config naming no option of the check', ['--repo', repo.dir, '--config', unknownOption], /^causal-review: --config .*: checks\.sleep-fix\.options: unknown key "minimumMS" \(its options are minimumMs\)$/],
    ['an option of the wrong type', ['--repo', repo.dir, '--config', badOption], /^causal-review: --config .*: checks\.sleep-fix\.options\.minimumMs: must be a number, like its default 10$/],
    ['an unknown key in the chaos section', ['--repo', repo.dir, '--config', unknownChaos], /^causal-review: --config .*: chaos\.vcluster: unknown key "quotaa"$/],
    ['an empty --config=', ['--repo', repo.dir, '--config='], /^causal-review: --config: needs a value, got an empty one$/],
    ['a flag given twice', ['--repo', repo.dir, '--base', 'main', '--base', 'main~1'], /^causal-review: --base given twice \(main, then main~1\): give it once$/],
    ['a bad --format', ['--repo', repo.dir, '--format', 'xml'], /^causal-review: --format xml: must be one of text, json, sarif$/],
    ['an unreadable --pr-description', ['--repo', repo.dir, '--pr-description', join(dir, 'missing.md')], /^causal-review: --pr-description .*missing\.md: no such file$/],
    ['an unknown option', ['--repo', repo.dir, '--bogus'], /^causal-review: unknown option '--bogus'/],
    ['a missing option value', ['--repo'], /^causal-review: .*--repo/],
    ['--all with --base', ['--all', '--base', 'main', '--repo', repo.dir], /^causal-review: --all .* takes no --base$/],
    ['a bad --jobs', ['--repo', repo.dir, '--jobs', '0'], /^causal-review: --jobs 0: must be auto or a whole number from 1 to 64$/],
  ])('%s', async (_, args, message) => {
    const r = await run('analyze', ...args, ...(args.includes('--format') ? [] : ['--format', 'json']));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.split('\n')).toHaveLength(2); // one line and its newline
    expect(r.err.trimEnd()).toMatch(message);
  });

  it('a bad --repo with --all and --jobs 2 exits 2 and leaves no parse thread behind (it starts before git is read)', async () => {
    const threads = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
    const before = threads();
    for (const repo of [dir, join(dir, 'nope')]) {
      const r = await run('analyze', '--all', '--jobs', '2', '--repo', repo, '--format', 'json');
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^causal-review: --repo .*: (not a git repository|no such directory)/);
    }
    expect(threads()).toBe(before);
  });

  it('an unknown command, and no command at all', async () => {
    expect(await run('analyse')).toMatchObject({ code: 2, out: '', err: 'causal-review: unknown command "analyse"; try causal-review --help\n' });
    expect((await run()).code).toBe(2);
  });
});

describe('help, version and delegated commands', () => {
  it('prints help for the tool and each command, and the version', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    for (const command of ['analyze', 'demo', 'docs', 'chaos', 'protect', 'serve']) expect(top.out).toContain(command);
    const analyze = await run('analyze', '--help');
    expect(analyze.out).toContain('--pr-description FILE');
    expect(analyze.out).toMatch(/Exit codes:[\s\S]*2 {2}bad input/);
    expect(await run('help', 'analyze')).toEqual(analyze);
    expect((await run('serve', '--bogus')).err).toBe("causal-review: unknown option '--bogus'\n");
    expect((await run('demo', '--help')).out).toContain('Usage: causal-review demo');
    expect((await run('docs', '--help')).out).toContain('--check');
    expect((await run('serve', '--help')).code).toBe(0);
    const chaos = await run('chaos', '--help');
    expect(chaos).toMatchObject({ code: 0, err: '' });
    expect(chaos.out).toMatch(/causal-review chaos plan/);
    expect(await run('--version')).toMatchObject({ code: 0, out: expect.stringMatching(/^\d+\.\d+\.\d+\n$/) });
  });

  it('demo in the other formats: the same verdict as JSON', async () => {
    const r = await run('demo', '--format', 'json');
    const out = JSON.parse(r.out);
    expect(out).toMatchObject({ conclusion: 'failure', aiAuthored: true });
    expect(out.findings).toContainEqual(expect.objectContaining({ checkId: 'sleep-fix', path: 'internal/controller/database_controller.go', line: 44, blocking: true }));
    expect(r.code).toBe(1);
    expect(await run('demo', '--format', 'xml')).toMatchObject({ code: 2, out: '', err: 'causal-review: --format xml: must be one of checkrun, text, json, sarif\n' });
  });

  it('delegates protect to the app engineer\'s command, which sees our streams and environment', async () => {
    const io = captureIo({});
    const code = await main(['protect'], io);
    // no token and no repository: the delegated command's own usage error, not "not available"
    expect(code).toBe(2);
    expect(io.err()).not.toContain('not available');
    expect(io.out() + io.err()).toMatch(/protect/);
  });
});

describe('the real bin/causal-review.js process', () => {
  const bin = fileURLToPath(new URL('../../bin/causal-review.js', import.meta.url));
  const spawnCli = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, encoding: 'utf8' }, (error, out, err) => {
        resolve({ code: error ? Number(error.code) : 0, out, err });
      });
    });

  it('analyze --format json: exit 1, clean stdout', async () => {
    const repo = sleepPr();
    const r = await spawnCli(['analyze', '--repo', repo.dir, '--format', 'json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).conclusion).toBe('failure');
  });

  it('--jobs 2 (a parse thread) and --jobs 3 (packages in three threads) find exactly what one thread finds', async () => {
    const repo = TestRepo.init();
    const files: Record<string, string> = {};
    for (const pkg of ['alpha', 'beta', 'gamma', 'delta']) {
      files[`internal/${pkg}/${pkg}_controller.go`] = reconciler('_ = ctx', 'time.Sleep(5 * time.Second)').replaceAll('Widget', pkg[0]!.toUpperCase() + pkg.slice(1));
      files[`internal/${pkg}/helpers.go`] = 'package controller\n\nfunc helper() {}\n';
    }
    repo.commit('operators', files);
    const args = ['analyze', '--all', '--repo', repo.dir, '--format', 'json', '--jobs'];
    // the threads are the bundle's own entries, or the sources through tsx when the CLI runs them
    const stats = { CAUSAL_REVIEW_THREAD_STATS: '1' };
    const [one, two, twoFromSources, three, threeFromSources] = await Promise.all([
      spawnCli([...args, '1']),
      spawnCli([...args, '2'], stats),
      spawnCli([...args, '2'], { ...stats, CAUSAL_REVIEW_NO_BUNDLE: '1' }),
      spawnCli([...args, '3']),
      spawnCli([...args, '3'], { CAUSAL_REVIEW_NO_BUNDLE: '1' }),
    ]);
    const a = JSON.parse(one.out);
    expect(a.findings).toHaveLength(4);
    for (const run of [two, twoFromSources]) {
      // every Go text's tree came from the parse thread or was made here (where the thread had not begun
      // it), and the thread did not fail: five texts, the four helpers.go being one
      const [, fromThread, here] = /^parse thread: (\d+) Go trees from the parse thread, (\d+) parsed in the main thread\n$/.exec(run.err) ?? [];
      expect(Number(fromThread) + Number(here), run.err).toBe(5);
      run.err = '';
    }
    for (const run of [two, twoFromSources, three, threeFromSources]) {
      expect(run.err).toBe('');
      expect(run.code).toBe(one.code);
      const b = JSON.parse(run.out);
      expect(b).toEqual(a);
      // a worker that failed would have left a note, and its part would have run in the main thread
      expect(JSON.stringify(b.notes ?? [])).not.toMatch(/main thread/);
    }
  });

  it('runs the same from its start-up bundle and from the sources through tsx', async () => {
    const repo = sleepPr();
    // the bundle must load: falling back to the sources would pass this test at the slower start
    const fromBundle = { CAUSAL_REVIEW_BUNDLE_REQUIRED: '1' };
    const fromSources = { CAUSAL_REVIEW_NO_BUNDLE: '1' };
    const args = ['analyze', '--repo', repo.dir, '--base', 'main', '--format', 'json'];
    const [bundled, sources] = await Promise.all([spawnCli(args, fromBundle), spawnCli(args, fromSources)]);
    expect(bundled.code).toBe(1);
    expect(sources.code).toBe(1);
    expect(JSON.parse(bundled.out)).toEqual(JSON.parse(sources.out));
    // yaml, ajv and picomatch are in the bundle: a configuration read and checked there, a good one and a bad one
    const dir = tempDir();
    const good = join(dir, 'good.yml');
    const bad = join(dir, 'bad.yml');
    writeFileSync(good, 'enforce: all\npaths:\n  ignore: ["docs/**"]\n');
    writeFileSync(bad, 'enforce: always\n');
    const commands = [['--version'], ['chaos', '--help'], ['protect', '--help'], ['docs', '--help'], [...args, '--config', good], [...args, '--config', bad]];
    for (const command of commands) {
      const [b, t] = await Promise.all([spawnCli(command, fromBundle), spawnCli(command, fromSources)]);
      expect([b.code, b.out, b.err], command.join(' ')).toEqual([t.code, t.out, t.err]);
      if (command[0] !== 'analyze') expect(b.code).toBe(0);
    }
    const [withGood, withBad] = await Promise.all([spawnCli([...args, '--config', good], fromBundle), spawnCli([...args, '--config', bad], fromBundle)]);
    expect(withGood.code).toBe(1);
    expect(withBad.code).toBe(2);
    expect(withBad.err).toMatch(/enforce/);
  });

  it.runIf(existsSync('/dev/full'))('a report it cannot write (a full disk) is one line on stderr and exit 2, not a verdict', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, [bin, 'demo', '--format', 'json'], { stdio: ['ignore', full, 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(2);
      expect(err).toMatch(/^causal-review: cannot write the output to stdout \(ENOSPC\)[^\n]*\n$/);
    } finally {
      closeSync(full);
    }
  });

  it('bad input: exit 2 and one line', async () => {
    const r = await spawnCli(['analyze', '--repo', tempDir()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^causal-review: --repo .*: not a git repository[^\n]*\n$/);
  });

  it('demo: the check run of the bundled PR fails on the sleep, with no colour when piped', async () => {
    const r = await spawnCli(['demo'], { FORCE_COLOR: '1' });
    expect(r.code).toBe(1);
    expect(r.out).toContain('Check run "causal-review": failure');
    expect(r.out).toContain('internal/controller/database_controller.go:44 [failure] sleep-fix');
    expect(r.out).not.toContain('\x1b[');
  });
});
