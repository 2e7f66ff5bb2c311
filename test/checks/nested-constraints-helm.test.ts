// The Helm template forms nested-constraints evaluates, what it leaves unknown, what makes it give up,
// and where each rendered line comes from.

import { describe, expect, it } from 'vitest';
import { nestedConstraints } from '../../checks/nested-constraints.js';
import { parseConfig } from '../../src/config/schema.js';
import { review } from '../../src/engine/engine.js';
import { memorySnapshot } from '../../src/engine/memory.js';
import { Undecidable, parseValues, renderTemplate } from '../../src/analysis/helm.js';
import { UNRESOLVED } from '../../src/analysis/workloads.js';

const render = (template: string, values = '') => renderTemplate(template, 't.yaml', parseValues(values, 'values.yaml'));
const text = (template: string, values = '') => render(template, values).text;

describe('renderTemplate', () => {
  it('substitutes values paths, with default and quote', () => {
    const values = 'a:\n  b: 3\nname: op\nempty: ""\n';
    expect(text('x: {{ .Values.a.b }}\ny: {{ .Values.missing | default 2 }}\nz: {{ .Values.empty | default "d" | quote }}\nn: {{ .Values.name }}', values)).toBe(
      'x: 3\ny: 2\nz: "d"\nn: op',
    );
  });

  it('renders toYaml with nindent, and maps each line to its values line', () => {
    const values = 'resources:\n  requests:\n    cpu: 500m\n    memory: 1Gi\n';
    const r = render('r:\n  {{- toYaml .Values.resources | nindent 2 }}\n', values);
    expect(r.text).toBe('r:\n  requests:\n    cpu: "500m"\n    memory: "1Gi"\n');
    expect(r.lineOrigins[2]![0]).toEqual({ path: 'values.yaml', line: 3 });
    expect(r.lineOrigins[3]![0]).toEqual({ path: 'values.yaml', line: 4 });
    expect(r.lineOrigins[3]!.at(-1)).toEqual({ path: 't.yaml', line: 2 });
  });

  it('pipes toYaml through trim and nindent', () => {
    expect(text('r:{{ .Values.r | toYaml | trim | nindent 2 }}', 'r:\n  cpu: 1\n')).toBe('r:\n  cpu: 1');
    expect(text('a: {{ "  x  " | trim | quote }}')).toBe('a: "x"');
  });

  it('evaluates with, if/else and not on values, and applies the trim markers', () => {
    const template = [
      '{{- with .Values.res }}',
      'res:',
      '  {{- toYaml . | nindent 2 }}',
      '{{- end }}',
      '{{- if not .Values.hpa }}',
      'replicas: {{ .Values.n }}',
      '{{- else if .Values.other }}',
      'other: 1',
      '{{- else }}',
      'none: 1',
      '{{- end }}',
    ].join('\n');
    // The newline after `with ... }}` stays: only `{{-` and `-}}` trim.
    expect(text(template, 'res: {cpu: 1}\nhpa: false\nn: 2\n')).toBe('\nres:\n  cpu: 1\nreplicas: 2');
    expect(text(template, 'res: {}\nhpa: true\nother: true\n')).toBe('\nother: 1');
    expect(text(template, 'hpa: true\n')).toBe('\nnone: 1');
  });

  it('ranges over lists and maps of values', () => {
    expect(text('{{- range .Values.xs }}\n- {{ . }}\n{{- end }}', 'xs: [a, b]\n')).toBe('\n- a\n- b');
    expect(text('{{- range .Values.m }}\n- {{ .n }}\n{{- end }}', 'm: {z: {n: 2}, a: {n: 1}}\n')).toBe('\n- 1\n- 2');
  });

  it('leaves include, .Release and unknown functions unresolved, and skips comments and defines', () => {
    const out = text('{{/* a comment */}}\n{{- define "x" }}ignored{{ end }}\nname: {{ include "x" . }}\nrel: {{ .Release.Name }}\nn: {{ add 1 2 }}');
    expect(out).toBe(`\nname: ${UNRESOLVED}\nrel: ${UNRESOLVED}\nn: ${UNRESOLVED}`);
  });

  it('gives up on an if it cannot decide, a missing parent, or an unclosed action, rather than guess', () => {
    expect(() => render('{{- if .Capabilities.APIVersions.Has "x" }}\na: 1\n{{- end }}')).toThrow(Undecidable);
    expect(() => render('a: {{ .Values.nope.deeper }}')).toThrow(Undecidable);
    expect(() => render('a: {{ .Values.x')).toThrow(Undecidable);
    expect(() => render('{{- if .Values.a }}\nno end')).toThrow(Undecidable);
    expect(() => render('{{- range $i, $x := .Values.a }}{{ end }}')).toThrow(Undecidable);
  });

  it('stays bounded on hostile input', () => {
    expect(() => render('{{ if true }}'.repeat(100) + '{{ end }}'.repeat(100))).toThrow(Undecidable);
    expect(() => render('{{- range .Values.xs }}\n- a\n{{- end }}', `xs: [${Array.from({ length: 600 }, () => '1').join(',')}]`)).toThrow(Undecidable);
    const aliases = 'a: &a [1]\n' + Array.from({ length: 150 }, (_, i) => `k${i}: *a`).join('\n');
    expect(parseValues(aliases, 'values.yaml')).toBeUndefined();
    const nested = '{{ range $.Values.xs }}'.repeat(6) + '{{ end }}'.repeat(6);
    expect(() => render(nested, `xs: [${Array.from({ length: 400 }, () => '1').join(',')}]`)).toThrow(/steps/);
    expect(text('x: {{ "unterminated }}')).toBe(`x: ${UNRESOLVED}`);
  });
});

describe('notes', () => {
  const config = parseConfig(
    'chaos:\n  manifests: ["deploy/**"]\n  vcluster:\n    quota: {requests.memory: 1Gi}\n',
    'config.yml',
  );
  it('says which file it could not evaluate, and reports nothing on it', async () => {
    const chart = (n: number) => ({
      'deploy/Chart.yaml': 'apiVersion: v2\nname: op\nversion: 0.1.0\n',
      'deploy/values.yaml': `replicaCount: ${n}\n`,
      'deploy/templates/d.yaml': [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: {name: op}',
        'spec:',
        '  {{- if .Capabilities.APIVersions.Has "autoscaling/v2" }}',
        '  replicas: {{ .Values.replicaCount }}',
        '  {{- end }}',
        '  template:',
        '    spec:',
        '      containers: [{name: m, resources: {requests: {memory: 1Gi}}}]',
      ].join('\n'),
    });
    const verdict = await review(memorySnapshot({ base: chart(1), head: chart(4) }), { config, checks: [nestedConstraints] });
    expect(verdict.findings).toEqual([]);
    expect(verdict.notes.join('\n')).toMatch(/nested-constraints: deploy\/templates\/d\.yaml: not evaluated: line 5: cannot evaluate "if \.Capabilities/);
  });
});
