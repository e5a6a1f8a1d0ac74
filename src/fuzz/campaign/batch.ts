// One batch of a campaign: a pure function of its description, so any
// worker on any machine computes the same findings for the same batch.

import { loadImplementation } from '../../cli/load.ts';
import { profileByName } from '../../model/profile.ts';
import { buildReport } from '../../reports/failure.ts';
import { renderReportMarkdown } from '../../reports/markdown.ts';
import { encodeToken, type ReplayCase } from '../../reports/token.ts';
import { searchConcurrent } from '../concurrent-search.ts';
import type { SchedulerName } from '../schedulers.ts';
import { search } from '../search.ts';

export interface BatchSpec {
  index: number;
  /** How the implementation was named: a bundled name or a module path. */
  impl: string;
  mode: 'sequential' | 'concurrent';
  seed: number;
  runs: number;
  schedulers: SchedulerName[];
}

export interface BatchFinding {
  signature: string;
  impl: string;
  profile: string;
  mode: BatchSpec['mode'];
  token: string;
  title: string;
  message: string;
  report: string;
  batch: number;
}

export interface BatchResult {
  index: number;
  cases: number;
  findings: BatchFinding[];
  /** Spec transitions (`t:`) and implementation sites (`s:`) covered, per implementation. */
  coverage: string[];
}

export async function runBatch(b: BatchSpec): Promise<BatchResult> {
  const impl = await loadImplementation(b.impl);
  const profile = profileByName(impl.profile)!;
  const found: Array<{ c: ReplayCase; result: Parameters<typeof buildReport>[1] }> = [];
  let cases: number;
  const coverage = new Set<string>();
  if (b.mode === 'sequential') {
    const r = search(impl, profile, { seed: b.seed, runs: b.runs, coverage });
    cases = r.runs;
    for (const f of r.findings) found.push({ c: { profile: profile.name, impl: b.impl, kind: 'sequential', ops: f.ops }, result: f.result });
  } else {
    const r = searchConcurrent(impl, profile, { seed: b.seed, runs: b.runs, schedulers: b.schedulers, coverage });
    cases = r.runs;
    for (const f of r.findings) found.push({ c: { profile: profile.name, impl: b.impl, kind: 'concurrent', case: f.case }, result: f.result });
  }
  const findings = found.map(({ c, result }): BatchFinding => {
    const report = buildReport(c, result, profile);
    return {
      signature: report.signature, impl: b.impl, profile: profile.name, mode: b.mode, token: encodeToken(c),
      title: report.title, message: report.message, report: renderReportMarkdown(report), batch: b.index,
    };
  });
  return { index: b.index, cases, findings, coverage: [...coverage].map((k) => `${b.impl}|${k}`) };
}
