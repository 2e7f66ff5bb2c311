// Imported first by the entry points (bin/causal-review.js, src/github/action-main.js), before any of
// the analysis has run hot: V8's optimizing compiler inlines less into each function it compiles (a
// cumulative budget of 200 bytes of bytecode, not V8's 920). Its compiles run on background threads,
// and on two cores they took CPU from the checks and the Go parse thread: in a 3,000-file scan they
// were over a second of CPU, more than the main thread's own work less its wait. With the smaller
// budget the same scans take about a tenth less time and CPU (README, How fast it is). The code that
// runs is the same; only how much of it V8 inlines. A budget given on node's own command line is kept.
import { setFlagsFromString } from 'node:v8';

const FLAG = '--max-inlined-bytecode-size-cumulative';

/** The V8 flag to set for node's own arguments `execArgv`, or undefined where they give the budget (V8 reads `_` as `-`). */
export function compilerBudgetFlag(execArgv) {
  return execArgv.some((arg) => arg.split('=')[0].replaceAll('_', '-') === FLAG) ? undefined : `${FLAG}=200`;
}

const flag = compilerBudgetFlag(process.execArgv);
if (flag) setFlagsFromString(flag);
