// Which front-end a file goes to, by its name or, for names without a dot, by its #! line.

import { describe, expect, it } from 'vitest';
import { isShellShebang, languageOf, mayBeScript } from '../../src/lang/detect.js';

describe('languageOf', () => {
  it.each([
    ['internal/controller/db_controller.go', 'go'],
    ['src/rollout.ts', 'ts'],
    ['types.d.ts', undefined],
    ['web/app.mjs', 'js'],
    ['hack/e2e.sh', 'shell'],
    ['Makefile', 'shell'],
    ['.github/workflows/e2e.yml', 'yaml'],
    ['deploy/values.yaml', 'yaml'],
    ['README.md', undefined],
  ])('%s -> %s', (path, language) => {
    expect(languageOf(path)).toBe(language);
  });
});

describe('scripts without an extension', () => {
  it.each([
    ['#!/bin/bash\nset -e\n', true],
    ['#!/usr/bin/env bash\n', true],
    ['#!/bin/sh -eu\n', true],
    ['#!/usr/bin/env -S zsh -f\n', true],
    ['#!/usr/bin/env python3\n', false],
    ['#!/usr/bin/node\n', false],
    ['sleep 5\n', false],
    ['', false],
  ])('%j is a shell script: %s', (text, expected) => {
    expect(isShellShebang(text)).toBe(expected);
  });

  it('asks only names without a dot', () => {
    expect(mayBeScript('e2e-tests/functions')).toBe(true);
    expect(mayBeScript('notes.txt')).toBe(false);
    expect(mayBeScript('dir.d/')).toBe(false);
  });
});
