// Searching for disagreements between the linux spec and the live kernel:
// generated sequences run on both, and each disagreement is minimised to a
// 1-minimal sequence (removing any op makes the two agree) and deduplicated
// by signature.

import fc from 'fast-check';
import type { Op } from '../model/ops.ts';
import { runDifferential } from '../properties/differential.ts';
import { kernelOpsArb } from './kernel-cases.ts';
import { minimize } from './minimize.ts';
import type { KernelFinding } from '../properties/findings.ts';

export function searchKernel(opts: { seed: number; runs: number; onProgress?: (done: number) => void }): { findings: KernelFinding[]; runs: number } {
  const known = new Set<string>();
  const findings: KernelFinding[] = [];
  let used = 0;
  for (let round = 0; used < opts.runs; round++) {
    const out = fc.check(fc.property(kernelOpsArb(), (ops) => {
      const sig = runDifferential(ops).disagreement?.signature;
      return sig === undefined || known.has(sig);
    }), { seed: (opts.seed + round * 0x9e3779b1) | 0, numRuns: opts.runs - used, endOnFailure: true });
    used += out.numRuns;
    opts.onProgress?.(used);
    if (!out.failed || out.counterexample === null) break;
    const ops = out.counterexample[0];
    const first = runDifferential(ops).disagreement;
    // The kernel's timing is not ours: a disagreement that does not come back
    // is reported as such rather than dropped.
    const signature = first?.signature ?? 'kernel:unreproducible';
    known.add(signature);
    const min = first
      ? minimize(ops.slice(0, first.step + 1), (c) => runDifferential(c).disagreement?.signature === signature)
      : ops;
    findings.push({ signature, ops: min, result: runDifferential(min), runsToFind: used });
  }
  return { findings, runs: used };
}
