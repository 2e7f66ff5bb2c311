// Entry of a review worker thread: registers tsx in this thread (a thread does not inherit the main
// thread's loader), then runs the TypeScript worker, as bin/causal-review.js does for the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./review-worker.ts');
