// Go parsed in a second thread, ahead of the analyses in the main thread (`--jobs 2`). The main thread
// hands over each Go file's text as it reads it, numbered in that order; the parse thread
// (go-parse-worker.ts) parses them in order and sends back the trees a batch at a time, packed into typed
// arrays whose buffers are transferred, not copied. A check asks for a tree synchronously
// (ParsedFile.go()), so the main thread takes it as follows:
//   - arrived: used as it is;
//   - the parse thread has started it (or gone past it): the main thread waits for its batch's answer
//     (Atomics.wait on a counter the parse thread bumps after each answer, to a deadline: an event, not
//     a sleep);
//   - the parse thread has not reached it: the main thread parses the file itself and marks it taken, so
//     that the parse thread skips it (the checks do not visit packages in the order they were handed
//     over: the first check parses only the packages its own gate lets in, later ones the rest).
// The parse thread reads what it is told through shared memory, not messages: the main thread turns to
// its messages only when it waits, and during the checks it seldom does.

import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { GoParseAhead, GoParseTicket } from '../engine/parse.js';
import { unpackTrees, type SyntaxTree } from '../lang/go-syntax-tree.js';
import { ANSWERED, STARTED, TAKEN_FILES, type ParseReply, type ParseRequest } from './parse-protocol.js';

/** Files per batch: one message each way per batch, and a batch is a few milliseconds of parsing. */
const BATCH_FILES = 16;

/**
 * How long the main thread waits for a batch's answer before it gives up the parse thread: a batch takes
 * milliseconds, a batch of the largest files a second; well inside a check's own budget (20 s), so that a
 * thread that died while the main thread waited costs time, not a finding.
 */
const ANSWER_WITHIN_MS = 5_000;

export interface ParseThreadOptions {
  /** how long to wait for one batch's answer before parsing in this thread instead */
  answerWithinMs?: number;
  /** the worker to start, and more for its workerData (tests); by default the parse thread of the bundle or of the sources */
  entry?: URL;
  workerData?: Record<string, unknown>;
}

/** queued: not sent yet; sent: the parse thread has it; done: its tree is here; dropped: parsed here, or not wanted */
type State = 'queued' | 'sent' | 'done' | 'dropped';

class Ticket implements GoParseTicket {
  state: State = 'queued';
  tree: SyntaxTree | undefined;

  constructor(
    private readonly thread: GoParseThread,
    readonly text: string,
    /** its number in the order of hand-over */
    readonly seq: number,
  ) {}

  take(): SyntaxTree | undefined {
    return this.thread.take(this);
  }

  discard(): void {
    const tree = this.tree;
    this.tree = undefined;
    tree?.delete();
    // one still out is deleted when its batch comes back
    this.state = 'dropped';
  }
}

export class GoParseThread implements GoParseAhead {
  /** the parse thread (tests listen to it) */
  readonly worker: Worker;
  private readonly port: MessagePort;
  /** shared with the parse thread: see parse-protocol.ts */
  private readonly shared: Int32Array;
  private readonly taken: Uint8Array;
  /** handed over, not sent yet */
  private queued: Ticket[] = [];
  private readonly batches = new Map<number, Ticket[]>();
  private nextBatch = 0;
  /** tickets are numbered from 1: the parse thread's STARTED starts at 0 */
  private nextSeq = 1;
  private flushScheduled = false;
  private closed = false;
  /** tickets of texts prefetched for a later part, by text, until it asks for them */
  private readonly prefetched = new Map<string, Ticket>();
  private readonly answerWithinMs: number;
  private idleWaiters: (() => void)[] = [];
  /** why the parse thread is not used any more: every file is then parsed in this thread */
  failure: string | undefined;
  /** files whose trees came from the parse thread, those parsed here instead, and those the parse thread skipped for it */
  readonly counts = { fromThread: 0, here: 0, skippedThere: 0 };

  constructor(options: ParseThreadOptions = {}) {
    this.answerWithinMs = options.answerWithinMs ?? ANSWER_WITHIN_MS;
    const channel = new MessageChannel();
    this.port = channel.port1;
    this.shared = new Int32Array(new SharedArrayBuffer(8));
    this.taken = new Uint8Array(new SharedArrayBuffer(TAKEN_FILES));
    this.worker = new Worker(options.entry ?? workerEntry(), {
      workerData: { ...options.workerData, port: channel.port2, shared: this.shared.buffer, taken: this.taken.buffer },
      transferList: [channel.port2],
    });
    this.port.on('message', (reply: ParseReply) => this.answer(reply));
    this.worker.on('error', (error) => this.fail(`the parse thread failed: ${error.message}`));
    this.worker.on('exit', (code) => this.fail(`the parse thread exited with code ${code}`));
  }

  enqueue(text: string): GoParseTicket {
    const prefetched = this.prefetched.get(text);
    if (prefetched) {
      this.prefetched.delete(text);
      return prefetched;
    }
    return this.ticketFor(text);
  }

  prefetch(text: string): void {
    if (!this.prefetched.has(text)) this.prefetched.set(text, this.ticketFor(text));
  }

  dropPrefetched(): void {
    for (const ticket of this.prefetched.values()) ticket.discard();
    this.prefetched.clear();
  }

  /** The ticket's tree (see GoParseTicket.take). */
  take(ticket: Ticket): SyntaxTree | undefined {
    this.receive();
    // not begun (or not even sent): parsed here, and marked so that the parse thread skips it
    if (ticket.state === 'queued' || (ticket.state === 'sent' && Atomics.load(this.shared, STARTED) < ticket.seq)) {
      if (ticket.seq < TAKEN_FILES) Atomics.store(this.taken, ticket.seq, 1);
      ticket.state = 'dropped';
    }
    if (ticket.state === 'sent') this.waitFor(ticket);
    const tree = ticket.tree;
    ticket.tree = undefined;
    ticket.state = 'dropped';
    if (tree) this.counts.fromThread++;
    else this.counts.here++;
    return tree;
  }

  /** What the parse thread did, in a line (CAUSAL_REVIEW_THREAD_STATS prints it). */
  stats(): string {
    const { fromThread, here } = this.counts;
    return `parse thread: ${fromThread} Go trees from the parse thread, ${here} parsed in the main thread${this.failure ? ` (${this.failure})` : ''}`;
  }

  /** Resolves once every text handed over has been answered (tests: take() never waits for a thread that has not begun a file). */
  idle(): Promise<void> {
    this.send();
    if (this.batches.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stop the parse thread; trees not yet taken are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.failure ??= 'closed';
    this.dropPrefetched();
    this.port.close();
    await this.worker.terminate();
  }

  private ticketFor(text: string): Ticket {
    const ticket = new Ticket(this, text, this.nextSeq++);
    if (this.failure !== undefined) {
      ticket.state = 'dropped';
      return ticket;
    }
    this.queued.push(ticket);
    if (this.queued.length >= BATCH_FILES) this.send();
    else if (!this.flushScheduled) {
      // texts arrive as git's answers do, several per turn of the event loop: a part-filled batch goes
      // out once the turn is over, not one message per file
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.send();
      });
    }
    return ticket;
  }

  /** Everything queued, to the parse thread. */
  private send(): void {
    // a ticket taken before it went out is not sent
    const queued = this.queued.filter((t) => t.state === 'queued');
    this.queued = [];
    if (this.failure !== undefined) {
      for (const ticket of queued) ticket.state = 'dropped';
      return;
    }
    for (let i = 0; i < queued.length; i += BATCH_FILES) {
      const tickets = queued.slice(i, i + BATCH_FILES);
      const batch = this.nextBatch++;
      for (const ticket of tickets) ticket.state = 'sent';
      this.batches.set(batch, tickets);
      this.port.postMessage({ batch, texts: tickets.map((t) => t.text), seqs: tickets.map((t) => t.seq) } satisfies ParseRequest);
    }
  }

  /** Every answer already posted, taken now. */
  private receive(): boolean {
    let any = false;
    for (let message = receiveMessageOnPort(this.port); message; message = receiveMessageOnPort(this.port)) {
      this.answer(message.message as ParseReply);
      any = true;
    }
    return any;
  }

  private answer({ batch, packed, skipped }: ParseReply): void {
    const tickets = this.batches.get(batch);
    if (!tickets) return;
    this.counts.skippedThere += skipped;
    this.batches.delete(batch);
    const trees = unpackTrees(packed, tickets.map((t) => t.text));
    for (const [i, ticket] of tickets.entries()) {
      const tree = trees[i];
      // a ticket dropped while its batch was out: its tree goes at once
      if (ticket.state !== 'sent') tree?.delete();
      else {
        ticket.tree = tree;
        ticket.state = 'done';
      }
    }
    this.settle();
  }

  private settle(): void {
    if (this.batches.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Wait for the answer to the ticket's batch: an event from the parse thread, to a deadline. */
  private waitFor(ticket: Ticket): void {
    const deadline = performance.now() + this.answerWithinMs;
    while (ticket.state === 'sent') {
      const seen = Atomics.load(this.shared, ANSWERED);
      if (this.receive()) continue;
      const left = deadline - performance.now();
      if (left <= 0 || Atomics.wait(this.shared, ANSWERED, seen, left) === 'timed-out') {
        this.fail(`no answer from the parse thread in ${Math.round(this.answerWithinMs / 1000)} s`);
      }
    }
  }

  /** The parse thread is not used any more: whatever it was given is parsed here. */
  private fail(why: string): void {
    this.failure ??= why;
    for (const tickets of this.batches.values()) for (const ticket of tickets) if (ticket.state === 'sent') ticket.state = 'dropped';
    this.batches.clear();
    for (const ticket of this.queued) ticket.state = 'dropped';
    this.queued = [];
    this.settle();
    void this.worker.terminate();
  }
}

/**
 * The parse thread's entry: the bundle's when the CLI started from the bundle, else the TypeScript
 * sources through tsx's loader (go-parse-worker.js).
 */
function workerEntry(): URL {
  return new URL(globalThis.causalReviewBundledParseWorker ?? new URL('./go-parse-worker.js', import.meta.url).href);
}

declare global {
  /** Set in the start-up bundle (bin/causal-review.js): the URL of the bundled Go parse thread. */
  var causalReviewBundledParseWorker: string | undefined;
}
