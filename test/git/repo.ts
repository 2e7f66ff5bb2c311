// Real git repositories in a temp dir for the adapter and CLI tests: write files, commit with a
// fixed author, branch, clone. Isolated from the machine's git config.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const GIT_TEST_ENV = {
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Dev',
  GIT_AUTHOR_EMAIL: 'dev@example.com',
  GIT_COMMITTER_NAME: 'Dev',
  GIT_COMMITTER_EMAIL: 'dev@example.com',
};

const temps: string[] = [];

export function tempDir(prefix = 'causal-review-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Remove every temp dir made so far (call from afterAll). */
export function cleanTemps(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export class TestRepo {
  constructor(readonly dir: string) {}

  static init(branch = 'main'): TestRepo {
    const repo = new TestRepo(tempDir());
    repo.git('init', '-q', '-b', branch);
    repo.git('config', 'commit.gpgsign', 'false');
    return repo;
  }

  git(...args: string[]): string {
    return execFileSync('git', args, { cwd: this.dir, env: { ...process.env, ...GIT_TEST_ENV }, encoding: 'utf8' });
  }

  /** Write files (null deletes), stage everything, commit; returns the new commit's sha. */
  commit(message: string, files: Record<string, string | null>, author?: { name: string; email: string }): string {
    for (const [path, text] of Object.entries(files)) {
      const full = join(this.dir, path);
      if (text === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, text);
      }
    }
    this.git('add', '-A');
    const env = author ? { GIT_AUTHOR_NAME: author.name, GIT_AUTHOR_EMAIL: author.email } : {};
    execFileSync('git', ['commit', '-q', '--allow-empty', '-m', message], {
      cwd: this.dir,
      env: { ...process.env, ...GIT_TEST_ENV, ...env },
    });
    return this.git('rev-parse', 'HEAD').trim();
  }

  write(path: string, text: string): string {
    const full = join(this.dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
    return full;
  }
}

/** A Go file in package controller with the given body lines. */
export function goFile(...lines: string[]): string {
  return ['package controller', '', ...lines, ''].join('\n');
}
