// The Go parse thread (src/cli/parse-thread.ts): texts in, their trees out, packed into one set of arrays
// per batch whose buffers are transferred to the main thread, which analyses while this thread parses.

import { workerData } from 'node:worker_threads';
import { parseGoSyntax } from '../lang/go-syntax.js';
import { NodeStore, packTrees, transferablesOf } from '../lang/go-syntax-tree.js';
import { ANSWERED, STARTED, type ParseReply, type ParseRequest, type ParseThreadData } from './parse-protocol.js';

const data = workerData as ParseThreadData | undefined;
if (data?.port) {
  const { port } = data;
  const shared = new Int32Array(data.shared);
  const taken = new Uint8Array(data.taken);
  port.on('message', ({ batch, texts, seqs }: ParseRequest) => {
    // every batch's trees from the start of one store, where packTrees copies them in one piece
    NodeStore.rewind();
    let skipped = 0;
    const trees = texts.map((text, i) => {
      const seq = seqs[i]!;
      // begun first, then the mark read: the main thread reads STARTED before it marks a file, so a file is
      // parsed by one thread at least (by both at worst, when they cross)
      Atomics.store(shared, STARTED, seq);
      if (seq < taken.length && Atomics.load(taken, seq)) {
        skipped++;
        return undefined;
      }
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
    port.postMessage({ batch, packed, skipped } satisfies ParseReply, transferablesOf(packed));
    Atomics.add(shared, ANSWERED, 1);
    Atomics.notify(shared, ANSWERED);
  });
}
