// Verdicts for the reporter tests, made by the real engine with a stand-in check, so the
// reporters are tested on the shapes the engine really produces.

import { DEFAULT_CONFIG } from '../../src/config/schema.js';
import { review } from '../../src/engine/engine.js';
import { memorySnapshot } from '../../src/engine/memory.js';
import { PR_TEXT_PATH, type Check, type Verdict } from '../../src/engine/types.js';

/** Flags every line containing MARK (error) or NOTE (warning), and the PR body when it says "root cause". */
export const markCheck: Check = {
  id: 'sleep-fix',
  title: 'Sleep used to fix a race',
  docs: {
    summary: 'Flags waits added to fix races.',
    details: 'Stays silent on waits in tests of timing itself.',
    bad: { language: 'go', code: 'time.Sleep(5 * time.Second)' },
    good: { language: 'go', code: 'return ctrl.Result{}, nil // the watch requeues us', note: 'let the watch trigger the next reconcile' },
  },
  defaultSeverity: 'error',
  languages: ['go'],
  run(ctx) {
    for (const file of ctx.files) {
      file.lines.forEach((line, i) => {
        if (line.includes('MARK')) ctx.report({ path: file.path, line: i + 1, message: `A wait "fixes" a race here. Wait for the event instead.`, evidence: line.trim() });
        if (line.includes('NOTE')) ctx.report({ path: file.path, line: i + 1, endLine: i + 2, severity: 'warning', message: 'Advisory.' });
      });
    }
    if (ctx.pr.body.includes('root cause')) ctx.report({ path: PR_TEXT_PATH, line: 1, message: 'The PR states a root cause with nothing observed behind it.' });
  },
};

export const AI_COMMIT = 'fix\n\nCo-Authored-By: Claude <noreply@anthropic.com>';

export async function verdictFor(head: Record<string, string>, options: { body?: string; ai?: boolean } = {}): Promise<Verdict> {
  const snapshot = memorySnapshot({ base: {}, head, body: options.body ?? '', commits: [options.ai ? AI_COMMIT : 'fix'] });
  return review(snapshot, { config: structuredClone(DEFAULT_CONFIG), checks: [markCheck] });
}

export const GO_WITH_FINDINGS = {
  'internal/controller/db.go': ['package controller', '', 'func f() {', '\ttime.Sleep(time.Second) // MARK', '\tx() // NOTE', '}', ''].join('\n'),
  'clean.go': 'package controller\n',
};
