// Entry of the Go parse thread when the CLI runs from its TypeScript sources: registers tsx in this
// thread (a thread does not inherit the main thread's loader), as review-worker.js does.
import { register } from 'tsx/esm/api';

register();
await import('./go-parse-worker.ts');
