// The report of a run over several implementations: Markdown for people,
// JSON for tools. Numbers are counts from the run, never timings, so the
// same seed writes the same bytes.

import type { Profile } from '../model/profile.ts';
import type { ConcurrentFinding, Finding } from '../properties/findings.ts';
import { renderConcurrentFinding, renderFinding } from './text.ts';

export interface ImplRun {
  impl: string;
  profile: Profile;
  runs: number;
  findings: Finding[];
  concurrentRuns: number;
  concurrent: ConcurrentFinding[];
}

export function renderMarkdown(runs: ImplRun[], seed: number): string {
  const out: string[] = ['# savedsyn run', '', `Seed ${seed}. Each implementation is checked in lockstep against its profile's spec.`, ''];
  out.push('| implementation | profile | single-thread cases | findings | concurrent cases | races |', '| --- | --- | --- | --- | --- | --- |');
  for (const r of runs) out.push(`| ${r.impl} | ${r.profile.name} | ${r.runs} | ${r.findings.length} | ${r.concurrentRuns} | ${r.concurrent.length} |`);
  for (const r of runs) {
    out.push('', `## ${r.impl}`, '');
    if (r.findings.length + r.concurrent.length === 0) {
      out.push(`No failure in ${r.runs} single-thread and ${r.concurrentRuns} concurrent cases.`);
      continue;
    }
    for (const f of r.findings) out.push('```', renderFinding(f, r.profile), '```', '');
    for (const f of r.concurrent) out.push('```', renderConcurrentFinding(f, r.profile), '```', '');
  }
  return out.join('\n') + '\n';
}

export function renderJson(runs: ImplRun[], seed: number): string {
  return JSON.stringify({
    version: 1,
    seed,
    implementations: runs.map((r) => ({
      name: r.impl,
      profile: r.profile.name,
      cases: r.runs,
      findings: r.findings.map((f) => ({
        signature: f.signature, oracle: f.oracle, message: f.message, ops: f.ops,
        failingStep: f.result.failure?.step, runsToFind: f.runsToFind, seed: f.seed, path: f.path,
      })),
      concurrentCases: r.concurrentRuns,
      races: r.concurrent.map((f) => ({
        signature: f.signature, oracle: f.oracle, message: f.message, case: f.case, scheduler: f.scheduler,
        runsToFind: f.runsToFind, seed: f.seed, path: f.path,
      })),
    })),
  }, null, 2) + '\n';
}
