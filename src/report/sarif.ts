// SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`): one rule per check,
// built from the check's own docs, and one result per finding, each with a location and fingerprint.

import { INTERNAL_ERROR, SUPPRESSION } from '../engine/engine.js';
import { PR_TEXT_PATH, type Check, type ReviewedFinding, type Severity, type Verdict } from '../engine/types.js';

/**
 * Where findings on the PR title, body or commit messages point. GitHub requires a physical
 * location on every result; a path that is not in the repository is accepted and the alert is
 * shown without a code snippet. A `.github/` pseudo-path keeps these apart from real source.
 */
export const PR_TEXT_SARIF_URI = '.github/pull-request-description.md';

export interface SarifOptions {
  checks: readonly Check[];
  version: string;
  /** absolute URL of docs/checks.md, when known: rules link to `<url>#<check-id>` */
  docsUrl?: string;
}

/** GitHub code scanning rejects a run with more results than this. */
export const MAX_RESULTS = 25_000;

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', notice: 'note' };

interface SarifRule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  helpUri?: string;
  defaultConfiguration: { level: 'error' | 'warning' | 'note' };
  properties: { tags: string[] };
}

/** The engine's own findings (a check that failed, a suppression without a reason) need rules too. */
const ENGINE_RULES: Check[] = [
  {
    id: INTERNAL_ERROR,
    title: 'A check failed or ran out of time',
    docs: {
      summary: 'A check threw or overran its time budget, so its findings are unknown and the PR is not passed on it.',
      bad: { language: 'text', code: '' },
      good: { language: 'text', code: '' },
    },
    defaultSeverity: 'error',
    languages: [],
    run() {},
  },
  {
    id: SUPPRESSION,
    title: 'Suppression without a reason, or matching nothing',
    docs: {
      summary: 'A `causal-review:ignore <check-id> -- <reason>` directive must give a reason and sit on or above the line it suppresses.',
      bad: { language: 'text', code: '' },
      good: { language: 'text', code: '' },
    },
    defaultSeverity: 'warning',
    languages: [],
    run() {},
  },
];

function ruleOf(check: Check, docsUrl: string | undefined): SarifRule {
  const { summary, details, bad, good } = check.docs;
  const example = (label: string, e: Check['docs']['bad']) =>
    e.code ? `\n\n${label}${e.note ? ` (${e.note})` : ''}:\n\n\`\`\`${e.language === 'text' ? '' : e.language}\n${e.code.trimEnd()}\n\`\`\`` : '';
  return {
    id: check.id,
    name: check.id
      .split('-')
      .map((w) => w[0]!.toUpperCase() + w.slice(1))
      .join(''),
    shortDescription: { text: check.title },
    fullDescription: { text: summary },
    help: {
      text: [summary, details].filter(Boolean).join('\n\n'),
      markdown: `${[summary, details].filter(Boolean).join('\n\n')}${example('Flagged', bad)}${example('Instead', good)}`,
    },
    ...(docsUrl ? { helpUri: `${docsUrl}#${check.id}` } : {}),
    defaultConfiguration: { level: LEVEL[check.defaultSeverity] },
    properties: { tags: ['causal-review', ...check.languages] },
  };
}

function resultOf(f: ReviewedFinding, ruleIndex: number) {
  const onText = f.path === PR_TEXT_PATH;
  const region: Record<string, number> = { startLine: Math.max(1, f.line) };
  if (!onText && f.endLine && f.endLine > f.line) region.endLine = f.endLine;
  if (!onText && f.column && f.column > 0) region.startColumn = f.column;
  return {
    ruleId: f.checkId,
    ...(ruleIndex >= 0 ? { ruleIndex } : {}),
    level: LEVEL[f.severity],
    message: { text: f.message },
    locations: [
      {
        physicalLocation: {
          artifactLocation: { uri: onText ? PR_TEXT_SARIF_URI : encodePath(f.path), uriBaseId: '%SRCROOT%' },
          region,
        },
      },
    ],
    partialFingerprints: { 'causalReview/v1': f.fingerprint },
    ...(f.accepted ? { suppressions: [{ kind: 'external', justification: `accepted by ${f.accepted.by}: ${f.accepted.reason}` }] } : {}),
    properties: { blocking: f.blocking, ...(f.evidence ? { evidence: f.evidence } : {}) },
  };
}

/** A relative URI reference: each path segment percent-encoded, slashes kept. */
function encodePath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

export function toSarif(verdict: Verdict, options: SarifOptions) {
  const known = [...options.checks, ...ENGINE_RULES];
  // a finding from a check not in the registry (a removed check) still needs a rule
  for (const f of verdict.findings) {
    if (!known.some((c) => c.id === f.checkId)) {
      known.push({ ...ENGINE_RULES[0]!, id: f.checkId, title: f.checkId, defaultSeverity: f.severity });
    }
  }
  const rules = known.map((c) => ruleOf(c, options.docsUrl));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0' as const,
    runs: [
      {
        tool: {
          driver: {
            name: 'causal-review',
            version: options.version,
            ...(options.docsUrl ? { informationUri: options.docsUrl } : {}),
            rules,
          },
        },
        results: verdict.findings.slice(0, MAX_RESULTS).map((f) => resultOf(f, rules.findIndex((r) => r.id === f.checkId))),
        properties: {
          conclusion: verdict.conclusion,
          why: verdict.why,
          aiAuthored: verdict.authorship.aiAuthored,
          notes: verdict.findings.length > MAX_RESULTS ? [...verdict.notes, `only the first ${MAX_RESULTS} of ${verdict.findings.length} findings are in this file`] : verdict.notes,
        },
      },
    ],
  };
}

export function renderSarif(verdict: Verdict, options: SarifOptions): string {
  return `${JSON.stringify(toSarif(verdict, options), null, 2)}\n`;
}
