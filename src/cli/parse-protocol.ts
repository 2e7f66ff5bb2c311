// What the main thread and the Go parse thread (parse-thread.ts, go-parse-worker.ts) say to each other.

import type { MessagePort } from 'node:worker_threads';
import type { PackedTrees } from '../lang/go-syntax-tree.js';

/**
 * The Int32Array the two threads share: ANSWERED counts the answers posted (the main thread waits on it),
 * STARTED is the number of the file being parsed, and SKIP_TO the number up to which the main thread has
 * taken the files itself (the parse thread skips them).
 */
export const ANSWERED = 0;
export const STARTED = 1;
export const SKIP_TO = 2;

export interface ParseThreadData {
  port: MessagePort;
  shared: SharedArrayBuffer;
}

export interface ParseRequest {
  batch: number;
  texts: string[];
  /** each text's number, in increasing order */
  seqs: number[];
}

export interface ParseReply {
  batch: number;
  packed: PackedTrees;
}
