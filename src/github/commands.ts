// `/causal-review recheck` and `/causal-review accept <check-id or fingerprint> -- <reason>` in
// PR comments, and who may give them. Parsed with indexOf on a bounded first line.

import type { Octokit } from './snapshot.js';

export type Command =
  | { kind: 'recheck' }
  | { kind: 'accept'; target: string; reason: string }
  | { kind: 'invalid'; why: string };

const PREFIX = '/causal-review';
const MAX_LINE = 1_000;

/** The command on the comment's first non-empty line, or undefined when the comment is not for us. */
export function parseCommand(body: string): Command | undefined {
  const text = body.slice(0, 10_000).replace(/^\s+/, '');
  if (!text.startsWith(PREFIX)) return undefined;
  const newline = text.indexOf('\n');
  const line = (newline === -1 ? text : text.slice(0, newline)).slice(0, MAX_LINE).trim();
  const rest = line.slice(PREFIX.length);
  if (rest !== '' && rest[0] !== ' ' && rest[0] !== '\t') return undefined;
  const words = rest.trim();
  if (words === 'recheck') return { kind: 'recheck' };
  if (words === 'accept' || words.startsWith('accept ')) {
    const separator = words.indexOf(' -- ');
    const target = (separator === -1 ? words.slice(6) : words.slice(6, separator)).trim();
    const reason = separator === -1 ? '' : words.slice(separator + 4).trim();
    if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(target)) {
      return { kind: 'invalid', why: 'name one check id or finding fingerprint: `/causal-review accept <check-id or fingerprint> -- <reason>`' };
    }
    if (reason.length < 3) return { kind: 'invalid', why: 'an acceptance needs a reason after ` -- `, e.g. what you observed that confirms the diagnosis' };
    return { kind: 'accept', target, reason: reason.slice(0, 500) };
  }
  return { kind: 'invalid', why: 'the commands are `/causal-review recheck` and `/causal-review accept <check-id or fingerprint> -- <reason>`' };
}

/** Write, maintain or admin on the repository: the people whose overrides count. */
export async function canOverride(octokit: Octokit, owner: string, repo: string, username: string): Promise<boolean> {
  try {
    const { data } = await octokit.request('GET /repos/{owner}/{repo}/collaborators/{username}/permission', { owner, repo, username });
    const role = (data as { role_name?: string }).role_name ?? '';
    return data.permission === 'admin' || data.permission === 'write' || ['admin', 'maintain', 'write'].includes(role);
  } catch (error) {
    // not a collaborator at all
    if ((error as { status?: number }).status === 404) return false;
    throw error;
  }
}
