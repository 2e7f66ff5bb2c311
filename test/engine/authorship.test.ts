// Authorship: which signals make a PR count as AI-authored, and which do not.

import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { detectAuthorship } from '../../src/engine/authorship.js';
import { memorySnapshot, type MemoryPullRequest } from '../../src/engine/memory.js';

const detect = (pr: Partial<MemoryPullRequest>) => detectAuthorship(memorySnapshot({ base: {}, head: {}, ...pr }), structuredClone(DEFAULT_CONFIG));

describe('detectAuthorship', () => {
  it.each([
    ['Co-Authored-By: Claude <noreply@anthropic.com>'],
    ['Co-authored-by: Copilot <198982749+Copilot@users.noreply.github.com>'],
    ['Co-Authored-By: devin-ai-integration[bot] <158243242+devin-ai-integration[bot]@users.noreply.github.com>'],
    ['Co-authored-by: aider (gpt-4o) <noreply@aider.chat>'],
    ['Co-Authored-By: Cursor Agent <cursoragent@cursor.com>'],
    ['Co-authored-by: Gemini <gemini@google.com>'],
  ])('counts the trailer %s', (trailer) => {
    const result = detect({ commits: [`fix race\n\n${trailer}`] });
    expect(result.aiAuthored).toBe(true);
    expect(result.reasons[0]).toContain('trailer');
  });

  it('counts agent bot commit authors and PR openers', () => {
    expect(detect({ commits: [{ message: 'x', author: { name: 'Copilot', email: 'c@x', login: 'copilot-swe-agent[bot]' } }] }).aiAuthored).toBe(true);
    expect(detect({ author: { login: 'devin-ai-integration[bot]', type: 'Bot' } }).aiAuthored).toBe(true);
  });

  it('counts a Generated-with marker, a label and a branch prefix', () => {
    expect(detect({ body: 'Fixes it.\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)' }).reasons[0]).toMatch(/Generated with/);
    expect(detect({ labels: ['ai-generated'] }).aiAuthored).toBe(true);
    expect(detect({ headRef: 'copilot/fix-race' }).aiAuthored).toBe(true);
  });

  it.each([
    ['a human commit', { commits: ['fix: requeue instead of sleeping\n\nSigned-off-by: Jane <jane@example.com>'] }],
    ['dependabot', { author: { login: 'dependabot[bot]', type: 'Bot' }, commits: [{ message: 'bump', author: { name: 'dependabot[bot]', email: '49699333+dependabot[bot]@users.noreply.github.com' } }] }],
    ['a human co-author', { commits: ['x\n\nCo-authored-by: Jane Doe <jane@example.com>'] }],
    ['a body that mentions an agent without a marker', { body: 'I asked whether Claude would fix it; it did not.' }],
    ['an unrelated label and branch', { labels: ['bug'], headRef: 'fix/copilot-docs' }],
  ] as [string, Partial<MemoryPullRequest>][])('does not count %s', (_, pr) => {
    expect(detect(pr)).toEqual({ aiAuthored: false, reasons: [] });
  });
});
