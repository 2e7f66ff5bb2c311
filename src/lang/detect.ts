// Which front-end a path goes to.

import type { Language } from '../engine/types.js';
import { shellKind } from './shell.js';

export function languageOf(path: string): Language | undefined {
  const lower = path.toLowerCase();
  if (lower.endsWith('.go')) return 'go';
  if (/\.(ts|tsx|mts|cts)$/.test(lower) && !lower.endsWith('.d.ts')) return 'ts';
  if (/\.(js|jsx|mjs|cjs)$/.test(lower)) return 'js';
  const shell = shellKind(path);
  if (shell === 'script' || shell === 'make') return 'shell';
  if (/\.ya?ml$/.test(lower)) return 'yaml';
  return undefined;
}

/**
 * A file whose name says nothing (`e2e-tests/functions`, `hack/run-e2e`) is a shell script when its
 * first line is a shell's `#!`. Only names without a dot are asked: `x.txt` is not a script.
 */
export function mayBeScript(path: string): boolean {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.length > 0 && !base.includes('.');
}

/** `#!/bin/bash`, `#!/usr/bin/env bash`, `#!/bin/sh -e`: a shell among the words of the first line. */
export function isShellShebang(text: string): boolean {
  if (!text.startsWith('#!')) return false;
  const end = text.indexOf('\n');
  const line = text.slice(2, Math.min(end === -1 ? text.length : end, 200));
  return line.split(/[\s/]+/).some((word) => SHELLS.has(word));
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'ksh', 'zsh', 'ash']);

/** Does a file in `language` at `path` serve a check that reads `wanted`? Workflow YAML also serves shell checks. */
export function serves(path: string, language: Language, wanted: readonly Language[]): boolean {
  if (wanted.includes(language)) return true;
  return language === 'yaml' && wanted.includes('shell') && shellKind(path) === 'workflow';
}
