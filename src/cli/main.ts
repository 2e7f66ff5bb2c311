// The `causal-review` command: dispatches to a subcommand and turns every input error into
// exit code 2 with one line on stderr, so scripts can tell "bad input" from "blocking findings".

import { ConfigError } from '../config/schema.js';
import { GitInputError } from '../git/exec.js';
import { parseOptions, version } from './args.js';
import { ANALYZE_HELP, DEMO_HELP, DOCS_HELP, MAIN_HELP } from './help.js';
import { EXIT, UsageError, type CliIo } from './io.js';


type Command = (argv: string[], io: CliIo) => Promise<number>;

/**
 * Commands another part of the project provides, loaded only when asked for, so the CLI works
 * (and says which part is missing) while a part is not there.
 */
async function delegate(name: string, load: () => Promise<unknown>, exportName: string, argv: string[], io: CliIo): Promise<number> {
  // each load is a literal import(), so the start-up bundle (bin/causal-review.js) carries the module
  let module: Record<string, unknown>;
  try {
    module = (await load()) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND') throw error;
    throw new UsageError(`${name}: not available in this build (${(error as Error).message.slice(0, 300)})`);
  }
  // a command that exports its usage text gets --help from it, whether or not it parses --help itself
  const usage = module[`${name.toUpperCase()}_USAGE`];
  if (typeof usage === 'string' && argv.some((a) => a === '--help' || a === '-h')) {
    io.stdout.write(`${usage.trimEnd()}\n`);
    return EXIT.ok;
  }
  const command = module[exportName];
  if (typeof command !== 'function') throw new UsageError(`${name}: not available in this build (${exportName} is not exported)`);
  if (exportName === 'startServer') {
    await (command as () => Promise<unknown>)();
    return EXIT.ok;
  }
  return (command as Command)(argv, io);
}

const BUILT_IN_HELP: Record<string, string> = { analyze: ANALYZE_HELP, demo: DEMO_HELP, docs: DOCS_HELP };

// loaded on use: `--help` and `--version` do not load the checks and their parsers
const COMMANDS: Record<string, Command> = {
  analyze: async (argv, io) => (await import('./analyze.js')).analyzeCommand(argv, io),
  demo: async (argv, io) => (await import('./demo.js')).demoCommand(argv, io),
  docs: async (argv, io) => (await import('./docs.js')).docsCommand(argv, io),
  chaos: (argv, io) => delegate('chaos', () => import('../chaos/cli.js'), 'chaosCommand', argv, io),
  protect: (argv, io) => delegate('protect', () => import('../github/protect.js'), 'protectCommand', argv, io),
  serve: (argv, io) => {
    // it takes no options: a typo'd flag must not start a server that ignores it
    const { values } = parseOptions(argv, { help: { type: 'boolean', short: 'h' } });
    if (values.help) {
      io.stdout.write('Usage: causal-review serve\n\nRuns the GitHub App server (Probot); configured by APP_ID, PRIVATE_KEY, WEBHOOK_SECRET\nand the other variables in docs/github-app.md. Runs until stopped. Takes no options.\n');
      return Promise.resolve(EXIT.ok);
    }
    return delegate('serve', () => import('../github/server.js'), 'startServer', argv, io);
  },
};

export async function main(argv: string[], io: CliIo = process): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) throw new UsageError('no command given; try causal-review --help');
    // `help analyze` is `analyze --help`
    if (name === 'help' && rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0])) return await main([rest[0], '--help'], io);
    if (name === '-h' || name === '--help' || name === 'help') {
      io.stdout.write(MAIN_HELP);
      return EXIT.ok;
    }
    if (name === '-v' || name === '--version') {
      io.stdout.write(`${version()}\n`);
      return EXIT.ok;
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) throw new UsageError(`unknown command "${name}"; try causal-review --help`);
    const help = Object.hasOwn(BUILT_IN_HELP, name) ? BUILT_IN_HELP[name] : undefined;
    if (help && rest.some((a) => a === '--help' || a === '-h')) {
      io.stdout.write(help);
      return EXIT.ok;
    }
    return await command(rest, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof GitInputError || error instanceof ConfigError) {
      io.stderr.write(`causal-review: ${oneLine(error.message)}\n`);
      return EXIT.usage;
    }
    // not the user's fault: say so, with the stack for a bug report, and still never exit 0
    io.stderr.write(`causal-review: internal error: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
    if (error instanceof Error && error.stack && io.env.CAUSAL_REVIEW_DEBUG) io.stderr.write(`${error.stack}\n`);
    return EXIT.usage;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').slice(0, 1000);
}
