// One mutant verified within its own bounds, as the scan and the tests run
// it: stopped at its first counterexample (a shortest one), pairs only
// when its bounds ask for them.

import { verify, type VerifyResult } from '../api/verify.ts';
import { mutant, type Mutant } from './mutant-defs.ts';

export interface MutantVerdict {
  name: string;
  expected: string;
  found: boolean;
  signature: string | undefined;
  oracle: string | undefined;
  /** Ops of the counterexample (a race: setup and both threads). */
  length: number | undefined;
  /** A race's context switches. */
  contextSwitches: number | undefined;
  depthCompleted: number;
  outOfTime: boolean;
  seconds: number;
  result: VerifyResult;
}

export async function verifyMutant(m: Mutant, opts: { timeBudget?: number; workers?: number } = {}): Promise<MutantVerdict> {
  const b = m.verify ?? {};
  const r = await verify(mutant(m), { ...b, pairDepth: b.pairDepth ?? -1, stopAtFirst: true, workers: opts.workers ?? 0, timeBudget: opts.timeBudget });
  const f = r.findings[0];
  const race = r.races[0];
  const length = f !== undefined
    ? f.ops.length
    : race !== undefined ? race.case.setup.length + race.case.threads.reduce((n, t) => n + t.ops.length, 0) : undefined;
  return {
    name: m.name, expected: m.oracle, found: f !== undefined || race !== undefined,
    signature: f?.signature ?? race?.signature, oracle: f?.oracle ?? race?.oracle, length,
    contextSwitches: race?.contextSwitches, depthCompleted: r.depthCompleted, outOfTime: r.outOfTime, seconds: r.seconds, result: r,
  };
}
