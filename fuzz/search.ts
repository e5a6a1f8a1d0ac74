// Searching for failures with fast-check: generate single-thread cases, run
// them in lockstep, and let fast-check shrink each failure to a minimal case.
// A search collects distinct failures by signature: once one is found, later
// rounds treat it as known and look for something new.

import { notReproducible } from '../model/impl/determinism.ts';
import fc from 'fast-check';
import type { Implementation } from '../model/impl/types.ts';
import type { Op } from '../model/ops.ts';
import type { Profile } from '../model/profile.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { opsArb } from './arbitraries.ts';
import type { CoverageTally } from './guide.ts';
import { mutatedOpsArb } from './mutate.ts';
import { minimize } from './minimize.ts';
import { shrinkHang } from './shrink-hang.ts';
import { runRound } from './round.ts';
import type { Finding } from '../properties/findings.ts';

export interface SearchOptions {
  seed: number;
  /** Total generated cases across all rounds. */
  runs: number;
  maxOps?: number;
  /** Stop after this many distinct findings. */
  maxFindings?: number;
  /** Only this signature counts as a failure (a targeted search). */
  only?: string;
  /** Only failures named by this oracle count (a targeted search). */
  oracle?: string;
  onProgress?: (done: number, total: number, findings: number) => void;
  /** Told what each generated case covered (shrink attempts are not cases). */
  tally?: CoverageTally;
  /** Corpus cases to mutate for half of the generated cases. */
  guide?: { corpus: readonly (readonly Op[])[]; weights: readonly number[] };
  /** false: each finding is its case as generated, neither shrunk nor
   * minimized. For counting the cases a search needs to fail (the mutant
   * suite), where what the case is does not matter; never for reports. */
  shrink?: boolean;
}

export interface SearchResult {
  findings: Finding[];
  runs: number;
}

export function search(impl: Implementation, profile: Profile, opts: SearchOptions): SearchResult {
  const known = new Set<string>();
  const findings: Finding[] = [];
  const maxOps = opts.maxOps ?? 30;
  const fresh = opsArb(profile, maxOps);
  const guide = opts.guide;
  const arb = guide === undefined || guide.corpus.length === 0
    ? fresh
    : fc.oneof(fresh, mutatedOpsArb(profile, guide.corpus, guide.weights, maxOps));
  const tally = opts.tally;
  let used = 0;
  const budget = { hangingCases: 0 };
  for (let round = 0; used < opts.runs && findings.length < (opts.maxFindings ?? Infinity); round++) {
    const seed = (opts.seed + round * 0x9e3779b1) | 0;
    const { out, stopped } = runRound(arb, { seed, numRuns: opts.runs - used, budget, endOnFailure: opts.shrink === false, progress: (g) => opts.onProgress?.(used + g, opts.runs, findings.length) }, (ops, generating) => {
      const keys = tally && generating ? new Set<string>() : undefined;
      const failure = runLockstep(impl, profile, ops, { coverage: keys }).failure;
      if (keys) tally!.record(keys, ops.length, () => ({ profile: profile.name, impl: tally!.impl, kind: 'sequential', ops }));
      const pass = failure === undefined
        || (opts.only !== undefined ? failure.signature !== opts.only
          : opts.oracle !== undefined ? failure.oracle !== opts.oracle || known.has(failure.signature) : known.has(failure.signature));
      return { pass, hung: failure?.oracle === 'hang' };
    });
    // numRuns counts generated cases up to the failure, not shrink
    // attempts; a stop is not a case.
    used += out.numRuns - (stopped ? 1 : 0);
    opts.onProgress?.(used, opts.runs, findings.length);
    if (stopped || !out.failed || out.counterexample === null) break;
    const shrunk = out.counterexample[0];
    const first = runLockstep(impl, profile, shrunk).failure;
    if (first === undefined) {
      throw notReproducible(impl, `a failing case (seed ${seed}, path ${out.counterexamplePath}) passed when run again`);
    }
    const fails = (c: Op[]): boolean => runLockstep(impl, profile, c).failure?.signature === first.signature;
    // Ops after the failing step rarely matter, but they can: a later read
    // that consumes the SYN keeps the case from ending in a worse leak.
    const cut = shrunk.slice(0, first.step + 1);
    const ops = opts.shrink === false ? shrunk
      : (first.oracle === 'hang' ? shrinkHang : minimize)(cut.length < shrunk.length && fails(cut) ? cut : shrunk, fails);
    const result = runLockstep(impl, profile, ops, { recordSites: true });
    const failure = result.failure;
    if (failure?.signature !== first.signature) {
      throw notReproducible(impl, `the case shrunk from a failure with ${first.signature} no longer fails with it when run again`);
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
