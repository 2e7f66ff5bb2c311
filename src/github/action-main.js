// Entry point of action.yml: runs the TypeScript action through tsx (resolved from this package,
// not the workflow's checkout), so the Action needs no build step and no CLI wiring.
// first, before anything runs hot: how much V8's optimizing compiler inlines (see there)
import '../cli/compiler-budget.js';
import { register } from 'tsx/esm/api';

register();
const { actionCommand } = await import('./action.ts');
process.exitCode = await actionCommand(process.argv.slice(2), process);
