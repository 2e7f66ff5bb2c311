// Runs one CLI command in a process of its own and prints its wall time and peak RSS as JSON, so
// the benchmark measures the analysis alone, not the benchmark's own memory.

import { main } from '../src/cli/main.js';

let bytes = 0;
const io = {
  stdout: { write: (chunk: string) => (bytes += chunk.length), isTTY: false },
  stderr: { write: (chunk: string) => process.stderr.write(chunk) },
  env: process.env,
};
const started = performance.now();
const exit = await main(process.argv.slice(2), io);
const ms = performance.now() - started;
process.stdout.write(`${JSON.stringify({ exit, ms, maxRssKb: process.resourceUsage().maxRSS, outputBytes: bytes })}\n`);
