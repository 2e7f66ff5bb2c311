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

/** Does a file in `language` at `path` serve a check that reads `wanted`? Workflow YAML also serves shell checks. */
export function serves(path: string, language: Language, wanted: readonly Language[]): boolean {
  if (wanted.includes(language)) return true;
  return language === 'yaml' && wanted.includes('shell') && shellKind(path) === 'workflow';
}
