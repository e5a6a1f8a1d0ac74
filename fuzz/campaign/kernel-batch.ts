// One batch of a campaign on the live kernel: the kernel search's sequences
// (half of them mutations of the campaign's kernel corpus once it has one),
// each run in a fresh private namespace and against the linux spec, one at
// a time. A disagreement counts only once a fresh namespace with generous
// settling confirms it (kernel-search.ts); one that does not come back is
// returned as flaky. What the batch computes is a function of its seed and
// guide as far as the kernel answers the same sequence the same way, which
// is what confirmation checks for every finding.

import fc from 'fast-check';
import { toKernelCase, kernelOpsArb } from '../kernel-cases.ts';
import { kernelCoverage } from '../kernel-coverage.ts';
import { confirmSettleMs, laneNeverRan, searchKernel } from '../kernel-search.ts';
import { mutatedOpsArb } from '../mutate.ts';
import { CoverageTally, entriesFor, type Guide } from '../guide.ts';
import type { Op } from '../../model/ops.ts';
import { LINUX } from '../../model/profile.ts';
import { differentialRun, type DifferentialResult } from '../../properties/differential.ts';
import { buildReport } from '../../reports/failure.ts';
import { renderReportMarkdown } from '../../reports/markdown.ts';
import { encodeToken, type ReplayCase } from '../../reports/token.ts';
import type { BatchFinding, BatchFlaky, BatchResult, BatchSpec } from './batch.ts';

export function runKernelBatch(b: BatchSpec, guide: Guide): BatchResult {
  const asCase = (ops: readonly Op[]): ReplayCase => ({ profile: LINUX.name, impl: b.impl, kind: 'sequential', ops: [...ops] });
  const tally = new CoverageTally(b.impl, guide.counts);
  const { entries, weights } = entriesFor(guide, b.impl, 'sequential');
  const corpus = entries.flatMap((e) => (e.case.kind === 'sequential' ? [e.case.ops] : []));
  const fresh = kernelOpsArb(b.maxOps);
  // A mutation may insert what the kernel cannot be asked, or a second SYN
  // from one peer; toKernelCase makes it a sequence the lane runs.
  const arbitrary = corpus.length === 0
    ? fresh
    : fc.oneof(fresh, mutatedOpsArb(LINUX, corpus, weights, b.maxOps).map(toKernelCase).filter((ops) => ops.length > 0));
  const r = searchKernel({
    seed: b.seed, runs: b.runs, maxLength: b.maxOps, arbitrary,
    onRun: (ops, run) => tally.record(run === undefined ? new Set() : kernelCoverage(ops, { outcomes: run.actual, wire: run.wire }), ops.length, () => asCase(ops)),
  });
  // A batch the lane ran nothing of stops the campaign: counting its cases
  // as passed would report a clean run of a lane that cannot run.
  const never = laneNeverRan(r);
  if (never) throw never;
  const findings = r.findings.map((f): BatchFinding => {
    const c = asCase(f.ops);
    const report = buildReport(c, differentialRun(f.ops, f.result), LINUX);
    const confirmed = `Confirmed on a fresh namespace, ${confirmSettleMs(f.ops)} ms settling after every op: ${differencesOf(f.confirmation).join('; ')}.`;
    return {
      signature: f.signature, impl: b.impl, implName: b.impl, profile: LINUX.name, mode: 'sequential', token: encodeToken(c),
      title: report.title, message: report.message, report: `${renderReportMarkdown(report)}\n${confirmed}\n`, batch: b.index,
    };
  });
  const flaky = r.flaky.map((f): BatchFlaky => ({
    signature: f.signature, impl: b.impl, token: encodeToken(asCase(f.ops)), batch: b.index, shown: differencesOf(f.shown), rerun: differencesOf(f.rerun),
  }));
  return { index: b.index, cases: tally.cases, steps: tally.steps, findings, counts: tally.counts, candidates: tally.candidates, flaky };
}

const differencesOf = (r: DifferentialResult): string[] =>
  r.disagreement === undefined ? [] : [`step ${r.disagreement.step}`, ...r.disagreement.differences];
