// Running git: always through execFile/spawn with an argument array (never a shell), with bounded
// output, and with errors worded for the one line the CLI prints.

import { execFile } from 'node:child_process';

/** A problem with what the user asked for (not a repository, an unknown ref): the CLI exits 2 on it. */
export class GitInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitInputError';
  }
}

/** Options every git call gets: stable, script-friendly output whatever the user's git config says. */
export const GIT_FLAGS = ['-c', 'core.quotePath=false', '-c', 'color.ui=false', '-c', 'diff.noprefix=false'];

/** What git needs in its environment: no prompts, no pager, no locale-dependent messages. */
export function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_PAGER: 'cat', PAGER: 'cat', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' };
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Run git in `cwd`; resolves with its exit code rather than throwing, so callers word their own errors. */
export function runGit(cwd: string, args: string[], maxBytes = 64 * 1024 * 1024): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...GIT_FLAGS, ...args],
      { cwd, env: gitEnv(), maxBuffer: maxBytes, encoding: 'utf8', windowsHide: true },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') {
          // spawn failures (git missing, cwd missing) and maxBuffer overruns have no numeric exit code
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
            reject(new GitInputError(`cannot run git in ${cwd}: ${error.message.includes('spawn git') ? 'git is not installed' : 'no such directory'}`));
          } else {
            reject(new Error(`git ${args[0]} in ${cwd}: ${error.message}`));
          }
          return;
        }
        resolve({ stdout, stderr, code: error ? Number(error.code) : 0 });
      },
    );
  });
}

/** Run git and return stdout; a non-zero exit is an error that quotes git's first line. */
export async function git(cwd: string, args: string[], maxBytes?: number): Promise<string> {
  const result = await runGit(cwd, args, maxBytes);
  if (result.code !== 0) {
    const first = result.stderr.split('\n').find((l) => l.trim()) ?? `exit ${result.code}`;
    throw new Error(`git ${args[0]} failed in ${cwd}: ${first.trim()}`);
  }
  return result.stdout;
}
