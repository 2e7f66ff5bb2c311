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

  it("sends each tree's index of nodes by type with it, which finds what the tree finds (and none where the ids were renumbered)", () => {
    NodeStore.current = undefined;
    const trees = texts.map((t) => parseGoSyntax(t));
    const types = ['call_expression', 'identifier', 'comment', 'go_statement', 'func_literal', 'selector_expression'];
    const found = (tree: SyntaxTree) => types.map((t) => tree.rootNode.descendantsOfType(t).map((n) => `${n.type}@${n.startIndex}-${n.endIndex}`));
    for (const order of [trees, [...trees].reverse()]) {
      const packed = packTrees(order, true);
      expect(packed.index).toBeDefined();
      const sources = order === trees ? texts : [...texts].reverse();
      const back = unpackTrees(packed, sources);
      for (const [i, tree] of order.entries()) {
        if (!tree) continue;
        // the index came with the tree: asking for it makes none
        const index = back[i]!.kindIndex();
        expect(index.places.buffer).toBe(packed.index!.places.buffer);
        expect(found(back[i]!)).toEqual(found(tree));
      }
    }
    // ids renumbered: the index is left behind and made again here
    const packed = packTrees([trees[0]!], true);
    const theirs: PackedTrees = { ...packed, types: [...packed.types, 'another_type'] };
    theirs.types.splice(1, 0, 'a_type_first_named_there');
    theirs.arrays.kind.forEach((id, i) => (theirs.arrays.kind[i] = id >= 1 ? id + 1 : id));
    const [back] = unpackTrees(theirs, [texts[0]!]);
    expect(back!.kindIndex().places.buffer).not.toBe(packed.index!.places.buffer);
    expect(found(back!)).toEqual(found(trees[0]!));
  });

  it('keeps node ids unique: unpacked trees get ids no other tree has', () => {
    const tree = parseGoSyntax(texts[1]!)!;
    const [a] = unpackTrees(packTrees([tree]), [texts[1]!]) as SyntaxTree[];
    const [b] = unpackTrees(packTrees([tree]), [texts[1]!]) as SyntaxTree[];
    const ids = new Set([tree.rootNode.id, a!.rootNode.id, b!.rootNode.id]);
    expect(ids.size).toBe(3);
  });
});
