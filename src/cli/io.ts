// What a subcommand gets from the outside world: streams and the environment. `process` itself
// fits this shape; tests pass a capture instead, so commands run in-process without touching globals.

export interface CliIo {
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown };
  env: NodeJS.ProcessEnv;
}

/** A problem with the command line or its inputs: exit 2 with one line on stderr. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

/** An in-memory CliIo for tests and for callers that want the output as text. */
export function captureIo(env: NodeJS.ProcessEnv = {}): CliIo & { out(): string; err(): string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (chunk: string) => (out += chunk), isTTY: false },
    stderr: { write: (chunk: string) => (err += chunk) },
    env,
    out: () => out,
    err: () => err,
  };
}
