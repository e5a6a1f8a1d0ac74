// One batch of a campaign: a pure function of its description and its
// guide, so any worker on any machine computes the same findings, coverage
// and corpus candidates for the same batch.

import { loadImplementation } from '../../model/impl/load.ts';
import { KERNEL_IMPL } from '../../model/kernel/name.ts';
import type { Op } from '../../model/ops.ts';
import { profileByName } from '../../model/profile.ts';
import type { ConcurrentCase } from '../../properties/concurrent.ts';
import { buildReport } from '../../reports/failure.ts';
import { renderReportMarkdown } from '../../reports/markdown.ts';
import { encodeToken, type ReplayCase } from '../../reports/token.ts';
import { searchConcurrent } from '../concurrent-search.ts';
import { CoverageTally, entriesFor, NO_GUIDE, type Guide } from '../guide.ts';
import type { SchedulerName } from '../../properties/findings.ts';
import { search } from '../search.ts';
import { DEFAULT_OP_TIMEOUT } from '../watchdog/host.ts';
import { underWatchdog } from '../../properties/impl-calls.ts';
import { watchedBatch } from './watched-batch.ts';

export interface BatchSpec {
  index: number;
  /** How the implementation was named: a bundled name or a module path. */
  impl: string;
  mode: 'sequential' | 'concurrent';
  seed: number;
  runs: number;
  /** The longest generated single-thread case; concurrent cases keep
   * their own bounds, as in `check`. */
  maxOps: number;
  schedulers: SchedulerName[];
  /** The batch boundary whose coverage and corpus guide this batch; absent
   * when the campaign runs unguided. */
  guideAt?: number;
  /** Milliseconds an op may run before it is a hang finding (default
   * 2000); 0 runs the batch unwatched on the calling thread. */
  opTimeout?: number;
}

export interface BatchFinding {
  signature: string;
  impl: string;
  /** The implementation's own name; absent in findings written before it
   * was recorded. */
  implName?: string;
  profile: string;
  mode: BatchSpec['mode'];
  token: string;
  title: string;
  message: string;
  report: string;
  batch: number;
}

/** A disagreement with the live kernel that did not come back on a fresh
 * namespace: recorded beside the findings, never one of them. */
export interface BatchFlaky {
  signature: string;
  impl: string;
  /** The sequence, as a replay token. */
  token: string;
  batch: number;
  /** The differences the first run showed, and what the rerun showed. */
  shown: string[];
  rerun: string[];
}

export interface BatchResult {
  index: number;
  cases: number;
  /** Ops run by the generated cases, shrinking not included. */
  steps: number;
  findings: BatchFinding[];
  /** Cases that reached each coverage key (`impl|t:…`, `impl|s:…`, `impl|i:…`). */
  counts: Map<string, number>;
  /** Cases that reached keys the guide had not seen, first reacher only. */
  candidates: Array<{ keys: string[]; case: ReplayCase }>;
  /** Kernel batches only: disagreements that did not persist. */
  flaky?: BatchFlaky[];
}

const corpora = new WeakMap<Guide, Map<string, { ops: Op[][]; cases: ConcurrentCase[]; weights: number[] }>>();

/** The corpus one batch mutates, computed once per guide and implementation. */
function corpusFor(guide: Guide, impl: string, mode: BatchSpec['mode']): { ops: Op[][]; cases: ConcurrentCase[]; weights: number[] } {
  let byImpl = corpora.get(guide);
  if (byImpl === undefined) corpora.set(guide, (byImpl = new Map()));
  const key = `${mode}\0${impl}`;
  let got = byImpl.get(key);
  if (got === undefined) {
    const { entries, weights } = entriesFor(guide, impl, mode);
    got = {
      ops: entries.flatMap((e) => (e.case.kind === 'sequential' ? [e.case.ops] : [])),
      cases: entries.flatMap((e) => (e.case.kind === 'concurrent' ? [e.case.case] : [])),
      weights,
    };
    byImpl.set(key, got);
  }
  return got;
}

export async function runBatch(b: BatchSpec, guide: Guide = NO_GUIDE): Promise<BatchResult> {
  // The kernel is no implementation to load or watch: the lane bounds its
  // own runs, and it is called in no thread of ours.
  if (b.impl === KERNEL_IMPL) return (await import('./kernel-batch.ts')).runKernelBatch(b, guide);
  if ((b.opTimeout ?? DEFAULT_OP_TIMEOUT) > 0 && !underWatchdog()) return watchedBatch(b, guide);
  const impl = await loadImplementation(b.impl, { createTimeout: b.opTimeout });
  const profile = profileByName(impl.profile)!;
  const found: Array<{ c: ReplayCase; result: Parameters<typeof buildReport>[1] }> = [];
  const tally = new CoverageTally(b.impl, guide.counts);
  const corpus = corpusFor(guide, b.impl, b.mode);
  if (b.mode === 'sequential') {
    const r = search(impl, profile, { seed: b.seed, runs: b.runs, maxOps: b.maxOps, tally, guide: { corpus: corpus.ops, weights: corpus.weights } });
    for (const f of r.findings) found.push({ c: { profile: profile.name, impl: b.impl, kind: 'sequential', ops: f.ops }, result: f.result });
  } else {
    const r = searchConcurrent(impl, profile, {
      seed: b.seed, runs: b.runs, schedulers: b.schedulers, tally, guide: { corpus: corpus.cases, weights: corpus.weights },
    });
    for (const f of r.findings) found.push({ c: { profile: profile.name, impl: b.impl, kind: 'concurrent', case: f.case }, result: f.result });
  }
  const findings = found.map(({ c, result }): BatchFinding => {
    const report = buildReport(c, result, profile);
    return {
      signature: report.signature, impl: b.impl, implName: impl.name, profile: profile.name, mode: b.mode, token: encodeToken(c),
      title: report.title, message: report.message, report: renderReportMarkdown(report), batch: b.index,
    };
  });
  return { index: b.index, cases: tally.cases, steps: tally.steps, findings, counts: tally.counts, candidates: tally.candidates };
}
