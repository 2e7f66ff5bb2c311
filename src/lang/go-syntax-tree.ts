// The Go syntax tree the analyses read: the node API they use of web-tree-sitter, as an interface that
// both a tree-sitter tree and the tree go-syntax.ts builds satisfy. The latter keeps its nodes in typed
// arrays, in document order, and hands out a small view object per access (as web-tree-sitter does):
// a whole-tree scan holds millions of nodes, and as JavaScript objects every one of them was copied by
// the garbage collector as it survived (2.4 s of a 5.4 s scan of 3,000 files).

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

/** Names as small numbers, shared by every tree: node types, and field names (0 is no field). */
class Names {
  readonly names: (string | null)[];
  private readonly ids = new Map<string, number>();

  constructor(first: (string | null)[] = []) {
    this.names = first;
    for (const [id, name] of first.entries()) if (name !== null) this.ids.set(name, id);
  }

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.push(name) - 1;
      this.ids.set(name, id);
    }
    return id;
  }

  /** the id of a name already seen, else undefined */
  find(name: string): number | undefined {
    return this.ids.get(name);
  }
}

/** id 0 is no type: the parser's mark for a token it did not name (go-syntax.ts leafKinds) */
const TYPES = new Names(['']);
const FIELDS = new Names([null]);
const TYPE_NAMES = TYPES.names as string[];
const FIELD_NAMES = FIELDS.names;

/** A type's id, made on first use (go-syntax.ts takes every id it uses once, when it loads). */
export const typeId = (type: string): number => TYPES.id(type);
/** A field's id, made on first use. */
export const fieldId = (field: string): number => FIELDS.id(field);
/** the type whose id is `id` (typeId's inverse) */
export const typeName = (id: number): string => TYPE_NAMES[id]!;

const NAMED = 1;

/** A NodeStore's arrays (see there). */
export interface NodeArrays {
  kind: Uint16Array;
  flags: Uint8Array;
  field: Uint8Array;
  start: Int32Array;
  end: Int32Array;
  parent: Int32Array;
  subtreeEnd: Int32Array;
}

/**
 * Nodes of many trees, one after another: each tree's nodes in document order (a subtree is the range
 * from its node to `subtreeEnd`). Once all its trees are deleted a store is used again (see `free`); a
 * store whose trees are never deleted goes to the garbage collector with them.
 */
export class NodeStore {
  static current: NodeStore | undefined;
  private static nextIdBase = 1;
  /**
   * Stores whose every tree was deleted (ParseCache.dispose), for the next trees: writing to fresh memory
   * cost 13% of the parse. At most MAX_FREE are kept; the rest go to the garbage collector.
   */
  private static readonly free: NodeStore[] = [];
  private static readonly MAX_FREE = 8;

  /** node ids are idBase + place: a store used again gets a new base, so an id is never handed out twice */
  idBase: number;
  /** trees in this store not yet deleted */
  trees = 0;
  readonly kind: Uint16Array;
  readonly flags: Uint8Array;
  /** the field (a FIELDS id, 0 for none) the node is in its parent */
  readonly field: Uint8Array;
  readonly start: Int32Array;
  readonly end: Int32Array;
  readonly parent: Int32Array;
  /**
   * the end of the node's subtree: its children are the nodes at place + 1, then at the subtreeEnd of
   * each child in turn, up to its own subtreeEnd (20 bytes a node in all, not 36 with lists of children)
   */
  readonly subtreeEnd: Int32Array;
  used = 0;
  /** a store of another thread's trees (unpackTrees) is exactly their size: not kept for more */
  private reusable = true;

  constructor(
    readonly capacity: number,
    arrays?: NodeArrays,
  ) {
    this.idBase = NodeStore.takeIds(capacity);
    this.kind = arrays?.kind ?? new Uint16Array(capacity);
    this.flags = arrays?.flags ?? new Uint8Array(capacity);
    this.field = arrays?.field ?? new Uint8Array(capacity);
    this.start = arrays?.start ?? new Int32Array(capacity);
    this.end = arrays?.end ?? new Int32Array(capacity);
    this.parent = arrays?.parent ?? new Int32Array(capacity);
    this.subtreeEnd = arrays?.subtreeEnd ?? new Int32Array(capacity);
  }

  /** A store of `trees` trees already in `arrays` (all of them used). */
  static adopt(arrays: NodeArrays, trees: number): NodeStore {
    const store = new NodeStore(arrays.kind.length, arrays);
    store.used = store.capacity;
    store.trees = trees;
    store.reusable = false;
    return store;
  }

  private static takeIds(count: number): number {
    const base = NodeStore.nextIdBase;
    NodeStore.nextIdBase += count;
    return base;
  }

  /** A store with room for `nodes` more, and the index of the first. */
  static reserve(nodes: number): { store: NodeStore; first: number } {
    let store = NodeStore.current;
    if (!store || store.capacity - store.used < nodes) {
      if (store) NodeStore.retire(store);
      const reused = NodeStore.free.findIndex((s) => s.capacity >= nodes);
      if (reused >= 0) {
        store = NodeStore.free.splice(reused, 1)[0]!;
        store.used = 0;
        store.idBase = NodeStore.takeIds(store.capacity);
      } else store = new NodeStore(Math.max(1 << 18, nodes));
      NodeStore.current = store;
    }
    const first = store.used;
    store.used += nodes;
    store.trees++;
    return { store, first };
  }

  /**
   * The next trees from the start of the current store, when every tree in it has been deleted: the parse
   * thread's trees of a batch then lie from place 0 on, where packTrees finds them with nothing to move.
   */
  static rewind(): void {
    const store = NodeStore.current;
    if (!store || store.trees > 0) return;
    store.used = 0;
    store.idBase = NodeStore.takeIds(store.capacity);
  }

  /** A tree of this store was deleted. */
  release(): void {
    this.trees--;
    if (this !== NodeStore.current) NodeStore.retire(this);
  }

  /** A store no longer written to goes to the free list once its last tree is deleted. */
  private static retire(store: NodeStore): void {
    if (store.trees === 0 && store.reusable && NodeStore.free.length < NodeStore.MAX_FREE && !NodeStore.free.includes(store)) NodeStore.free.push(store);
  }
}

/** A view of one node of a SyntaxTree: made on each access, as web-tree-sitter's nodes are. */
export class SyntaxNode implements GoNode {
  constructor(
    readonly tree: SyntaxTree,
    /** the node's place in its tree's store */
    readonly at: number,
  ) {}

  get type(): string {
    return TYPE_NAMES[this.tree.store.kind[this.at]!]!;
  }

  get isNamed(): boolean {
    return (this.tree.store.flags[this.at]! & NAMED) !== 0;
  }

  /** comments are tree-sitter-go's only extras */
  get isExtra(): boolean {
    return this.type === 'comment';
  }

  get id(): number {
    return this.tree.store.idBase + this.at;
  }

  get startIndex(): number {
    return this.tree.store.start[this.at]!;
  }

  get endIndex(): number {
    return this.tree.store.end[this.at]!;
  }

  get text(): string {
    const store = this.tree.store;
    return this.tree.source.slice(store.start[this.at], store.end[this.at]);
  }

  get startPosition(): GoPoint {
    return this.tree.pointAt(this.startIndex);
  }

  get endPosition(): GoPoint {
    return this.tree.pointAt(this.endIndex);
  }

  get parent(): SyntaxNode | null {
    const p = this.tree.store.parent[this.at]!;
    return p < 0 ? null : new SyntaxNode(this.tree, p);
  }

  get childCount(): number {
    const { subtreeEnd } = this.tree.store;
    let count = 0;
    for (let c = this.at + 1; c < subtreeEnd[this.at]!; c = subtreeEnd[c]!) count++;
    return count;
  }

  get children(): SyntaxNode[] {
    const { subtreeEnd } = this.tree.store;
    const children: SyntaxNode[] = [];
    for (let c = this.at + 1; c < subtreeEnd[this.at]!; c = subtreeEnd[c]!) children.push(new SyntaxNode(this.tree, c));
    return children;
  }

  get namedChildren(): SyntaxNode[] {
    const { subtreeEnd, flags } = this.tree.store;
    const children: SyntaxNode[] = [];
    for (let c = this.at + 1; c < subtreeEnd[this.at]!; c = subtreeEnd[c]!) if (flags[c]! & NAMED) children.push(new SyntaxNode(this.tree, c));
    return children;
  }

  get namedChildCount(): number {
    const { subtreeEnd, flags } = this.tree.store;
    let count = 0;
    for (let c = this.at + 1; c < subtreeEnd[this.at]!; c = subtreeEnd[c]!) if (flags[c]! & NAMED) count++;
    return count;
  }

  get firstNamedChild(): SyntaxNode | null {
    return this.namedFrom(this.at + 1, this.at);
  }

  get nextNamedSibling(): SyntaxNode | null {
    const p = this.tree.store.parent[this.at]!;
    return p < 0 ? null : this.namedFrom(this.tree.store.subtreeEnd[this.at]!, p);
  }

  get previousSibling(): SyntaxNode | null {
    return this.before(false);
  }

  get previousNamedSibling(): SyntaxNode | null {
    return this.before(true);
  }

  /** the first named node among `parent`'s children from `from` on */
  private namedFrom(from: number, parent: number): SyntaxNode | null {
    const { subtreeEnd, flags } = this.tree.store;
    for (let c = from; c < subtreeEnd[parent]!; c = subtreeEnd[c]!) if (flags[c]! & NAMED) return new SyntaxNode(this.tree, c);
    return null;
  }

  /** the (named) sibling before this node: its parent's children are read from the first */
  private before(named: boolean): SyntaxNode | null {
    const { parent, subtreeEnd, flags } = this.tree.store;
    const p = parent[this.at]!;
    if (p < 0) return null;
    let found = -1;
    for (let c = p + 1; c < this.at; c = subtreeEnd[c]!) if (!named || flags[c]! & NAMED) found = c;
    return found < 0 ? null : new SyntaxNode(this.tree, found);
  }

  /** the place of child `index`, or -1 */
  private childAt(index: number): number {
    if (index < 0) return -1;
    const { subtreeEnd } = this.tree.store;
    let k = 0;
    for (let c = this.at + 1; c < subtreeEnd[this.at]!; c = subtreeEnd[c]!) if (k++ === index) return c;
    return -1;
  }

  child(index: number): SyntaxNode | null {
    const c = this.childAt(index);
    return c < 0 ? null : new SyntaxNode(this.tree, c);
  }

  fieldNameForChild(index: number): string | null {
    const c = this.childAt(index);
    return c < 0 ? null : (FIELD_NAMES[this.tree.store.field[c]!] ?? null);
  }

  childForFieldName(fieldName: string): SyntaxNode | null {
    const wanted = FIELDS.find(fieldName);
    if (wanted === undefined) return null;
    const { subtreeEnd, field } = this.tree.store;
    for (let c = this.at + 1; c < subtreeEnd[this.at]!; c = subtreeEnd[c]!) if (field[c] === wanted) return new SyntaxNode(this.tree, c);
    return null;
  }

  childrenForFieldName(fieldName: string): SyntaxNode[] {
    const wanted = FIELDS.find(fieldName);
    const found: SyntaxNode[] = [];
    if (wanted === undefined) return found;
    const { subtreeEnd, field } = this.tree.store;
    for (let c = this.at + 1; c < subtreeEnd[this.at]!; c = subtreeEnd[c]!) if (field[c] === wanted) found.push(new SyntaxNode(this.tree, c));
    return found;
  }

  /**
   * This node and its descendants of the given types, in document order (tree-sitter's order too), from
   * the tree's index of nodes by type: the analyses ask a file for its calls, loops and goroutines a dozen
   * times, and a pass over the whole subtree for each cost a tenth of a whole-tree scan.
   */
  descendantsOfType(types: string | string[]): SyntaxNode[] {
    const { tree, at } = this;
    const end = tree.store.subtreeEnd[at]!;
    const { groupStart, places } = tree.kindIndex();
    const found: SyntaxNode[] = [];
    // for each type asked, its run of `places` inside this subtree: [from[t], to[t])
    const from: number[] = [];
    const to: number[] = [];
    for (const type of typeof types === 'string' ? [types] : types) {
      const kind = TYPES.find(type);
      // a type first named after the index was made has no node in this tree
      if (kind === undefined || kind + 1 >= groupStart.length) continue;
      const last = groupStart[kind + 1]!;
      const first = lowerBound(places, at, groupStart[kind]!, last);
      if (first < last && places[first]! < end && !from.includes(first)) {
        from.push(first);
        to.push(lowerBound(places, end, first, last));
      }
    }
    // one run is in document order already; several are merged (a node's place is its document order)
    if (from.length === 1) {
      for (let k = from[0]!; k < to[0]!; k++) found.push(new SyntaxNode(tree, places[k]!));
      return found;
    }
    for (;;) {
      let next = -1;
      for (let t = 0; t < from.length; t++) if (from[t]! < to[t]! && (next === -1 || places[from[t]!]! < places[from[next]!]!)) next = t;
      if (next === -1) return found;
      found.push(new SyntaxNode(tree, places[from[next]!++]!));
    }
  }

  /**
   * Visit the named nodes of this subtree in document order; `visit` returning false skips a node's
   * descendants. One pass over the range, jumping over what is skipped.
   */
  walkNamed(visit: (n: SyntaxNode) => boolean | void): void {
    const { flags, subtreeEnd } = this.tree.store;
    const end = subtreeEnd[this.at]!;
    for (let i = this.at; i < end; ) {
      // an anonymous node is a token, with nothing under it
      if (!(flags[i]! & NAMED) || visit(new SyntaxNode(this.tree, i)) === false) i = subtreeEnd[i]!;
      else i++;
    }
  }

  /** tree-sitter's S-expression: named nodes, with their fields */
  toString(): string {
    const { subtreeEnd, flags, field } = this.tree.store;
    let out = `(${this.type}`;
    for (let c = this.at + 1; c < subtreeEnd[this.at]!; c = subtreeEnd[c]!) {
      if (!(flags[c]! & NAMED)) continue;
      const name = FIELD_NAMES[field[c]!];
      out += ` ${name ? `${name}: ` : ''}${new SyntaxNode(this.tree, c).toString()}`;
    }
    return `${out})`;
  }
}

export class SyntaxTree implements GoTree {
  private lineStarts: number[] | undefined;

  constructor(
    readonly source: string,
    readonly store: NodeStore,
    readonly root: number,
  ) {}

  get rootNode(): SyntaxNode {
    return new SyntaxNode(this, this.root);
  }

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

  /**
   * The tree's nodes grouped by type, each group in document order: `places` holds the group of type id
   * `k` from `groupStart[k]` to `groupStart[k + 1]`. Made on first use, by a counting sort.
   */
  private byKind: { groupStart: Int32Array; places: Int32Array } | undefined;

  kindIndex(): { groupStart: Int32Array; places: Int32Array } {
    if (this.byKind) return this.byKind;
    const kinds = TYPE_NAMES.length;
    const from = this.root;
    const to = this.store.subtreeEnd[from]!;
    return (this.byKind = kindIndexOf(this.store.kind, from, to, new Int32Array(kinds + 1), new Int32Array(to - from)));
  }

  /** The index kindIndex() would make, made elsewhere (the parse thread: packTrees). */
  adoptKindIndex(index: { groupStart: Int32Array; places: Int32Array }): void {
    this.byKind = index;
  }

  private deleted = false;

  /**
   * The tree is no longer read (its nodes with it): its store may be used again once all its trees are
   * deleted. A tree never deleted is simply collected with its store.
   */
  delete(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.byKind = undefined;
    this.store.release();
  }
}

/**
 * The nodes from `from` to `to` of `kind` grouped by type (see SyntaxTree.kindIndex), by a counting sort
 * into `groupStart` (one more than the types, zeroed) and `places` (one per node).
 */
function kindIndexOf(kind: Uint16Array, from: number, to: number, groupStart: Int32Array, places: Int32Array): { groupStart: Int32Array; places: Int32Array } {
  const kinds = groupStart.length - 1;
  for (let i = from; i < to; i++) groupStart[kind[i]! + 1]!++;
  for (let k = 0; k < kinds; k++) groupStart[k + 1]! += groupStart[k]!;
  const next = groupStart.slice(0, kinds);
  for (let i = from; i < to; i++) places[next[kind[i]!]!++] = i;
  return { groupStart, places };
}

/**
 * Trees copied out of their stores into one set of arrays, to be sent to another thread (the arrays'
 * buffers are transferred, not copied): src/cli/parse-thread.ts parses ahead of the analyses this way.
 */
export interface PackedTrees {
  arrays: NodeArrays;
  /** each tree's root in the arrays, in the order given; -1 for none (the parser gave up on that file) */
  roots: number[];
  /** the names the type and field ids stand for in the thread that packed them (ids are made on first use) */
  types: string[];
  fields: (string | null)[];
  /**
   * With `indexed`, each tree's kindIndex, made where the trees were packed: tree i's `groupStart` is
   * `groupStarts` from i * (types.length + 1), its `places` the part of `places` over its nodes.
   */
  index?: { groupStarts: Int32Array; places: Int32Array };
}

/**
 * Copy `trees` (undefined: none) into one PackedTrees, `indexed`: with their kind indexes (the parse thread
 * makes them, so that the main thread does not); the trees themselves are left as they were.
 */
export function packTrees(trees: readonly (SyntaxTree | undefined)[], indexed = false): PackedTrees {
  const packed = packNodes(trees);
  if (indexed) packed.index = packIndex(packed);
  return packed;
}

/** Each packed tree's kind index, over the packed arrays. */
function packIndex({ arrays, roots, types }: PackedTrees): { groupStarts: Int32Array; places: Int32Array } {
  const width = types.length + 1;
  const groupStarts = new Int32Array(roots.length * width);
  const places = new Int32Array(arrays.kind.length);
  for (const [i, root] of roots.entries()) {
    if (root < 0) continue;
    const end = arrays.subtreeEnd[root]!;
    kindIndexOf(arrays.kind, root, end, groupStarts.subarray(i * width, (i + 1) * width), places.subarray(root, end));
  }
  return { groupStarts, places };
}

function packNodes(trees: readonly (SyntaxTree | undefined)[]): PackedTrees {
  let total = 0;
  for (const tree of trees) if (tree) total += tree.store.subtreeEnd[tree.root]! - tree.root;
  const arrays: NodeArrays = {
    kind: new Uint16Array(total),
    flags: new Uint8Array(total),
    field: new Uint8Array(total),
    start: new Int32Array(total),
    end: new Int32Array(total),
    parent: new Int32Array(total),
    subtreeEnd: new Int32Array(total),
  };
  const roots: number[] = [];
  let at = 0;
  for (const tree of trees) {
    if (!tree) {
      roots.push(-1);
      continue;
    }
    const { store, root } = tree;
    const to = store.subtreeEnd[root]!;
    arrays.kind.set(store.kind.subarray(root, to), at);
    arrays.flags.set(store.flags.subarray(root, to), at);
    arrays.field.set(store.field.subarray(root, to), at);
    arrays.start.set(store.start.subarray(root, to), at);
    arrays.end.set(store.end.subarray(root, to), at);
    // places within the tree move with it (the root's parent is none, -1, wherever it lies); the parse
    // thread's trees lie where they go (NodeStore.rewind), and are copied in one piece
    const shift = at - root;
    if (shift === 0) {
      arrays.parent.set(store.parent.subarray(root, to), at);
      arrays.subtreeEnd.set(store.subtreeEnd.subarray(root, to), at);
    } else {
      for (let i = root; i < to; i++) {
        arrays.parent[i + shift] = i === root ? -1 : store.parent[i]! + shift;
        arrays.subtreeEnd[i + shift] = store.subtreeEnd[i]! + shift;
      }
    }
    roots.push(at);
    at += to - root;
  }
  return { arrays, roots, types: TYPE_NAMES.slice(), fields: FIELD_NAMES.slice() };
}

/** The buffers to transfer with a PackedTrees. */
export function transferablesOf(packed: PackedTrees): ArrayBuffer[] {
  const index = packed.index ? [packed.index.groupStarts.buffer as ArrayBuffer, packed.index.places.buffer as ArrayBuffer] : [];
  return [...Object.values(packed.arrays).map((a: NodeArrays[keyof NodeArrays]) => a.buffer as ArrayBuffer), ...index];
}

/** The trees of a PackedTrees (made in this thread or another) over their sources, in one new store. */
export function unpackTrees(packed: PackedTrees, sources: readonly string[]): (SyntaxTree | undefined)[] {
  const { arrays, roots } = packed;
  if (sources.length !== roots.length) throw new Error(`unpackTrees: ${roots.length} trees, ${sources.length} sources`);
  // an index by the other thread's type ids holds only where the ids are this thread's
  const sameIds = renumber(arrays.kind, packed.types, TYPES);
  renumber(arrays.field, packed.fields, FIELDS);
  const store = NodeStore.adopt(arrays, roots.filter((r) => r >= 0).length);
  const width = packed.types.length + 1;
  return roots.map((root, i) => {
    if (root < 0) return undefined;
    const tree = new SyntaxTree(sources[i]!, store, root);
    if (packed.index && sameIds) {
      const { groupStarts, places } = packed.index;
      tree.adoptKindIndex({ groupStart: groupStarts.subarray(i * width, (i + 1) * width), places: places.subarray(root, arrays.subtreeEnd[root]!) });
    }
    return tree;
  });
}

/** Ids given under another thread's `names` as this thread's, in place (no work where the two agree, as they do when both load the same parser); whether they agreed. */
function renumber(ids: Uint16Array | Uint8Array, names: readonly (string | null)[], ours: Names): boolean {
  let same = true;
  for (let i = 0; i < names.length && same; i++) same = ours.names[i] === names[i];
  if (same) return true;
  const map = names.map((name) => (name === null ? 0 : ours.id(name)));
  for (let i = 0; i < ids.length; i++) ids[i] = map[ids[i]!]!;
  return false;
}
