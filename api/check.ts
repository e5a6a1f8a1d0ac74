// Checking one implementation: the single-thread search, then the
// concurrent one, each failure shrunk and recorded as report.json holds it.

import { searchConcurrent } from '../fuzz/concurrent-search.ts';
import { search } from '../fuzz/search.ts';
import { loadImplementation } from '../model/impl/load.ts';
import type { Implementation } from '../model/impl/types.ts';
import { profileByName } from '../model/profile.ts';
import type { SchedulerName } from '../properties/findings.ts';
import { findingRecord, raceRecord, type CheckResult } from '../reports/summary.ts';

export interface CheckOptions {
  /** Every random choice flows from it (default 1). */
  seed?: number;
  /** Generated single-thread cases (default 2000). */
  runs?: number;
  /** Generated concurrent cases (default: runs); 0 skips interleavings. */
  threadRuns?: number;
  /** The longest generated case (default 30). */
  maxOps?: number;
  /** Schedulers for concurrent cases (default both). */
  schedulers?: SchedulerName[];
  /** How replay tokens name the implementation (default: the name or path
   * given, or the object's `name`): what `savedsyn replay` will load. */
  source?: string;
  /** Told after each round of the searches: which one, cases done of the
   * budget, distinct findings so far. */
  onProgress?: (search: 'single-thread' | 'concurrent', done: number, total: number, findings: number) => void;
}

/** Search `implementation` (an object, a bundled name or a module path) for
 * failures against its profile's spec. Tokens in the result name the
 * implementation as given, or by its `name` when given as an object. */
export async function check(implementation: Implementation | string, options: CheckOptions = {}): Promise<CheckResult> {
  const impl = typeof implementation === 'string' ? await loadImplementation(implementation) : implementation;
  const source = options.source ?? (typeof implementation === 'string' ? implementation : impl.name);
  const profile = profileByName(impl.profile);
  if (profile === undefined) throw new TypeError(`${impl.name} names no known profile: ${String(impl.profile)}`);
  const seed = options.seed ?? 1;
  const runs = options.runs ?? 2000;
  const threadRuns = options.threadRuns ?? runs;
  const progress = options.onProgress;
  const single = search(impl, profile, { seed, runs, maxOps: options.maxOps ?? 30, onProgress: progress && ((d, t, f) => progress('single-thread', d, t, f)) });
  const concurrent = threadRuns === 0
    ? { findings: [], runs: 0 }
    : searchConcurrent(impl, profile, {
      seed, runs: threadRuns, schedulers: options.schedulers ?? ['random', 'pct'],
      onProgress: progress && ((d, t, f) => progress('concurrent', d, t, f)),
    });
  return {
    name: impl.name, profile: profile.name, seed,
    cases: single.runs, findings: single.findings.map((f) => findingRecord(f, profile, source)),
    concurrentCases: concurrent.runs, races: concurrent.findings.map((f) => raceRecord(f, profile, source)),
  };
}
