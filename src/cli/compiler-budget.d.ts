/** The V8 flag compiler-budget.js sets for node's own arguments `execArgv`, or undefined where they give the budget. */
export function compilerBudgetFlag(execArgv: readonly string[]): string | undefined;
