// The Go parse thread (src/cli/parse-thread.ts): the trees it sends are the trees this thread would
// make; a file the checks want before it has begun it is parsed here without waiting; a thread that
// stops answering costs a deadline, never a hang, and loses no file.

import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { GoParseThread } from '../../src/cli/parse-thread.js';
import { ParseCache, type GoParseAhead, type GoParseTicket } from '../../src/engine/parse.js';
import { parseGoSyntax } from '../../src/lang/go-syntax.js';
import type { GoTree } from '../../src/lang/go-syntax-tree.js';
import type { PullRequestSnapshot } from '../../src/engine/types.js';
import { dump, goFixtureTexts } from '../support/go-texts.js';

const HELD = new URL('../support/held-parse-worker.mjs', import.meta.url);
const texts = goFixtureTexts(40);
/** one turn of the event loop: the texts handed over in this one go out to the parse thread */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

const threads: GoParseThread[] = [];
const started = (options?: ConstructorParameters<typeof GoParseThread>[0]) => {
  const thread = new GoParseThread(options);
  threads.push(thread);
  return thread;
};
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.close()));
});

describe('the Go parse thread', () => {
  it('sends the trees this thread would make, and none where the parser gives up', async () => {
    const thread = started();
    const broken = 'package p\n\nfunc f() {\n';
    const tickets = [...texts, broken].map((text) => thread.enqueue(text));
    await thread.idle();
    for (const [i, text] of [...texts, broken].entries()) {
      const here = parseGoSyntax(text);
      const there = tickets[i]!.take();
      if (!here) expect(there).toBeUndefined();
      else expect(dump(there!.rootNode)).toEqual(dump(here.rootNode));
    }
    expect(thread.counts.fromThread).toBe(texts.filter((t) => parseGoSyntax(t)).length);
    expect(thread.failure).toBeUndefined();
  });

  it('gives a prefetched text its ticket when the part that wants it asks', async () => {
    const thread = started();
    thread.prefetch(texts[0]!);
    const ticket = thread.enqueue(texts[0]!);
    await thread.idle();
    expect(dump(ticket.take()!.rootNode)).toEqual(dump(parseGoSyntax(texts[0]!)!.rootNode));
    expect(thread.counts).toEqual({ fromThread: 1, here: 0, skippedThere: 0 });
  });

  it('skips a file this thread took before the parse thread began it, and parses the rest', async () => {
    const thread = started();
    const tickets = texts.map((text) => thread.enqueue(text));
    // at once, before the parse thread (still starting) has begun any: the 21st went out in a batch, the
    // 40th not yet (the last part-filled batch goes out after this turn)
    expect(tickets[20]!.take()).toBeUndefined();
    expect(tickets[39]!.take()).toBeUndefined();
    await thread.idle();
    for (const [i, ticket] of tickets.entries()) {
      if (i === 20 || i === 39) continue;
      expect(dump(ticket.take()!.rootNode)).toEqual(dump(parseGoSyntax(texts[i]!)!.rootNode));
    }
    expect(thread.counts).toEqual({ fromThread: texts.length - 2, here: 2, skippedThere: 1 });
  });

  it('does not wait for a file the parse thread has not begun: this thread parses it', async () => {
    const thread = started({ entry: HELD, workerData: { begin: false } });
    const tickets = texts.slice(0, 5).map((text) => thread.enqueue(text));
    await nextTurn();
    // the held thread has them all and begins none
    expect(tickets[2]!.take()).toBeUndefined();
    expect(tickets[0]!.take()).toBeUndefined();
    expect(tickets[4]!.take()).toBeUndefined();
    expect(thread.counts).toEqual({ fromThread: 0, here: 3, skippedThere: 0 });
    expect(thread.failure).toBeUndefined();
  });

  it('stops waiting for a thread that began a file and never answers, and parses everything here from then on', async () => {
    const thread = started({ entry: HELD, workerData: { begin: true }, answerWithinMs: 0 });
    const first = thread.enqueue(texts[0]!);
    // the held thread says when it has taken the file (and said it began it)
    await once(thread.worker, 'message');
    expect(first.take()).toBeUndefined();
    expect(thread.failure).toMatch(/no answer from the parse thread/);
    expect(thread.enqueue(texts[1]!).take()).toBeUndefined();
  });
});

describe('a parse thread that cannot start', () => {
  it('leaves every file to this thread, and says why', async () => {
    const thread = started({ entry: new URL('../support/no-such-parse-worker.mjs', import.meta.url) });
    const ticket = thread.enqueue(texts[0]!);
    await once(thread.worker, 'error');
    expect(ticket.take()).toBeUndefined();
    expect(thread.failure).toMatch(/^the parse thread failed: /);
    expect(thread.enqueue(texts[1]!).take()).toBeUndefined();
    expect(thread.stats()).toMatch(/^parse thread: 0 Go trees from the parse thread, 2 parsed in the main thread \(the parse thread failed: /);
  });
});

describe('ParseCache with a parse thread', () => {
  /** a parse thread in this thread: each text's tree parsed at once, or none for texts in `refuse` */
  class InThread implements GoParseAhead {
    readonly enqueued: string[] = [];
    readonly taken: string[] = [];
    readonly discarded: string[] = [];
    constructor(private readonly refuse = new Set<string>()) {}
    enqueue(text: string): GoParseTicket {
      this.enqueued.push(text);
      return {
        take: (): GoTree | undefined => {
          this.taken.push(text);
          return this.refuse.has(text) ? undefined : parseGoSyntax(text);
        },
        discard: () => void this.discarded.push(text),
      };
    }
    prefetch(): void {}
    dropPrefetched(): void {}
  }
  const snapshotOf = (files: Record<string, string>) =>
    ({
      files: Object.keys(files).map((path) => ({ path, status: 'added', hunks: [] })),
      read: async (path: string) => files[path],
    }) as unknown as PullRequestSnapshot;

  it("uses the parse thread's tree, parses here where it has none, and drops what no check took", async () => {
    const [a, b, c] = texts;
    const ahead = new InThread(new Set([b!]));
    const cache = new ParseCache(snapshotOf({ 'a.go': a!, 'b.go': b!, 'c.go': c!, 'd.go': texts[3]! }), 1_000_000, ahead);
    await cache.handOver(['a.go', 'b.go', 'c.go']);
    const [fa, fb, , fd] = [await cache.get('a.go'), await cache.get('b.go'), await cache.get('c.go'), await cache.get('d.go')];
    // not handed over: parsed here
    expect(dump(fd!.go().rootNode)).toEqual(dump(parseGoSyntax(texts[3]!)!.rootNode));
    expect(dump(fa!.go().rootNode)).toEqual(dump(parseGoSyntax(a!)!.rootNode));
    expect(dump(fb!.go().rootNode)).toEqual(dump(parseGoSyntax(b!)!.rootNode));
    expect(ahead.taken).toEqual([a, b]);
    cache.dispose();
    expect(ahead.discarded).toContain(c);
  });

  it('hands over only Go files under the size limit, each once, and takes a tree for the head only', async () => {
    const ahead = new InThread();
    const small = 'package p\n\nfunc f() {}\n';
    const big = `package p\n\n// ${'x'.repeat(200)}\n`;
    const cache = new ParseCache(snapshotOf({ 'a.go': small, 'big.go': big, 'deploy.yaml': 'a: 1\n' }), 100, ahead);
    await cache.handOver(['a.go', 'big.go', 'deploy.yaml', 'a.go']);
    expect(ahead.enqueued).toEqual([small]);
    const head = (await cache.get('a.go'))!.go();
    expect(ahead.taken).toEqual([small]);
    // the base's same text is the same tree, taken once
    expect((await cache.get('a.go', 'base'))!.go()).toBe(head);
    expect(ahead.taken).toEqual([small]);
    cache.dispose();
    expect(ahead.discarded).toEqual([]);
  });
});
