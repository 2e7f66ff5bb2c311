// Review comments planned from a verdict: which findings get a comment on the diff, which of our
// earlier comments are now resolved. Pure; src/github/ posts the plan as one review per head SHA.

import { PR_TEXT_PATH, type ChangedFile, type ReviewedFinding, type Verdict } from '../engine/types.js';
import { escapeMarkdown, fenced } from './checkrun.js';

const FINGERPRINT_OPEN = '<!-- causal-review:finding ';
const RESOLVED_MARK = '<!-- causal-review:resolved -->';
const MARKER_CLOSE = ' -->';
/** A review with hundreds of comments helps nobody; the rest stay annotations. */
export const MAX_REVIEW_COMMENTS = 30;

export interface PlannedComment {
  path: string;
  line: number;
  start_line?: number;
  side: 'RIGHT';
  start_side?: 'RIGHT';
  body: string;
  fingerprint: string;
}

/** One of our earlier review comments, as read back from the PR. */
export interface PostedComment {
  id: number;
  body: string;
  /** set when someone answered it: then we leave it alone */
  replied: boolean;
}

export interface ReviewPlan {
  comments: PlannedComment[];
  /** our comments whose finding is gone, with the body to edit them to */
  resolve: { id: number; body: string }[];
}

export function fingerprintIn(body: string): string | undefined {
  const at = body.indexOf(FINGERPRINT_OPEN);
  if (at === -1) return undefined;
  const end = body.indexOf(MARKER_CLOSE, at + FINGERPRINT_OPEN.length);
  const value = end === -1 ? '' : body.slice(at + FINGERPRINT_OPEN.length, end);
  return /^[0-9a-f]{1,64}$/.test(value) ? value : undefined;
}

export function isResolved(body: string): boolean {
  return body.includes(RESOLVED_MARK);
}

/**
 * The head lines a review comment may sit on: GitHub takes comments on lines inside a hunk
 * (added or context), not elsewhere in the file.
 */
function commentableLines(file: ChangedFile): (line: number) => boolean {
  return (line) => file.hunks.some((h) => line >= h.headStart && line < h.headStart + h.headLines);
}

/** Worth a comment: blocking, or an error-level advisory, or a mechanical fix to offer. Notices stay annotations. */
function deservesComment(f: ReviewedFinding): boolean {
  if (f.accepted || f.path === PR_TEXT_PATH) return false;
  return f.blocking || f.severity === 'error' || (f.severity === 'warning' && !!f.suggestion);
}

export function commentBody(f: ReviewedFinding, suggestionFits: boolean): string {
  const parts = [`**${escapeMarkdown(f.checkId, 60)}**${f.blocking ? ' (blocking)' : ''}: ${escapeMarkdown(f.message, 4_000)}`];
  if (f.suggestion && suggestionFits) parts.push('', fenced(f.suggestion.replacement.slice(0, 4_000), 'suggestion'));
  parts.push('', `If this is right as written, someone with write access can reply \`/causal-review accept ${f.fingerprint} -- <reason>\` on the PR.`);
  parts.push(`${FINGERPRINT_OPEN}${f.fingerprint}${MARKER_CLOSE}`);
  return parts.join('\n');
}

export function resolvedBody(previous: string, headSha: string): string {
  const fingerprint = fingerprintIn(previous) ?? '';
  return [
    `~~causal-review finding~~ resolved: no longer reported as of ${headSha.slice(0, 12)} (fixed, or accepted by a maintainer).`,
    `${FINGERPRINT_OPEN}${fingerprint}${MARKER_CLOSE}`,
    RESOLVED_MARK,
  ].join('\n');
}

export function planReview(verdict: Verdict, files: readonly ChangedFile[], posted: readonly PostedComment[], headSha: string): ReviewPlan {
  const byPath = new Map(files.map((f) => [f.path, commentableLines(f)]));
  const open = new Set(posted.filter((c) => !isResolved(c.body)).map((c) => fingerprintIn(c.body)).filter(Boolean));
  // an accepted finding's comment is settled too
  const current = new Set(verdict.findings.filter((f) => !f.accepted).map((f) => f.fingerprint));
  const comments: PlannedComment[] = [];
  const planned = new Set<string>();
  for (const f of verdict.findings) {
    if (comments.length >= MAX_REVIEW_COMMENTS) break;
    if (!deservesComment(f) || open.has(f.fingerprint) || planned.has(f.fingerprint)) continue;
    const inDiff = byPath.get(f.path);
    const end = f.endLine ?? f.line;
    if (!inDiff || !inDiff(f.line) || !inDiff(end)) continue;
    const s = f.suggestion;
    const suggestionFits = !!s && s.startLine <= s.endLine && inDiff(s.startLine) && inDiff(s.endLine);
    // a suggestion replaces exactly the lines the comment spans
    const first = suggestionFits ? s.startLine : f.line;
    const last = suggestionFits ? s.endLine : end;
    comments.push({
      path: f.path,
      line: last,
      ...(first < last ? { start_line: first, start_side: 'RIGHT' as const } : {}),
      side: 'RIGHT',
      body: commentBody(f, suggestionFits),
      fingerprint: f.fingerprint,
    });
    planned.add(f.fingerprint);
  }
  const resolve = posted
    .filter((c) => !c.replied && !isResolved(c.body))
    .filter((c) => {
      const fingerprint = fingerprintIn(c.body);
      return fingerprint !== undefined && !current.has(fingerprint);
    })
    .map((c) => ({ id: c.id, body: resolvedBody(c.body, headSha) }));
  return { comments, resolve };
}
