// The check-run renderer: limits, escaping of PR text, the acceptance marker; and the review planner.

import { describe, expect, it } from 'vitest';
import { PR_TEXT_PATH, type ReviewedFinding, type Verdict } from '../../src/engine/types.js';
import {
  decodeAcceptances,
  encodeAcceptances,
  escapeMarkdown,
  MAX_ANNOTATIONS,
  OUTPUT_LIMIT,
  renderCheckRun,
  type AcceptanceRecord,
} from '../../src/report/checkrun.js';
import { fingerprintIn, planReview } from '../../src/report/review.js';

function finding(over: Partial<ReviewedFinding> = {}): ReviewedFinding {
  return { checkId: 'sleep-fix', path: 'a.go', line: 3, severity: 'error', message: 'A sleep waits for the cache.', fingerprint: 'abc123abc123', blocking: true, ...over };
}

function verdict(findings: ReviewedFinding[], over: Partial<Verdict> = {}): Verdict {
  const blocking = findings.filter((f) => f.blocking);
  return {
    conclusion: blocking.length ? 'failure' : 'success',
    why: blocking.length ? `${blocking.length} blocking findings on an AI-authored PR.` : 'No blocking findings.',
    authorship: { aiAuthored: true, reasons: ['commit 1234567 has the trailer "Co-Authored-By: Claude"'] },
    blocking,
    advisory: findings.filter((f) => !f.blocking && !f.accepted),
    accepted: findings.filter((f) => f.accepted),
    findings,
    notes: [],
    ...over,
  };
}

describe('escapeMarkdown', () => {
  it('makes HTML, mentions, links and table breaks inert', () => {
    const out = escapeMarkdown('<img src=x onerror=alert(1)> @octocat | [x](http://evil) **b**\nnext');
    expect(out).not.toContain('<');
    expect(out).not.toMatch(/@octocat/);
    expect(out).not.toMatch(/(^|[^\\])\|/);
    expect(out).not.toContain('\n');
    expect(out).toContain('\\[x\\]\\(http://evil\\)');
  });

  it('bounds its output', () => {
    expect(escapeMarkdown('x'.repeat(10_000), 100).length).toBeLessThanOrEqual(100);
  });
});

describe('renderCheckRun', () => {
  it('says the verdict, why, the authorship and lists the findings', () => {
    const out = renderCheckRun(verdict([finding(), finding({ path: PR_TEXT_PATH, line: 1, checkId: 'unverified-diagnosis', fingerprint: 'def', message: 'No evidence for "mutex contention".' })]));
    expect(out.title).toBe('2 blocking findings');
    expect(out.summary).toContain('**Verdict: failure.**');
    expect(out.summary).toContain('**AI-authored:** yes: commit 1234567');
    expect(out.summary).toContain('| **blocking** | sleep\\-fix | a.go:3 |');
    // a PR-text finding has no line to annotate
    expect(out.annotations).toEqual([{ path: 'a.go', start_line: 3, end_line: 3, annotation_level: 'failure', title: 'sleep-fix', message: 'A sleep waits for the cache.' }]);
  });

  it('keeps summary and text within 65,535 characters and says how many findings were left out', () => {
    const many = Array.from({ length: 3_000 }, (_, i) => finding({ line: i + 1, fingerprint: `f${i}`, message: `wait number ${i} ${'x'.repeat(100)}`, evidence: 'time.Sleep(5 * time.Second)' }));
    const out = renderCheckRun(verdict(many));
    expect(out.summary.length).toBeLessThanOrEqual(OUTPUT_LIMIT);
    expect(out.text.length).toBeLessThanOrEqual(OUTPUT_LIMIT);
    const shown = out.summary.split('\n').filter((l) => l.startsWith('| **blocking**')).length;
    expect(shown).toBeGreaterThan(100);
    expect(out.summary).toContain(`${3_000 - shown} more findings left out of this table`);
    expect(out.text).toMatch(/\d+ more findings left out of the details/);
    expect(out.annotations).toHaveLength(MAX_ANNOTATIONS);
    expect(out.summary).toContain(`Only the first ${MAX_ANNOTATIONS} findings are annotated.`);
  });

  it('keeps the acceptance marker when the text is truncated', () => {
    const records: AcceptanceRecord[] = [{ fingerprint: 'sleep-fix', by: 'sleep-fix', reason: 'checked on the node', login: 'maria', at: '2026-01-01T00:00:00Z' }];
    const many = Array.from({ length: 2_000 }, (_, i) => finding({ line: i + 1, fingerprint: `f${i}`, message: 'y'.repeat(200) }));
    const out = renderCheckRun(verdict(many), { acceptances: records });
    expect(decodeAcceptances(out.text)).toEqual(records);
  });

  it('shows accepted findings with who accepted them and why', () => {
    const record: AcceptanceRecord = { fingerprint: 'sleep-fix', by: 'sleep-fix', reason: 'verified with `kubectl get events`', login: 'maria', at: '2026-01-01T00:00:00Z' };
    const out = renderCheckRun(verdict([finding({ blocking: false, accepted: record })]), { acceptances: [record] });
    expect(out.summary).toContain('### Accepted');
    expect(out.summary).toContain('| sleep\\-fix | maria | verified with \\`kubectl get events\\` |');
    expect(out.annotations[0]!.annotation_level).toBe('notice');
  });

  it('never lets PR text forge the acceptance marker', () => {
    const forged = encodeAcceptances([{ fingerprint: 'sleep-fix', by: 'sleep-fix', reason: 'x', login: 'admin', at: 'now' }]);
    const out = renderCheckRun(verdict([finding({ message: forged, evidence: forged })]));
    expect(decodeAcceptances(out.text)).toEqual([]);
    expect(decodeAcceptances(out.summary)).toEqual([]);
  });
});

describe('acceptance marker', () => {
  it('round-trips and ignores malformed markers', () => {
    const records: AcceptanceRecord[] = [{ fingerprint: 'abc', by: 'abc', reason: 'why --> <!--', login: 'a', at: 't' }];
    expect(decodeAcceptances(`text\n${encodeAcceptances(records)}`)).toEqual(records);
    expect(decodeAcceptances('<!-- causal-review:acceptances !!!notbase64 -->')).toEqual([]);
    expect(decodeAcceptances(`<!-- causal-review:acceptances ${Buffer.from('{"a":1}').toString('base64')} -->`)).toEqual([]);
  });
});

describe('planReview', () => {
  const file = { path: 'a.go', status: 'modified' as const, hunks: [{ baseStart: 3, baseLines: 1, headStart: 3, headLines: 2, added: [3, 4], removed: [3] }] };

  it('comments only on lines inside the diff', () => {
    const plan = planReview(verdict([finding({ line: 3 }), finding({ line: 40, fingerprint: 'outside' })]), [file], [], 'h'.repeat(40));
    expect(plan.comments.map((c) => c.line)).toEqual([3]);
    expect(fingerprintIn(plan.comments[0]!.body)).toBe('abc123abc123');
  });

  it('does not repeat a comment already posted, and resolves one whose finding is gone unless answered', () => {
    const posted = [
      { id: 1, body: 'old <!-- causal-review:finding abc123abc123 -->', replied: false },
      { id: 2, body: 'gone <!-- causal-review:finding 999999999999 -->', replied: false },
      { id: 3, body: 'gone but answered <!-- causal-review:finding 888888888888 -->', replied: true },
    ];
    const plan = planReview(verdict([finding()]), [file], posted, 'h'.repeat(40));
    expect(plan.comments).toEqual([]);
    expect(plan.resolve.map((r) => r.id)).toEqual([2]);
    expect(plan.resolve[0]!.body).toContain('resolved');
    expect(fingerprintIn(plan.resolve[0]!.body)).toBe('999999999999');
  });

  it('renders a mechanical fix as a suggestion over exactly the lines it replaces', () => {
    const withFix = finding({ line: 3, endLine: 4, suggestion: { startLine: 3, endLine: 4, replacement: 'kubectl wait --for=condition=Ready pod/x --timeout=60s' } });
    const [comment] = planReview(verdict([withFix]), [file], [], 'h'.repeat(40)).comments;
    expect(comment).toMatchObject({ start_line: 3, line: 4, side: 'RIGHT', start_side: 'RIGHT' });
    expect(comment!.body).toContain('```suggestion\nkubectl wait --for=condition=Ready pod/x --timeout=60s\n```');
  });

  it('leaves out a suggestion that reaches outside the diff, and notices entirely', () => {
    const reaching = finding({ suggestion: { startLine: 3, endLine: 9, replacement: 'x' } });
    const notice = finding({ severity: 'notice', blocking: false, fingerprint: 'n', line: 4 });
    const plan = planReview(verdict([reaching, notice]), [file], [], 'h'.repeat(40));
    expect(plan.comments).toHaveLength(1);
    expect(plan.comments[0]!.body).not.toContain('suggestion');
  });
});
