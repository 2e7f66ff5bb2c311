import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { callSites, descendants, loadGoParser, parseGo, parseGoWithTreeSitter, reparseGoWithTreeSitter } from '../../src/lang/go.js';
import { FIXTURES } from '../support/fixtures.js';

function goFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) goFiles(path, out);
    else if (name.endsWith('.go')) out.push(path);
  }
  return out;
}

describe('descendants: the per-tree index answers as descendantsOfType does', () => {
  beforeAll(async () => {
    await loadGoParser();
  });

  it('on every scope of every Go fixture, for single types, type lists, and types it does not index', () => {
    const questions = [
      ['call_expression'],
      ['go_statement', 'call_expression'],
      ['assignment_statement', 'inc_statement', 'dec_statement', 'call_expression'],
      ['parameter_declaration', 'variadic_parameter_declaration', 'var_spec', 'const_spec', 'short_var_declaration', 'range_clause'],
      ['for_statement', 'func_literal', 'call_expression'],
      ['identifier'],
      ['selector_expression', 'call_expression'],
    ];
    let scopes = 0;
    for (const path of goFiles(FIXTURES)) {
      const tree = parseGo(readFileSync(path, 'utf8'));
      try {
        const scopeNodes = [tree.rootNode, ...tree.rootNode.descendantsOfType(['function_declaration', 'method_declaration', 'func_literal', 'call_expression', 'block'])];
        for (const scope of scopeNodes) {
          if (!scope) continue;
          scopes++;
          for (const types of questions) {
            const want = scope.descendantsOfType(types).map((n) => n!.id);
            expect(descendants(scope, types).map((n) => n.id), `${path} ${scope.type}@${scope.startIndex} ${types}`).toEqual(want);
          }
        }
      } finally {
        tree.delete();
      }
    }
    expect(scopes).toBeGreaterThan(1000);
  });

  it('reads call sites from callee text as the nodes say them, on every function of every Go fixture', () => {
    let calls = 0;
    for (const path of goFiles(FIXTURES)) {
      const tree = parseGo(readFileSync(path, 'utf8'));
      try {
        for (const fn of tree.rootNode.descendantsOfType(['function_declaration', 'method_declaration', 'func_literal'])) {
          const want = fn!.descendantsOfType('call_expression').map((call) => {
            const f = call!.childForFieldName('function')!;
            if (f.type === 'identifier') return { calleeType: 'identifier', name: f.text };
            if (f.type !== 'selector_expression') return { calleeType: 'other', name: '' };
            const operand = f.childForFieldName('operand')!;
            return { calleeType: f.type, name: f.childForFieldName('field')!.text, operand: operand.text.replace(/\s+/g, ''), operandType: operand.type === 'identifier' ? 'identifier' : 'other' };
          });
          const got = callSites(fn!).map(({ node: _, ...site }) => site);
          expect(got, `${path} ${fn!.startPosition.row + 1}`).toEqual(want);
          calls += got.length;
        }
      } finally {
        tree.delete();
      }
    }
    expect(calls).toBeGreaterThan(3000);
  });

  // tree-sitter's incremental reparse, which serves the files the JavaScript parser gives up on
  it('reparses an edited file into the tree a fresh parse gives, positions and all, over many edits of every fixture', () => {
    // deterministic edits: insert, delete and replace lines, with ASCII and non-ASCII text, near the start, middle and end
    const inserts = ['\ttime.Sleep(5 * time.Second)', '// é ü 日本 comment', '\tx := "{"', '', 'func extra() {}'];
    let edits = 0;
    for (const path of goFiles(FIXTURES)) {
      const text = readFileSync(path, 'utf8');
      const lines = text.split('\n');
      const base = { text, tree: parseGoWithTreeSitter(text) };
      try {
        for (const [k, at] of [1, Math.floor(lines.length / 2), lines.length - 1].entries()) {
          for (const edit of ['insert', 'delete', 'replace'] as const) {
            const next = [...lines];
            if (edit === 'insert') next.splice(at, 0, inserts[(k + edits) % inserts.length]!);
            else if (edit === 'delete') next.splice(at, 1);
            else next[at] = `${next[at] ?? ''} // ü`;
            const changed = next.join('\n');
            const fresh = parseGoWithTreeSitter(changed);
            const again = reparseGoWithTreeSitter(base, changed);
            try {
              const shape = (t: typeof fresh) => `${t.rootNode.toString()} ${t.rootNode.descendantsOfType('call_expression').map((n) => `${n!.startIndex}:${n!.endPosition.row}.${n!.endPosition.column}`).join(',')}`;
              expect(shape(again), `${path} ${edit} at line ${at}`).toBe(shape(fresh));
              edits++;
            } finally {
              fresh.delete();
              again.delete();
            }
          }
        }
        // the old tree is left as it was
        const fresh = parseGoWithTreeSitter(text);
        expect(base.tree.rootNode.toString()).toBe(fresh.rootNode.toString());
        fresh.delete();
      } finally {
        base.tree.delete();
      }
    }
    expect(edits).toBeGreaterThan(2000);
  });
});
