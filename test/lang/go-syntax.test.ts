// The JavaScript Go parser against tree-sitter-go: wherever it gives a tree, that tree must be the one
// tree-sitter gives, node for node (type, named or not, span, positions, field, children). Giving up is
// allowed (the file then goes to tree-sitter); a different tree is not.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadGoParser, parseGo, parseGoWithTreeSitter } from '../../src/lang/go.js';
import { goSyntaxGiveUpReason, parseGoSyntax } from '../../src/lang/go-syntax.js';
import { SyntaxTree, type GoNode } from '../../src/lang/go-syntax-tree.js';
import { FIXTURES } from '../support/fixtures.js';

function goFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'testdata') goFiles(path, out);
    } else if (name.endsWith('.go')) out.push(path);
  }
  return out;
}

type Node = GoNode & { fieldNameForChild(i: number): string | null };

/** The first difference between two trees, or undefined. A stack, not recursion: some trees nest thousands deep. */
function difference(ours: GoNode, theirs: GoNode): string | undefined {
  const stack: [Node, Node][] = [[ours as Node, theirs as Node]];
  while (stack.length) {
    const [a, b] = stack.pop()!;
    const where = `${b.type} at ${b.startPosition.row + 1}:${b.startPosition.column + 1}`;
    if (a.type !== b.type || a.isNamed !== b.isNamed) return `${where}: ${a.type} (named ${a.isNamed}) for ${b.type} (named ${b.isNamed})`;
    if (a.startIndex !== b.startIndex || a.endIndex !== b.endIndex) return `${where}: span ${a.startIndex}-${a.endIndex} for ${b.startIndex}-${b.endIndex}`;
    for (const end of ['startPosition', 'endPosition'] as const) {
      if (a[end].row !== b[end].row || a[end].column !== b[end].column) return `${where}: ${end} ${JSON.stringify(a[end])} for ${JSON.stringify(b[end])}`;
    }
    if (a.childCount !== b.childCount) return `${where}: children ${a.children.map((c) => c.type).join(' ')} for ${b.children.map((c) => c.type).join(' ')}`;
    for (let i = b.childCount - 1; i >= 0; i--) {
      if ((a.fieldNameForChild(i) ?? null) !== (b.fieldNameForChild(i) ?? null)) return `${where}: child ${i} field ${a.fieldNameForChild(i)} for ${b.fieldNameForChild(i)}`;
      stack.push([a.child(i) as Node, b.child(i) as Node]);
    }
  }
  return undefined;
}

/** Both readings of a text: undefined where ours gives up, else the first difference ('' when none). */
function compare(text: string): string | undefined {
  const ours = parseGoSyntax(text);
  if (!ours) return undefined;
  const theirs = parseGoWithTreeSitter(text);
  try {
    if (theirs.rootNode.hasError) return 'tree-sitter found a syntax error the JavaScript parser did not';
    return difference(ours.rootNode, theirs.rootNode) ?? '';
  } finally {
    theirs.delete();
  }
}

/** Each file compared: how many gave the same tree, and every difference (a give-up is neither). */
function compareFiles(paths: string[]): { same: number; differences: string[] } {
  let same = 0;
  const differences: string[] = [];
  for (const path of paths) {
    const text = readFileSync(path, 'utf8');
    // the engine leaves a file over a megabyte out (limits.maxFileBytes)
    if (text.length > 1_000_000) continue;
    const result = compare(text);
    if (result === '') same++;
    else if (result !== undefined) differences.push(`${path}: ${result}`);
  }
  return { same, differences };
}

const file = (body: string) => `package p\n\n${body}\n`;
const inFunction = (body: string) => file(`func f() {\n${body}\n}`);

describe('the JavaScript Go parser reads as tree-sitter-go does', () => {
  beforeAll(async () => {
    await loadGoParser();
  });

  it('on every Go fixture: the same tree, or a give-up', () => {
    const { same, differences } = compareFiles(goFiles(FIXTURES));
    expect(differences).toEqual([]);
    // the fast path is taken: all but the few fixtures with syntax errors or tree-sitter-only readings
    expect(same).toBeGreaterThan(600);
  });

  // the shapes found to matter when the two were compared on Go's own sources
  const parsed: [string, string][] = [
    ['comments before, between and after statements, and at the ends of lines', inFunction('\t// first\n\ta := 1 // trailing\n\n\t// between\n\tb(a)\n\t// last\n')],
    ['a run of blank lines before a closing brace counts in the statement list', inFunction('\ta()\n\n\n')],
    ['blank lines with spaces between them do not', inFunction('\ta()\n\t\n\t\n\t')],
    ['case bodies, fallthrough, an empty label at the end', inFunction('\tswitch x {\n\tcase 1:\n\t\tfallthrough\n\n\tcase 2, 3:\n\tdefault:\n\t\treturn\n\t}\nL:')],
    ['type switches with an alias and nil', inFunction('\tswitch v := x.(type) {\n\tcase nil:\n\tcase *T, []int:\n\t\t_ = v\n\t}')],
    ['select with send, receive and assignment', inFunction('\tselect {\n\tcase ch <- 1:\n\tcase v, ok := <-in:\n\t\t_, _ = v, ok\n\tcase <-ctx.Done():\n\t}')],
    ['make and new take a type first', inFunction('\ta := make(T, n)\n\tb := new(pkg.T)\n\tc := make([]int, 3)\n\td := make(map[string]chan struct{})')],
    ['a conversion through a parenthesized pointer is a call', inFunction('\te := (*T)(nil)')],
    ['m[k](v) is a conversion to a generic type', inFunction('\tg := foo[int](x)\n\th := m[k](x)')],
    ['composite literals, keyed and nested, and none in headers', inFunction('\tx := []T{{a: 1}, {b: "s"}}\n\tif v == y {\n\t}\n\tfor _, v := range []int{1} {\n\t\t_ = v\n\t}')],
    ['escapes: \\x takes two hex digits, \\u four, octal three', inFunction('\ts := "\\xA0F\\u00e9x\\0123\\n\\"" + `raw` + ``')],
    ['dot, blank and named imports', file('import (\n\t. "fmt"\n\t_ "embed"\n\tb "bytes"\n)')],
    ['generics: type parameters, constraints, instantiated receivers', file('type Set[T comparable] map[T]struct{}\n\nfunc Map[T, U any, S ~[]T](s S, f func(T) U) []U { return nil }\n\nfunc (l *List[T]) Push(v T) {}\n\ntype Num interface {\n\t~int | ~float64\n\tString() string\n}')],
    ['struct fields: embedded, tagged, arrays', file('type S struct {\n\tsync.Mutex\n\t*Base\n\tbuf [64]byte\n\ta, b int `json:"a"`\n\tList[int]\n}')],
    ['parameters: grouped names, unnamed types, variadics', file('func f(a, b int, c ...string) (int, error) { return 0, nil }\n\nfunc g(int, string) {}\n\nfunc h(buf [8]byte, fn func() error) {}')],
    ['nine names in one parameter group', file('func f(a, b, c, d, e, f, g, h, i int) {}')],
    ['a function ending the file with no line break after it', 'package p\n\nfunc f() {\n}'],
  ];
  it.each(parsed)('%s', (_, text) => {
    expect(goSyntaxGiveUpReason(text)).toBeUndefined();
    expect(compare(text)).toBe('');
  });

  // readings tree-sitter's GLR precedences decide differently from Go: the parser must give up, not guess
  const givenUp: [string, string][] = [
    ['ten names in one parameter group (tree-sitter splits one off)', file('func f(a, b, c, d, e, f, g, h, i, j int) {}')],
    ['an index by a qualified name, indexed again', inFunction('\ty := rc.rows[rc.posSet][rc.posRow]')],
    ['an index by an index by a qualified name', inFunction('\tx := f.Blocks[idToIdx[p.ID]]')],
    ['three indexes deep', inFunction('\tx := semi[label[ancestor[v]]]')],
    ['a generic call with several arguments', inFunction('\tx := handler.Enqueue[*corev1.Service](a, b)')],
    ['a conversion to a pointer to a generic type', inFunction('\tp := (*Pointer[byte])(addr)')],
    ['a syntax error', inFunction('\tx := ')],
    ['a carriage return', 'package p\r\n'],
    ['a non-ASCII identifier', inFunction('\tπ := 3')],
    ['a declaration ending the file with no line break after it (tree-sitter adds a zero-width terminator)', 'package p\n\nvar x = f(1)'],
  ];
  it.each(givenUp)('gives up on %s, and tree-sitter reads it', (_, text) => {
    expect(parseGoSyntax(text)).toBeUndefined();
    expect(goSyntaxGiveUpReason(text) ?? 'a carriage return').not.toBe('');
    const tree = parseGo(text);
    expect(tree instanceof SyntaxTree).toBe(false);
    tree.delete();
  });

  it('keeps index expressions tree-sitter reads as indexes', () => {
    for (const body of ['\tx = a[b[i]]', '\tx = a.b[c[0]]', '\tw := a[i][j]', '\tv := a.b[c][d]', '\tz := a.b[c.d]']) {
      expect(compare(inFunction(body)), body).toBe('');
    }
  });

  // Go's own sources, where the machine has them (.ci/run installs golang-go): a sample of every tenth file
  const goRoot = ['/usr/lib/go/src', '/usr/local/go/src'].find((dir) => existsSync(dir));
  it.skipIf(!goRoot)('on a sample of Go\'s own sources: the same tree, or a give-up', () => {
    const files = goFiles(goRoot!).sort().filter((_, i) => i % 10 === 0);
    const { same, differences } = compareFiles(files);
    expect(differences).toEqual([]);
    expect(same / files.length).toBeGreaterThan(0.9);
  });
});
