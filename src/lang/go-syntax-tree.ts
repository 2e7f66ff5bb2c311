// The Go syntax tree the analyses read: the node API they use of web-tree-sitter, as an interface that
// both a tree-sitter tree and the plain-JavaScript tree of go-syntax.ts satisfy.

import { lowerBound } from '../util/sorted.js';

export interface GoPoint {
  row: number;
  column: number;
}

/** What the analyses read of a Go node: the part of web-tree-sitter's `Node` they use. */
export interface GoNode {
  readonly type: string;
  readonly isNamed: boolean;
  readonly isExtra: boolean;
  readonly id: number;
  readonly text: string;
  readonly startIndex: number;
  readonly endIndex: number;
  readonly startPosition: GoPoint;
  readonly endPosition: GoPoint;
  readonly parent: GoNode | null;
  readonly children: GoNode[];
  readonly namedChildren: GoNode[];
  readonly childCount: number;
  readonly namedChildCount: number;
  readonly firstNamedChild: GoNode | null;
  readonly nextNamedSibling: GoNode | null;
  readonly previousSibling: GoNode | null;
  readonly previousNamedSibling: GoNode | null;
  readonly tree: GoTree;
  child(index: number): GoNode | null;
  childForFieldName(fieldName: string): GoNode | null;
  childrenForFieldName(fieldName: string): GoNode[];
  descendantsOfType(types: string | string[]): GoNode[];
}

export interface GoTree {
  readonly rootNode: GoNode;
  delete(): void;
}

let nextId = 1;

/** A node of a tree built in JavaScript: the same type, span, fields and children tree-sitter-go gives. */
export class SyntaxNode implements GoNode {
  readonly id = nextId++;
  parent: SyntaxNode | null = null;
  /** position in the parent's children */
  index = 0;
  isExtra = false;
  tree!: SyntaxTree;
  private named: SyntaxNode[] | undefined;

  constructor(
    readonly type: string,
    readonly isNamed: boolean,
    public startIndex: number,
    public endIndex: number,
    readonly children: SyntaxNode[],
    /** the field of each child, or null where no child has one */
    public fields: (string | null)[] | null,
  ) {}

  get text(): string {
    return this.tree.source.slice(this.startIndex, this.endIndex);
  }

  get startPosition(): GoPoint {
    return this.tree.pointAt(this.startIndex);
  }

  get endPosition(): GoPoint {
    return this.tree.pointAt(this.endIndex);
  }

  get namedChildren(): SyntaxNode[] {
    return (this.named ??= this.children.filter((c) => c.isNamed));
  }

  get childCount(): number {
    return this.children.length;
  }

  get namedChildCount(): number {
    return this.namedChildren.length;
  }

  get firstNamedChild(): SyntaxNode | null {
    for (const c of this.children) if (c.isNamed) return c;
    return null;
  }

  get nextNamedSibling(): SyntaxNode | null {
    const siblings = this.parent?.children;
    if (!siblings) return null;
    for (let i = this.index + 1; i < siblings.length; i++) if (siblings[i]!.isNamed) return siblings[i]!;
    return null;
  }

  get previousSibling(): SyntaxNode | null {
    return this.parent?.children[this.index - 1] ?? null;
  }

  get previousNamedSibling(): SyntaxNode | null {
    const siblings = this.parent?.children;
    if (!siblings) return null;
    for (let i = this.index - 1; i >= 0; i--) if (siblings[i]!.isNamed) return siblings[i]!;
    return null;
  }

  child(index: number): SyntaxNode | null {
    return this.children[index] ?? null;
  }

  fieldNameForChild(index: number): string | null {
    return this.fields?.[index] ?? null;
  }

  childForFieldName(fieldName: string): SyntaxNode | null {
    const fields = this.fields;
    if (!fields) return null;
    for (let i = 0; i < fields.length; i++) if (fields[i] === fieldName) return this.children[i]!;
    return null;
  }

  childrenForFieldName(fieldName: string): SyntaxNode[] {
    const fields = this.fields;
    if (!fields) return [];
    const found: SyntaxNode[] = [];
    for (let i = 0; i < fields.length; i++) if (fields[i] === fieldName) found.push(this.children[i]!);
    return found;
  }

  /** This node and its descendants of the given types, in document order (tree-sitter's order too). */
  descendantsOfType(types: string | string[]): SyntaxNode[] {
    const wanted = typeof types === 'string' ? [types] : types;
    const found: SyntaxNode[] = [];
    const visit = (n: SyntaxNode): void => {
      if (wanted.includes(n.type)) found.push(n);
      for (const c of n.children) if (c.children.length) visit(c);
      else if (wanted.includes(c.type)) found.push(c);
    };
    visit(this);
    return found;
  }
}

export class SyntaxTree implements GoTree {
  private lineStarts: number[] | undefined;

  constructor(
    readonly source: string,
    readonly rootNode: SyntaxNode,
  ) {}

  /** Row and column (UTF-16 units, as web-tree-sitter gives them) of a character index. */
  pointAt(index: number): GoPoint {
    if (!this.lineStarts) {
      const starts = [0];
      for (let i = this.source.indexOf('\n'); i !== -1; i = this.source.indexOf('\n', i + 1)) starts.push(i + 1);
      this.lineStarts = starts;
    }
    // the last line starting at or before the index
    const row = lowerBound(this.lineStarts, index + 1) - 1;
    return { row, column: index - this.lineStarts[row]! };
  }

  /** Nothing to free: the tree is ordinary JavaScript memory (tree-sitter's trees live in wasm). */
  delete(): void {}
}
