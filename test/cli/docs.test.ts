// Generated documentation: docs/checks.md and the README's configuration table must match the
// code (checks' metadata, CONFIG_SCHEMA, DEFAULT_CONFIG); the generator must cover every check and key.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../../checks/index.js';
import { CHECKS_DOC, README, UNDOCUMENTED, configKeys, readmeWithConfig, renderChecksDoc, renderConfigReference } from '../../src/cli/docs.js';
import { captureIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import type { Check } from '../../src/engine/types.js';
import { cleanTemps, tempDir } from '../git/repo.js';

afterAll(cleanTemps);

describe('docs/checks.md', () => {
  it('is what `causal-review docs` generates (run it and commit when this fails)', async () => {
    expect(readFileSync(CHECKS_DOC, 'utf8')).toBe(renderChecksDoc());
    const io = captureIo();
    expect(await main(['docs', '--check'], io)).toBe(0);
  });

  it('--check exits 1 on a stale page and writes nothing; without it the page is written', async () => {
    const out = join(tempDir(), 'checks.md');
    writeFileSync(out, '# stale\n');
    const io = captureIo();
    expect(await main(['docs', '--check', '--out', out], io)).toBe(1);
    expect(io.err()).toMatch(/stale; run `npx causal-review docs`/);
    expect(readFileSync(out, 'utf8')).toBe('# stale\n');
    expect(await main(['docs', '--out', out], captureIo())).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(renderChecksDoc());
    expect(await main(['docs', '--check', '--out', out], captureIo())).toBe(0);
  });

  it('--out that cannot be written is bad input that names it: exit 2, one line', async () => {
    const dir = tempDir();
    for (const [out, why] of [[dir, 'is a directory'], ['', 'needs a value']] as const) {
      const io = captureIo();
      expect(await main(['docs', `--out=${out}`], io)).toBe(2);
      expect(io.err()).toMatch(new RegExp(`^causal-review: --out[^\n]*${why}[^\n]*\n$`));
    }
  });

  it('has a section per check with its title, summary, examples, severity, languages and suppression', () => {
    const doc = renderChecksDoc();
    for (const check of CHECKS) {
      const at = doc.indexOf(`\n## ${check.id}\n`);
      expect(at, check.id).toBeGreaterThan(-1);
      const section = doc.slice(at, doc.indexOf('\n## ', at + 1) === -1 ? undefined : doc.indexOf('\n## ', at + 1));
      expect(section).toContain(check.title);
      expect(section).toContain(check.docs.summary.trim());
      if (check.docs.bad.code.trim()) expect(section).toContain(check.docs.bad.code.trimEnd());
      expect(section).toContain(`Default severity: \`${check.defaultSeverity}\``);
      expect(section).toContain(`causal-review:ignore ${check.id} -- <reason>`);
    }
  });

  it('fences examples that contain backticks and lists options with their defaults', () => {
    const check: Check = {
      id: 'x-check',
      title: 'A check',
      docs: { summary: 'S.', bad: { language: 'ts', code: 'const s = `a ``` b`;' }, good: { language: 'go', code: 'ok()' } },
      defaultSeverity: 'warning',
      languages: ['ts'],
      defaultOptions: { maxSeconds: 120, allow: ['a|b'] },
      run() {},
    };
    const doc = renderChecksDoc([check]);
    expect(doc).toContain('````typescript\nconst s = `a ``` b`;\n````');
    expect(doc).toContain('| `maxSeconds` | `120` |');
    expect(doc).toContain('| `allow` | `["a\\|b"]` |');
  });
});

describe('README configuration reference', () => {
  it('is generated from the schema and defaults and committed', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readmeWithConfig(readme)).toBe(readme);
  });

  it('covers every key of the schema, with its default', () => {
    const table = renderConfigReference();
    const keys = configKeys().map((k) => k.key);
    expect(keys).toEqual(expect.arrayContaining(['enforce', 'checks.<check-id>.severity', 'ai.branchPrefixes', 'paths.ignore', 'limits.checkTimeoutMs', 'onInternalError']));
    for (const key of keys) expect(table).toContain(`| \`${key}\` |`);
    expect(table).not.toContain(UNDOCUMENTED);
    expect(table).toContain('| `enforce` | `"ai-authored"` |');
    expect(table).toContain('| `limits.maxFileBytes` | `1000000` |');
  });

  it('starts with the two commands for a fresh machine', () => {
    const readme = readFileSync(README, 'utf8');
    const firstBlock = readme.slice(readme.indexOf('```sh'), readme.indexOf('```', readme.indexOf('```sh') + 5));
    expect(firstBlock).toContain('npm ci && npx causal-review demo');
    expect(firstBlock).toContain('npm test');
  });
});
