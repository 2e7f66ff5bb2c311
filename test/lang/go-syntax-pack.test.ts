// Trees packed into one set of arrays for another thread (the parse thread) and unpacked there must be
// the trees that were packed, node for node, whichever store they came from and whatever ids the other
// thread gave the node types.

import { describe, expect, it } from 'vitest';
import { parseGoSyntax } from '../../src/lang/go-syntax.js';
import { NodeStore, packTrees, unpackTrees, type PackedTrees, type SyntaxTree } from '../../src/lang/go-syntax-tree.js';
import { dump, goFixtureTexts } from '../support/go-texts.js';

const texts = goFixtureTexts(24);

describe('packTrees and unpackTrees', () => {
  it('give back the same trees from the start of a fresh store (copied in one piece) and with no tree where there was none', () => {
    NodeStore.current = undefined;
    const trees = texts.map((t) => parseGoSyntax(t));
    expect(trees.filter(Boolean).length).toBeGreaterThan(10);
    const withNone = [...trees.slice(0, 3), undefined, ...trees.slice(3)];
    const sources = [...texts.slice(0, 3), 'package broken {', ...texts.slice(3)];
    const back = unpackTrees(packTrees(withNone), sources);
    expect(back[3]).toBeUndefined();
    for (const [i, tree] of withNone.entries()) {
      if (!tree) expect(back[i]).toBeUndefined();
      else expect(dump(back[i]!.rootNode)).toEqual(dump(tree.rootNode));
    }
  });

  it('give back the same trees when they lie apart or out of order (each moved to its place)', () => {
    const trees = texts.map((t) => parseGoSyntax(t)).reverse();
    const back = unpackTrees(packTrees(trees), [...texts].reverse());
    for (const [i, tree] of trees.entries()) if (tree) expect(dump(back[i]!.rootNode)).toEqual(dump(tree.rootNode));
  });

  it('renumbers the node types and fields of a thread that numbered them otherwise', () => {
    const tree = parseGoSyntax(texts[0]!)!;
    const packed = packTrees([tree]);
    // the other thread's ids: the same names in reverse order
    const other = (names: readonly (string | null)[]) => names.map((_, i) => names[names.length - 1 - i]!);
    const flip = (ids: Uint8Array | Uint16Array, count: number) => ids.forEach((id, i) => (ids[i] = count - 1 - id));
    const theirs: PackedTrees = { ...packed, types: other(packed.types) as string[], fields: other(packed.fields) };
    flip(theirs.arrays.kind, packed.types.length);
    flip(theirs.arrays.field, packed.fields.length);
    const [back] = unpackTrees(theirs, [texts[0]!]);
    expect(dump(back!.rootNode)).toEqual(dump(tree.rootNode));
  });

  it('keeps node ids unique: unpacked trees get ids no other tree has', () => {
    const tree = parseGoSyntax(texts[1]!)!;
    const [a] = unpackTrees(packTrees([tree]), [texts[1]!]) as SyntaxTree[];
    const [b] = unpackTrees(packTrees([tree]), [texts[1]!]) as SyntaxTree[];
    const ids = new Set([tree.rootNode.id, a!.rootNode.id, b!.rootNode.id]);
    expect(ids.size).toBe(3);
  });
});
