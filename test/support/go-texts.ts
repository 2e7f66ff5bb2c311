import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GoNode } from '../../src/lang/go-syntax-tree.js';
import { FIXTURES } from './fixtures.js';

/** The texts of the first `count` Go files of the fixtures, in a fixed order. */
export function goFixtureTexts(count: number): string[] {
  const paths: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.go')) paths.push(path);
    }
  };
  walk(FIXTURES);
  return paths.slice(0, count).map((p) => readFileSync(p, 'utf8'));
}

/** Every node in document order: type, named, span, field in its parent, and its parent's span. */
export function dump(root: GoNode): string[] {
  const out: string[] = [];
  const stack: [GoNode, string | null][] = [[root, null]];
  while (stack.length) {
    const [n, field] = stack.pop()!;
    out.push(`${n.type}|${n.isNamed}|${n.startIndex}-${n.endIndex}|${field}|${n.parent ? `${n.parent.startIndex}-${n.parent.endIndex}` : 'root'}|${n.childCount}`);
    const withFields = n as GoNode & { fieldNameForChild(i: number): string | null };
    for (let i = n.childCount - 1; i >= 0; i--) stack.push([n.child(i)!, withFields.fieldNameForChild(i) ?? null]);
  }
  return out;
}
