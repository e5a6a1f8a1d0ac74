// Searching for failures with fast-check: generate single-thread cases, run
// them in lockstep, and let fast-check shrink each failure to a minimal case.
// A search collects distinct failures by signature: once one is found, later
// rounds treat it as known and look for something new.

import fc from 'fast-check';
import type { Implementation } from '../model/impl/types.ts';
import type { Op } from '../model/ops.ts';
import type { Profile } from '../model/profile.ts';
import { runLockstep, type RunResult } from '../properties/lockstep.ts';
import { opsArb } from './arbitraries.ts';
import { minimize } from './minimize.ts';

export interface Finding {
  signature: string;
  oracle: string;
  message: string;
  /** The shrunk case. */
  ops: Op[];
  result: RunResult;
  /** fast-check's seed and path: `fc.assert(..., { seed, path })` replays it. */
  seed: number;
  path: string;
  /** Cases generated before this failure was first hit. */
  runsToFind: number;
}

export interface SearchOptions {
  seed: number;
  /** Total generated cases across all rounds. */
  runs: number;
  maxOps?: number;
  /** Stop after this many distinct findings. */
  maxFindings?: number;
  /** Only this signature counts as a failure (a targeted search). */
  only?: string;
  onProgress?: (done: number, total: number, findings: number) => void;
  /** Filled with what the generated cases covered (see RunOptions). */
  coverage?: Set<string>;
}

export interface SearchResult {
  findings: Finding[];
  runs: number;
}

export function search(impl: Implementation, profile: Profile, opts: SearchOptions): SearchResult {
  const known = new Set<string>();
  const findings: Finding[] = [];
  const arb = opsArb(profile, opts.maxOps ?? 30);
  let used = 0;
  for (let round = 0; used < opts.runs && findings.length < (opts.maxFindings ?? Infinity); round++) {
    const seed = (opts.seed + round * 0x9e3779b1) | 0;
    const prop = fc.property(arb, (ops) => {
      const failure = runLockstep(impl, profile, ops, { coverage: opts.coverage }).failure;
      if (failure === undefined) return true;
      if (opts.only !== undefined) return failure.signature !== opts.only;
      return known.has(failure.signature);
    });
    const out = fc.check(prop, { seed, numRuns: opts.runs - used });
    // numRuns counts generated cases up to the failure, not shrink attempts.
    used += out.numRuns;
    opts.onProgress?.(used, opts.runs, findings.length);
    if (!out.failed || out.counterexample === null) break;
    const shrunk = out.counterexample[0];
    const first = runLockstep(impl, profile, shrunk).failure;
    if (first === undefined) {
      throw new Error(`harness defect: a counterexample (seed ${seed}, path ${out.counterexamplePath}) passed when re-run`);
    }
    const ops = minimize(shrunk.slice(0, first.step + 1), (c) => runLockstep(impl, profile, c).failure?.signature === first.signature);
    const result = runLockstep(impl, profile, ops, { recordSites: true });
    const failure = result.failure;
    if (failure?.signature !== first.signature) {
      throw new Error(`harness defect: the minimised case no longer fails with ${first.signature}`);
    }
    known.add(failure.signature);
    findings.push({
      signature: failure.signature, oracle: failure.oracle, message: failure.message, ops, result,
      seed, path: out.counterexamplePath ?? '', runsToFind: used,
    });
    if (opts.only !== undefined) break;
  }
  return { findings, runs: used };
}
