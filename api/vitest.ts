// savedsyn's properties inside a kernel developer's own vitest suite:
//
//   import { savedsynSuite } from 'savedsyn/vitest';
//   import mine from './my-impl.ts';
//   savedsynSuite(mine);
//
// Two property tests through @fast-check/vitest: single-thread cases in
// lockstep with the profile's spec, and concurrent cases under a scheduler,
// linearizable against it. A failure is shrunk by fast-check, which prints
// its seed and path; the message is the finding as `savedsyn` prints it,
// with a replay token.

import { test } from '@fast-check/vitest';
import { describe } from 'vitest';
import { opsArb } from '../fuzz/arbitraries.ts';
import { concurrentArb } from '../fuzz/concurrent-cases.ts';
import { runWith, sequentialFailure } from '../fuzz/concurrent-search.ts';
import { bundledByName } from '../model/impl/registry.ts';
import type { Implementation } from '../model/impl/types.ts';
import { profileByName } from '../model/profile.ts';
import type { SchedulerName } from '../properties/findings.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { raceRecord, findingRecord } from '../reports/summary.ts';

export interface SuiteOptions {
  /** Single-thread cases (default 500). */
  runs?: number;
  /** Concurrent cases (default 500); 0 leaves the concurrent test out. */
  threadRuns?: number;
  /** The longest generated case (default 30). */
  maxOps?: number;
  schedulers?: SchedulerName[];
  /** fast-check's seed; by default fast-check picks one and prints it on failure. */
  seed?: number;
}

/** Declare savedsyn's lockstep and concurrent properties for
 * `implementation` (an object, or a bundled implementation's name). */
export function savedsynSuite(implementation: Implementation | string, options: SuiteOptions = {}): void {
  const impl = typeof implementation === 'string' ? bundledByName(implementation) : implementation;
  if (impl === undefined) throw new TypeError(`no bundled implementation '${String(implementation)}': import a module and pass it`);
  const profile = profileByName(impl.profile);
  if (profile === undefined) throw new TypeError(`${impl.name} names no known profile: ${String(impl.profile)}`);
  const seed = options.seed === undefined ? {} : { seed: options.seed };
  // A token names the implementation; one not bundled is given again by path.
  const replayWith = bundledByName(impl.name) === impl ? '' : ` --impl <the module exporting ${impl.name}>`;
  const threadRuns = options.threadRuns ?? 500;
  describe(`savedsyn: ${impl.name} (profile ${profile.name})`, () => {
    test.prop([opsArb(profile, options.maxOps ?? 30)], { numRuns: options.runs ?? 500, ...seed })(
      'single-thread cases agree with the spec, step by step',
      (ops) => {
        const result = runLockstep(impl, profile, ops);
        const f = result.failure;
        if (f === undefined) return;
        const record = findingRecord({ signature: f.signature, oracle: f.oracle, message: f.message, ops, result, seed: 0, path: '', runsToFind: 0 }, profile, impl.name);
        throw new Error(`${record.text}\n  replay: npx savedsyn replay ${record.token}${replayWith}`);
      },
    );
    if (threadRuns === 0) return;
    test.prop([concurrentArb(profile, options.schedulers ?? ['random', 'pct'])], { numRuns: threadRuns, ...seed })(
      'concurrent cases are linearizable against the spec',
      (g) => {
        const result = runWith(impl, profile, g.case, g.scheduler, g.seed);
        const f = result.failure;
        // What one op at a time also shows is the single-thread test's.
        if (f === undefined || sequentialFailure(impl, profile, g.case, result) !== undefined) return;
        const c = { ...g.case, schedule: result.schedule };
        const record = raceRecord({ signature: f.signature, oracle: f.oracle, message: f.message, case: c, result, scheduler: g.scheduler, seed: 0, path: '', runsToFind: 0 }, profile, impl.name);
        throw new Error(`${record.text}\n  replay: npx savedsyn replay ${record.token}${replayWith}`);
      },
    );
  });
}
