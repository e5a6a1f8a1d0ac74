// One round of a search: fast-check generates cases until one fails, then
// shrinks it. Both searches share what a round has to know besides the
// verdict: which runs are generated cases (not shrink attempts, so coverage
// and progress count only those), and what a hang costs. Each hang is seen
// only after the watchdog's bound: fast-check does not shrink one (shrinkHang
// does, for about one bound), a hang while shrinking another failure ends
// that shrink, and past HANGING_CASES the search stops. A case run again
// stops at its hang at once (properties/call-trail.ts).

import fc from 'fast-check';
import { HANGING_CASES } from './hang-budget.ts';
import { untilInterfaceBroken } from './interface-guard.ts';

/** Generated cases between two progress reports. */
const PROGRESS_EVERY = 100;

export interface Verdict {
  pass: boolean;
  hung: boolean;
}

export interface RoundOptions {
  seed: number;
  numRuns: number;
  /** Generated cases that hung, over the whole search. */
  budget: { hangingCases: number };
  /** Told the generated cases so far, every PROGRESS_EVERY of them. */
  progress?: (generated: number) => void;
  /** Stop at the first failure, without shrinking it. */
  endOnFailure?: boolean;
}

/** `judge` runs a case; `generating` is false for shrink attempts. A
 * stopped round ended on the hang budget, and its last run is not a case. */
export function runRound<T>(arb: fc.Arbitrary<T>, o: RoundOptions, judge: (x: T, generating: boolean) => Verdict): { out: fc.RunDetails<[T]>; stopped: boolean } {
  let shrinking = false;
  let generated = 0;
  let settled = false;
  let stopped = false;
  const guard = untilInterfaceBroken((x: T) => {
    if (settled) return true;
    if (!shrinking && o.budget.hangingCases >= HANGING_CASES) {
      stopped = settled = true;
      return false;
    }
    const { pass, hung } = judge(x, !shrinking);
    if (hung && !shrinking) o.budget.hangingCases++;
    if (hung && (shrinking || !pass)) settled = true;
    if (!pass) shrinking = true;
    else if (++generated % PROGRESS_EVERY === 0) o.progress?.(generated);
    return pass;
  });
  const out = fc.check(fc.property(arb, guard.predicate), { seed: o.seed, numRuns: o.numRuns, endOnFailure: o.endOnFailure === true });
  guard.rethrow();
  return { out, stopped };
}
