// The CLI's JSON output: the contract in DESIGN.md ({conclusion, aiAuthored, findings[...]}) plus
// the fields a script may want next (why, aiReasons, fingerprints, evidence, notes).

import type { ReviewedFinding, Verdict } from '../engine/types.js';

export interface JsonFinding {
  checkId: string;
  path: string;
  line: number;
  endLine?: number;
  severity: ReviewedFinding['severity'];
  blocking: boolean;
  message: string;
  fingerprint: string;
  evidence?: string;
  suggestion?: ReviewedFinding['suggestion'];
  accepted?: ReviewedFinding['accepted'];
}

export interface JsonReport {
  conclusion: Verdict['conclusion'];
  aiAuthored: boolean;
  aiReasons: string[];
  why: string;
  findings: JsonFinding[];
  notes: string[];
}

export function toJsonReport(verdict: Verdict): JsonReport {
  return {
    conclusion: verdict.conclusion,
    aiAuthored: verdict.authorship.aiAuthored,
    aiReasons: verdict.authorship.reasons,
    why: verdict.why,
    findings: verdict.findings.map((f) => ({
      checkId: f.checkId,
      path: f.path,
      line: f.line,
      ...(f.endLine !== undefined && f.endLine !== f.line ? { endLine: f.endLine } : {}),
      severity: f.severity,
      blocking: f.blocking,
      message: f.message,
      fingerprint: f.fingerprint,
      ...(f.evidence ? { evidence: f.evidence } : {}),
      ...(f.suggestion ? { suggestion: f.suggestion } : {}),
      ...(f.accepted ? { accepted: f.accepted } : {}),
    })),
    notes: verdict.notes,
  };
}

export function renderJson(verdict: Verdict): string {
  return `${JSON.stringify(toJsonReport(verdict), null, 2)}\n`;
}
