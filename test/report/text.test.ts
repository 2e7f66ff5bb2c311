// The text report: grouped by file, source lines, messages, advice, verdict and authorship; no ANSI unless asked.

import { describe, expect, it } from 'vitest';
import { renderText, sourceLines, wantsColor } from '../../src/report/text.js';
import { GO_WITH_FINDINGS, markCheck, verdictFor } from './verdicts.js';

const read = async (path: string) => (GO_WITH_FINDINGS as Record<string, string>)[path];

describe('text report', () => {
  it('groups findings by file with path:line, check, severity, source line, message and advice', async () => {
    const verdict = await verdictFor(GO_WITH_FINDINGS, { ai: true, body: 'The root cause is the API server.' });
    const text = renderText(verdict, { color: false, sources: await sourceLines(verdict, read), checks: [markCheck] });
    expect(text).toContain('PR title, description and commit messages\n  pr-text:1  sleep-fix (error, blocking)');
    expect(text).toContain('internal/controller/db.go\n  internal/controller/db.go:4  sleep-fix (error, blocking)\n    | time.Sleep(time.Second) // MARK\n    A wait "fixes" a race here.');
    expect(text).toContain('internal/controller/db.go:5-6  sleep-fix (warning, advisory)');
    expect(text).toContain('advice: flagged and accepted examples in docs/checks.md#sleep-fix');
    expect(text).toMatch(/\nfailure: 2 blocking findings on an AI-authored PR\.\nAI-authored: yes \(commit \w+ has the trailer "Co-Authored-By: Claude <noreply@anthropic.com>"\)\n$/);
    expect(text).not.toContain('clean.go');
    expect(text).not.toMatch(/\x1b\[/);
  });

  it('gives a finding\'s own replacement as the advice when it has one', async () => {
    const verdict = await verdictFor(GO_WITH_FINDINGS, { ai: true });
    verdict.findings[0]!.suggestion = { startLine: 4, endLine: 4, replacement: '\treturn ctrl.Result{RequeueAfter: 5 * time.Second}, nil\n' };
    const text = renderText(verdict, { color: false, checks: [markCheck] });
    expect(text).toContain('advice: replace line 4 with: return ctrl.Result{RequeueAfter: 5 * time.Second}, nil\n');
  });

  it('says when there is nothing, and why a PR does not count as AI-authored', async () => {
    const text = renderText(await verdictFor({ 'a.go': 'package a\n' }), { color: false });
    expect(text).toBe('No findings.\n\nsuccess: No blocking findings.\nAI-authored: no (no agent trailer, bot author, "Generated with" marker, label or branch prefix)\n');
  });

  it('colours only when asked, and never passes control characters from the PR through', async () => {
    const verdict = await verdictFor({ 'a.go': 'package a\n// MARK \x1b[2J\x07\n' }, { ai: true });
    const plain = renderText(verdict, { color: false, sources: await sourceLines(verdict, async () => 'package a\n// MARK \x1b[2J\x07\n') });
    const coloured = renderText(verdict, { color: true });
    expect(plain).toContain('| // MARK ?[2J?');
    expect(plain).not.toContain('\x1b');
    // nor from a file's name
    const named = await verdictFor({ 'esc\x1b[31mRED.go': 'package a\n// MARK\n' }, { ai: true });
    const text = renderText(named, { color: false });
    expect(text).toContain('esc?[31mRED.go:2');
    expect(text).not.toContain('\x1b');
    expect(coloured).toContain('\x1b[31msleep-fix (error, blocking)\x1b[0m');
  });

  it('honours NO_COLOR and non-TTY output', () => {
    expect(wantsColor({ isTTY: true }, {})).toBe(true);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor({ isTTY: false }, {})).toBe(false);
    expect(wantsColor({}, {})).toBe(false);
  });
});
