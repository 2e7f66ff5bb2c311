// A parse thread that takes requests and never answers (test/cli/parse-thread.test.ts). With
// workerData.begin it says it has begun every file (as a thread stuck inside a parse would) and then
// tells the test, through its own parentPort, that it has.
import { parentPort, workerData } from 'node:worker_threads';

const shared = new Int32Array(workerData.shared);
workerData.port.on('message', () => {
  if (!workerData.begin) return;
  Atomics.store(shared, 1, 1 << 30);
  parentPort.postMessage('begun');
});
