// The Go parse thread (src/cli/parse-thread.ts): texts in, their trees out, packed into one set of arrays
// per batch whose buffers are transferred to the main thread, which analyses while this thread parses.

import { workerData } from 'node:worker_threads';
import { parseGoSyntax } from '../lang/go-syntax.js';
import { NodeStore, packTrees, transferablesOf } from '../lang/go-syntax-tree.js';
import { ANSWERED, SKIP_TO, STARTED, type ParseReply, type ParseRequest, type ParseThreadData } from './parse-protocol.js';

const data = workerData as ParseThreadData | undefined;
if (data?.port) {
  const { port } = data;
  const shared = new Int32Array(data.shared);
  port.on('message', ({ batch, texts, seqs }: ParseRequest) => {
    // every batch's trees from the start of one store, where packTrees copies them in one piece
    NodeStore.rewind();
    const trees = texts.map((text, i) => {
      const seq = seqs[i]!;
      if (seq <= Atomics.load(shared, SKIP_TO)) return undefined;
      Atomics.store(shared, STARTED, seq);
      try {
        return parseGoSyntax(text);
      } catch {
        // a bug, not a give-up: the main thread parses the file itself and meets the error there
        return undefined;
      }
    });
    // with each tree's index of nodes by type, which the checks' first question of a tree makes otherwise
    const packed = packTrees(trees, true);
    // the copies go; the trees here free their store for the next batch
    for (const tree of trees) tree?.delete();
    port.postMessage({ batch, packed } satisfies ParseReply, transferablesOf(packed));
    Atomics.add(shared, ANSWERED, 1);
    Atomics.notify(shared, ANSWERED);
  });
}
