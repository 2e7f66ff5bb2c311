// What the main thread and the Go parse thread (parse-thread.ts, go-parse-worker.ts) say to each other.

import type { MessagePort } from 'node:worker_threads';
import type { PackedTrees } from '../lang/go-syntax-tree.js';

/**
 * The Int32Array the two threads share: ANSWERED counts the answers posted (the main thread waits on it),
 * STARTED is the number of the file being parsed (files are numbered from 1 in the order handed over).
 */
export const ANSWERED = 0;
export const STARTED = 1;

/**
 * Files up to this number have a mark in `taken` (a byte each, shared): set by the main thread for a file
 * it parses itself, so that the parse thread skips it. Past it the parse thread parses every file.
 */
export const TAKEN_FILES = 1 << 20;

export interface ParseThreadData {
  port: MessagePort;
  /** ANSWERED and STARTED */
  shared: SharedArrayBuffer;
  /** TAKEN_FILES bytes */
  taken: SharedArrayBuffer;
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
  /** files of the batch skipped: the main thread had taken them */
  skipped: number;
}
