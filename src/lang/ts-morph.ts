// ts-morph (and the TypeScript compiler under it) loaded on first use: it costs ~0.4 s to load, which
// a Go-only review never needs. Its values are live bindings, set by `loadTsMorph()`; every TS tree
// comes from `parseTypeScript`, which loads it, so code handed a TS node can use them.

import { createRequire } from 'node:module';
import type * as TsMorph from 'ts-morph';

export let Node: typeof TsMorph.Node;
export type Node = TsMorph.Node;
export let SyntaxKind: typeof TsMorph.SyntaxKind;
export type SyntaxKind = TsMorph.SyntaxKind;

let loaded: typeof TsMorph | undefined;

/** ts-morph, loaded once (synchronously: parsing is synchronous and the module is CommonJS). */
export function loadTsMorph(): typeof TsMorph {
  if (!loaded) {
    loaded = createRequire(import.meta.url)('ts-morph') as typeof TsMorph;
    Node = loaded.Node;
    SyntaxKind = loaded.SyntaxKind;
  }
  return loaded;
}
