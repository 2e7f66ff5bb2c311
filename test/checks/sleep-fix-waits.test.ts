// The wait vocabulary shared by sleep-fix and event-ordering: durations, printing, call classification.

import { beforeAll, describe, expect, it } from 'vitest';
import { formatDuration, formatEscalation, goConstants, goDurationNs, goLoopKind, goWaitCall, NS_PER_MS, shellSleepMs, tsDurationMs, tsPromiseSleep, tsSleepHelper, tsWaitCall } from '../../src/analysis/waits.js';
import { goImports, loadGoParser, parseGo } from '../../src/lang/go.js';
import { parseTypeScript } from '../../src/lang/typescript.js';
import { Node as TsNode } from 'ts-morph';
import type { GoNode } from '../../src/engine/types.js';

beforeAll(async () => {
  await loadGoParser();
});

/** Evaluate the argument of the first time.Sleep in a Go file, in milliseconds. */
function goSleepMs(src: string): number | undefined {
  const root = parseGo(src).rootNode;
  const imports = goImports(root);
  const constants = goConstants(root);
  const call = root.descendantsOfType('call_expression').find((c) => c && goWaitCall(c, imports)?.kind === 'sleep') as GoNode;
  const ns = goDurationNs(goWaitCall(call, imports)!.duration, imports, constants);
  return ns === undefined ? undefined : ns / NS_PER_MS;
}

const goFile = (decls: string, expr: string, timeImport = '"time"') => `package a\nimport ${timeImport}\n${decls}\nfunc f() { ${expr.includes('Sleep') ? expr : `time.Sleep(${expr})`} }\n`;

describe('Go durations', () => {
  it.each([
    ['15 * time.Second', 15_000],
    ['2*time.Minute + 30*time.Second', 150_000],
    ['time.Duration(500) * time.Millisecond', 500],
    ['(time.Second)', 1000],
    ['time.Second / 2', 500],
    ['1_000 * time.Millisecond', 1000],
    ['1.5 * float64(time.Second)', 1500],
  ])('evaluates %s', (expr, ms) => {
    expect(goSleepMs(goFile('', expr))).toBe(ms);
  });

  it('follows package-level constants, typed and untyped', () => {
    expect(goSleepMs(goFile('const n = 5', 'time.Duration(n) * time.Millisecond'))).toBe(5);
    expect(goSleepMs(goFile('const settle = 2 * time.Minute', 'settle'))).toBe(120_000);
    expect(goSleepMs(goFile('const (\n\ta = 3\n\tb = a * time.Second\n)', 'b'))).toBe(3000);
  });

  it('honours an aliased time import and gives up on what is not constant', () => {
    expect(goSleepMs(goFile('', 'gotime.Sleep(3 * gotime.Second)', 'gotime "time"'))).toBe(3000);
    expect(goSleepMs(goFile('var v = 3', 'time.Duration(v) * time.Second'))).toBeUndefined();
    expect(goSleepMs(goFile('', 'r.delay'))).toBeUndefined();
    expect(goSleepMs(goFile('const a = b\nconst b = a', 'a'))).toBeUndefined();
  });
});

describe('Go wait calls', () => {
  const kinds = (src: string) => {
    const root = parseGo(src).rootNode;
    const imports = goImports(root);
    return root.descendantsOfType('call_expression').flatMap((c) => {
      const w = c && goWaitCall(c, imports);
      return w ? [`${w.callee}:${w.kind}`] : [];
    });
  };
  it('classifies sleeps, timers, tickers, polls and backoffs', () => {
    const src = `package a
import (
	"time"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"github.com/cenkalti/backoff/v4"
	. "github.com/onsi/gomega"
)
func f() {
	time.Sleep(time.Second)
	<-time.After(time.Second)
	time.NewTicker(time.Second)
	wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, cond)
	wait.ExponentialBackoff(b, cond)
	retry.RetryOnConflict(retry.DefaultRetry, fn)
	backoff.Retry(op, b)
	Eventually(get).Should(Succeed())
	sleep.Sleep(1)
}`;
    expect(kinds(src)).toEqual([
      'time.Sleep:sleep',
      'time.After:delay',
      'time.NewTicker:periodic',
      'wait.PollUntilContextTimeout:poll',
      'wait.ExponentialBackoff:backoff',
      'retry.RetryOnConflict:backoff',
      'backoff.Retry:backoff',
      'Eventually:poll',
    ]);
  });
  it('reads a callee with a comment inside from its nodes: the name called, not the comment', () => {
    const src = `package a
import (
	"time"
	. "github.com/onsi/gomega"
)
func f() {
	time. // settle first
		Sleep(time.Second)
	g. // see x.Eventually
		ually(get)
}`;
    expect(kinds(src)).toEqual(['time.Sleep:sleep']);
  });
  it('does not take another package named time for the standard one', () => {
    expect(kinds('package a\nimport time "example.com/clock"\nfunc f() { time.Sleep(1) }')).toEqual([]);
  });
});

describe('TS durations and waits', () => {
  const file = (src: string) => parseTypeScript('a.ts', src);
  it('evaluates separators, arithmetic and file constants', () => {
    const sf = file('const SETTLE_MS = 2 * 1_000;\nlet x = 5;\nf(10_000, SETTLE_MS * 3, x, 60 * 1000);');
    const call = sf.getStatements()[2]!.getFirstDescendant(TsNode.isCallExpression)!;
    expect(call.getArguments().map((a) => tsDurationMs(a))).toEqual([10_000, 6000, undefined, 60_000]);
  });
  it('recognises promise sleeps and sleep helpers, not timeouts', () => {
    const sf = file(`
const a = new Promise((r) => setTimeout(r, 100));
const b = new Promise((resolve) => { setTimeout(() => resolve(), 100); });
const c = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 100));
function sleep(ms: number) { return new Promise((r) => setTimeout(r, ms)); }
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
function notHelper(ms: number) { return new Promise((r) => setTimeout(r, 100)); }
`);
    const news = sf.getDescendants().filter(TsNode.isNewExpression).filter((n) => n.getExpression().getText() === 'Promise');
    expect(news.map((n) => tsPromiseSleep(n) !== false)).toEqual([true, true, false, true, true, true]);
    const fns = [...sf.getFunctions(), ...sf.getDescendants().filter(TsNode.isArrowFunction).filter((a) => a.getParameters().length === 1 && a.getParameters()[0]!.getName() === 'ms')];
    expect(fns.map((f) => tsSleepHelper(f))).toEqual([{ index: 0, scale: 1 }, undefined, { index: 0, scale: 1 }]);
  });
  it('scales a helper whose parameter is in seconds', () => {
    const sf = file('async function wait(seconds: number) { await new Promise((r) => setTimeout(r, seconds * 1e3)); }\nconst pause = (s: number, why: string) => new Promise((r) => setTimeout(r, (1000 * s)));');
    expect(tsSleepHelper(sf.getFunctions()[0]!)).toEqual({ index: 0, scale: 1000 });
    expect(tsSleepHelper(sf.getVariableDeclarations()[0]!.getInitializerOrThrow())).toEqual({ index: 0, scale: 1000 });
  });

  it('classifies Playwright, Cypress and fake timers', () => {
    const sf = file(`page.waitForTimeout(500); rampage.waitForTimeout(2000); cy.wait(1000); cy.wait('@getPods'); vi.advanceTimersByTime(1000); setInterval(f, 10); expect.poll(f);`);
    const calls = sf.getStatements().map((s) => s.getFirstDescendant(TsNode.isCallExpression)!);
    expect(calls.map((c) => tsWaitCall(c)?.kind)).toEqual(['sleep', undefined, 'sleep', undefined, 'fake', 'periodic', 'poll']);
  });
});

describe('shell sleeps and printing', () => {
  it.each([
    [['5'], 5000],
    [['0.5'], 500],
    [['1m'], 60_000],
    [['1m', '30s'], 90_000],
    [['$DELAY'], undefined],
    [['infinity'], undefined],
    [[], undefined],
  ])('sleep %j is %s ms', (args, ms) => {
    expect(shellSleepMs(args)).toBe(ms);
  });
  it.each([
    [500, '500ms'],
    [15_000, '15s'],
    [1500, '1.5s'],
    [120_000, '120s'],
    [150_000, '150s'],
    [600_000, '600s'], [900_000, '15m'], [5_430_000, '1h30m30s'],
    [3_600_000, '1h'],
    [0, '0ms'],
  ])('prints %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
  it('prints an escalation', () => {
    expect(formatEscalation([5000, 30_000, 120_000, 600_000])).toBe('5s -> 30s -> 120s -> 600s');
  });
});

describe('Go loops around a wait', () => {
  /** The kind of the loop holding the first time.Sleep (or `<-time.After`) of the body. */
  const loopOf = (body: string, deadlineContext = false) => {
    const root = parseGo(`package a\nimport "time"\nfunc f() {\n${body}\n}\n`).rootNode;
    const sleep = root.descendantsOfType('call_expression').find((c) => c && (c.text.startsWith('time.Sleep') || c.text.startsWith('time.After')))!;
    let loop: GoNode | null = sleep.parent;
    while (loop && loop.type !== 'for_statement') loop = loop.parent;
    return goLoopKind(loop!, deadlineContext);
  };
  it.each([
    ['for i := 0; i < 5; i++ { if try() == nil { return }; time.Sleep(time.Second) }', 'bounded'],
    ['for time.Now().Before(deadline) { time.Sleep(time.Second) }', 'bounded'],
    ['n := 0\nfor { if ok() { return }; n++; if n >= 10 { return }; time.Sleep(time.Second) }', 'bounded'],
    ['for { if ok() { return }; if time.Since(start) > limit { return }; time.Sleep(time.Second) }', 'bounded'],
    ['for { if ok() { break }; time.Sleep(time.Second) }', 'poll'],
    ['for !ready() { time.Sleep(time.Second) }', 'poll'],
    ['for ok := false; !ok; { ok = check(); time.Sleep(time.Second) }', 'poll'],
    ['for { sync(); time.Sleep(time.Minute) }', 'periodic'],
    ['for { if ctx.Err() != nil { return }; sync(); time.Sleep(time.Minute) }', 'periodic'],
    ['for ctx.Err() == nil { sync(); time.Sleep(time.Minute) }', 'periodic'],
    ['for { select { case <-ctx.Done(): return; case <-time.After(time.Minute): }; sync() }', 'periodic'],
    ['for { select { case <-ctx.Done(): return; case <-time.After(time.Second): }; if ok() { return } }', 'poll'],
    ['for { select { case <-ctx.Done(): return; case <-time.After(time.Second): }; if ok() { return } }', 'bounded', true],
    ['for { select { case v := <-ch: use(v); break; default: }; time.Sleep(time.Second) }', 'periodic'],
    ['for range ticker.C { time.Sleep(time.Millisecond) }', 'periodic'],
    ['for _, item := range items { create(item); time.Sleep(time.Second) }', 'each'],
    ['for i := range 3 { _ = i; time.Sleep(time.Second) }', 'bounded'],
  ] as [string, string, boolean?][])('%s is %s', (body, kind, deadline) => {
    expect(loopOf(body, deadline ?? false)).toBe(kind);
  });
  it('does not read a loop bound from a comment', () => {
    expect(loopOf('for {\n\t// retry until the deadline\n\tif ok() { break }\n\ttime.Sleep(time.Second)\n}')).toBe('poll');
  });
});
