// `causal-review chaos plan|run`: argument parsing and the command, for src/cli/main.ts to call.
// Exit codes: 0 ok, 1 an invariant failed (or an experiment errored), 2 bad usage or input.

import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileProblem } from '../cli/args.js';
import { parseConfig, ConfigError, type Config } from '../config/schema.js';
import { ChaosConfigError } from './config.js';
import { chaosPlan, renderPlan } from './plan.js';
import { renderChaosSummary, tally } from './results.js';
import { chaosRun } from './runner.js';

export interface ChaosIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
}

export interface ChaosArgs {
  command: 'plan' | 'run';
  repo: string;
  /** the config file; default `<repo>/.github/causal-review.yml` */
  config?: string;
  format: 'text' | 'json';
  /** plan: where to write vcluster.yaml */
  vclusterYaml?: string;
  /** plan: where to write the kind cluster config */
  kindConfig?: string;
  /** run */
  kubeconfig?: string;
  hostKubeconfig?: string;
  out?: string;
  /** run: also print the check-run markdown */
  summary: boolean;
}

export class UsageError extends Error {}

export const CHAOS_USAGE = `usage: causal-review chaos plan [--config FILE] [--repo DIR] [--vcluster-yaml FILE] [--kind-config FILE] [--format text|json]
       causal-review chaos run --kubeconfig FILE [--host-kubeconfig FILE] [--out results.json] [--config FILE] [--repo DIR] [--format text|json] [--summary]`;

const VALUE_FLAGS: Record<string, keyof ChaosArgs> = {
  '--config': 'config',
  '--repo': 'repo',
  '--format': 'format',
  '--vcluster-yaml': 'vclusterYaml',
  '--kind-config': 'kindConfig',
  '--kubeconfig': 'kubeconfig',
  '--host-kubeconfig': 'hostKubeconfig',
  '--out': 'out',
};

/** Parse the arguments after `chaos`; throws UsageError with a one-line reason. */
export function parseChaosArgs(argv: string[]): ChaosArgs {
  const [command, ...rest] = argv;
  if (command !== 'plan' && command !== 'run') throw new UsageError(`chaos: expected "plan" or "run", got ${command ? `"${command}"` : 'nothing'}`);
  const args: ChaosArgs = { command, repo: '.', format: 'text', summary: false };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--summary') {
      args.summary = true;
      continue;
    }
    const key = VALUE_FLAGS[flag];
    if (!key) throw new UsageError(`chaos ${command}: unknown argument "${arg}"`);
    const value = inline ?? rest[++i];
    if (value === undefined || value === '') throw new UsageError(`chaos ${command}: ${flag} needs a value`);
    (args as unknown as Record<string, string>)[key] = value;
  }
  if (args.format !== 'text' && args.format !== 'json') throw new UsageError(`chaos ${command}: --format must be text or json`);
  const planOnly = ['vclusterYaml', 'kindConfig'] as const;
  const runOnly = ['kubeconfig', 'hostKubeconfig', 'out'] as const;
  for (const key of command === 'plan' ? runOnly : planOnly) {
    if (args[key] !== undefined) throw new UsageError(`chaos ${command}: --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is not an option of ${command}`);
  }
  if (command === 'run' && !args.kubeconfig) throw new UsageError('chaos run: --kubeconfig is required');
  if (!existsSync(args.repo) || !statSync(args.repo).isDirectory()) throw new UsageError(`chaos ${command}: --repo ${args.repo}: no such directory`);
  return args;
}

/** Write a file the user named; a failure names the flag and the path. */
async function writeUserFile(flag: string, path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text);
  } catch (error) {
    throw new UsageError(`chaos plan: ${flag} ${path}: ${fileProblem(error, true)}`);
  }
}

async function loadConfig(args: ChaosArgs): Promise<Pick<Config, 'chaos'>> {
  const path = args.config ?? join(args.repo, '.github', 'causal-review.yml');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    if (args.config) throw new UsageError(`chaos: cannot read config ${path}`);
    return {};
  }
  return parseConfig(text, path);
}

/** Run `causal-review chaos ...`; returns the exit code. */
export async function chaosCommand(argv: string[], io: ChaosIo): Promise<number> {
  try {
    const args = parseChaosArgs(argv);
    const config = await loadConfig(args);
    if (args.command === 'plan') {
      const plan = chaosPlan(config);
      if (args.vclusterYaml) await writeUserFile('--vcluster-yaml', args.vclusterYaml, plan.vclusterYaml);
      if (args.kindConfig) await writeUserFile('--kind-config', args.kindConfig, plan.kindConfig);
      if (args.format === 'json') io.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
      else io.stdout.write(`${renderPlan(plan)}${args.vclusterYaml ? `wrote ${args.vclusterYaml}\n` : `\n${plan.vclusterYaml}`}`);
      return 0;
    }
    const results = await chaosRun({
      config,
      kubeconfig: args.kubeconfig,
      hostKubeconfig: args.hostKubeconfig,
      out: args.out,
      repoRoot: args.repo,
      log: (line) => io.stderr.write(`${line}\n`),
    });
    if (args.format === 'json') {
      io.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    } else {
      const t = tally(results);
      const rendered = renderChaosSummary(results);
      io.stdout.write(`${rendered.title} (${t.passed} passed, ${t.failed} failed, ${t.errored} errored, ${t.skipped} skipped)\n`);
      for (const e of results.experiments.filter((x) => x.outcome === 'failed' || x.outcome === 'error')) {
        const why = e.reason ?? e.invariants.filter((i) => i.outcome === 'failed').map((i) => `${i.id}: ${i.message}`).join('; ');
        io.stdout.write(`  ${e.id}: ${why}\n`);
      }
      if (args.summary) io.stdout.write(`\n${rendered.summary}\n`);
    }
    return results.conclusion === 'success' ? 0 : 1;
  } catch (error) {
    // one line, named as every other command's errors are
    if (error instanceof UsageError || error instanceof ChaosConfigError || error instanceof ConfigError) {
      io.stderr.write(`causal-review: ${error.message.split('\n')[0]}\n`);
      return 2;
    }
    io.stderr.write(`causal-review: chaos: ${((error as Error).message ?? String(error)).split('\n')[0]}\n`);
    return 2;
  }
}
