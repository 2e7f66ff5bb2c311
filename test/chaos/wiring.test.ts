// The chaos workflow, its docs and the app must agree on names, or results never reach the PR.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CHAOS_ARTIFACT, CHAOS_WORKFLOW_FILE } from '../../src/github/chaos.js';

const root = new URL('../../', import.meta.url);
const workflow = parse(readFileSync(new URL('workflows/chaos.yml', root), 'utf8')) as {
  jobs: Record<string, { steps: { uses?: string; with?: Record<string, string> }[] }>;
};
const docs = readFileSync(new URL('docs/chaos.md', root), 'utf8');

describe('chaos wiring', () => {
  it('uploads the artifact the app downloads', () => {
    const uploads = Object.values(workflow.jobs).flatMap((job) => job.steps.filter((s) => s.uses?.startsWith('actions/upload-artifact')));
    expect(uploads.map((s) => s.with?.name)).toContain(CHAOS_ARTIFACT);
  });

  it('documents the caller under the file name the app matches, calling the reusable copy', () => {
    expect(docs).toContain(`.github/workflows/${CHAOS_WORKFLOW_FILE}`);
    const caller = docs.slice(docs.indexOf('<!-- caller -->'));
    expect(caller).toMatch(/uses: \.\/\.github\/workflows\/causal-review-chaos-run\.yml/);
    expect(docs).toContain(`\`${CHAOS_ARTIFACT}\``);
  });
});
