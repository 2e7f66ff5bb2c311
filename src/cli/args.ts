// Command-line parsing shared by the subcommands: node's parseArgs in strict mode, with its
// errors turned into one-line usage errors, and the files the CLI reads with their size bounds.

import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export function parseOptions<T extends OptionSpec>(argv: string[], options: T, allowPositionals = false) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals, tokens: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '') : String(error);
    throw new UsageError(message.replace(/^Unknown option/, 'unknown option').replace(/^Unexpected argument/, 'unexpected argument'));
  }
  // an empty value (`--config=`) or a second one (`--base a --base b`) is a mistake to name, not to guess at
  const seen = new Map<string, string>();
  for (const token of parsed.tokens) {
    if (token.kind !== 'option') continue;
    const spec = (options as OptionSpec)[token.name];
    if (spec?.type !== 'string') continue;
    if (token.value === '') throw new UsageError(`--${token.name}: needs a value, got an empty one`);
    if (!spec.multiple && seen.has(token.name)) {
      throw new UsageError(`--${token.name} given twice (${seen.get(token.name)}, then ${token.value}): give it once`);
    }
    seen.set(token.name, token.value ?? '');
  }
  const { tokens: _, ...result } = parsed;
  return result;
}

/** What went wrong with a file the user named, in words for the one-line error: `no such file`, `is a directory`. */
export function fileProblem(error: unknown, writing = false): string {
  const code = (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return writing ? 'its directory does not exist' : 'no such file';
    case 'EISDIR':
      return 'is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return writing ? `cannot be written (${code ?? String(error)})` : 'cannot be read';
  }
}

/** Read a user-named text file, bounded; any failure is the user's (exit 2) and names the flag. */
export function readUserFile(flag: string, path: string, maxBytes: number): string {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (error) {
    throw new UsageError(`${flag} ${path}: ${fileProblem(error)}`);
  }
  if (data.length > maxBytes) throw new UsageError(`${flag} ${path}: larger than ${maxBytes} bytes`);
  return data.toString('utf8');
}

let cachedVersion: string | undefined;

export function version(): string {
  cachedVersion ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return cachedVersion;
}
