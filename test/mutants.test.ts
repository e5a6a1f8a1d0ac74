// The linux lane passes because the harness checks, not because it cannot
// see: each small defect planted here in the linux implementation is caught
// within the budget, by the oracle expected to catch it, and by the default
// search of `savedsyn check` on each of ten seeds, not only the one this
// suite uses.
import { describe, expect, it } from 'vitest';
import { searchConcurrent } from '../fuzz/concurrent-search.ts';
import { DEFAULT_RUNS } from '../fuzz/defaults.ts';
import { search } from '../fuzz/search.ts';
import { LINUX } from '../model/profile.ts';
import { MUTANTS, mutant, type Mutant } from './mutant-defs.ts';

const BUDGET = 3000;

describe('planted defects in the linux implementation are caught', () => {
  for (const m of MUTANTS) {
    it(`${m.name} (by ${m.oracle})`, () => {
      // A defect may show first by a consequence another oracle names (a
      // lost SYN as a wrong state, or as a read nothing explains): the
      // search looks for the one this oracle names.
      const opts = { seed: 99, runs: BUDGET, maxFindings: 1, oracle: m.oracle };
      const { findings, runs } = m.lane === 'single-thread'
        ? search(mutant(m), LINUX, { ...opts, shrink: false })
        : searchConcurrent(mutant(m), LINUX, { ...opts, schedulers: ['random', 'pct'] });
      expect(findings.length, `no failure in ${runs} cases`).toBe(1);
      expect(findings[0].oracle).toBe(m.oracle);
    });
  }

  it('without view(), a read that does not consume is caught by the one-shot oracle', () => {
    const m = MUTANTS.find((x) => x.name === 'a successful read does not free the copy')!;
    const { findings } = search(mutant(m, false), LINUX, { seed: 99, runs: BUDGET, only: 'one-shot:getsockopt' });
    expect(findings.map((f) => f.oracle)).toEqual(['one-shot']);
  });
});

const SEEDS = Array.from({ length: 10 }, (_, i) => i + 1);

/** Cases the default check runs before its first failure, single-thread
 * then concurrent as check() does, or undefined when it finds none. */
function casesToFirstFailure(m: Mutant, seed: number): number | undefined {
  const impl = mutant(m);
  // Where the first failure comes is the search's, not the shrinker's.
  const single = search(impl, LINUX, { seed, runs: DEFAULT_RUNS, maxFindings: 1, shrink: false });
  if (single.findings.length > 0) return single.findings[0].runsToFind;
  const concurrent = searchConcurrent(impl, LINUX, { seed, runs: DEFAULT_RUNS, schedulers: ['random', 'pct'], maxFindings: 1, shrink: false });
  return concurrent.findings.length > 0 ? single.runs + concurrent.findings[0].runsToFind : undefined;
}

describe('the default check finds every planted defect, on each of ten seeds', () => {
  it('counts the cases to a failure without shrinking it as the search that shrinks does', () => {
    const impl = mutant(MUTANTS.find((x) => x.name === 'a buffer too small frees the copy anyway')!);
    const shrunk = search(impl, LINUX, { seed: 3, runs: DEFAULT_RUNS, maxFindings: 1 }).findings[0];
    const asGenerated = search(impl, LINUX, { seed: 3, runs: DEFAULT_RUNS, maxFindings: 1, shrink: false }).findings[0];
    expect(asGenerated.runsToFind).toBe(shrunk.runsToFind);
    expect(asGenerated.ops.length).toBeGreaterThan(shrunk.ops.length);
  });

  for (const m of MUTANTS) {
    it(`${m.name}: seeds ${SEEDS[0]}..${SEEDS[SEEDS.length - 1]}`, () => {
      const missed = SEEDS.filter((seed) => casesToFirstFailure(m, seed) === undefined);
      expect(missed, 'seeds on which the default check finds nothing').toEqual([]);
    });
  }
});
