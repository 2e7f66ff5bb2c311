// Preloaded (`node --import`) into the CLI process the benchmark times: at exit, writes the process's peak
// RSS (worker threads included) to the file CAUSAL_REVIEW_BENCH_RSS names, so the figure is that of the
// real `bin/causal-review.js` run, start-up bundle and all, not of the benchmark.
import { writeFileSync } from 'node:fs';

const file = process.env.CAUSAL_REVIEW_BENCH_RSS;
if (file) process.on('exit', () => writeFileSync(file, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS })));
