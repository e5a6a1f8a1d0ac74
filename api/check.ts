// Checking one implementation: the single-thread search, then the
// concurrent one, each failure shrunk and recorded as report.json holds it.

import { searchConcurrent } from '../fuzz/concurrent-search.ts';
import { DEFAULT_RUNS } from '../fuzz/defaults.ts';
import { search } from '../fuzz/search.ts';
import { DEFAULT_OP_TIMEOUT, watched } from '../fuzz/watchdog/host.ts';
import { givenObject, loadImplementation } from '../model/impl/load.ts';
import { originOf } from '../model/impl/origin.ts';
import type { Implementation } from '../model/impl/types.ts';
import { profileByName, type Profile } from '../model/profile.ts';
import { failAlikeAfresh } from './fresh-load.ts';
import type { SchedulerName } from '../properties/findings.ts';
import { underWatchdog } from '../properties/impl-calls.ts';
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
  /** Milliseconds an op may run before it is a finding of its own,
   * `hang:<op>` (default 2000); 0 runs without the watchdog. The watchdog
   * needs the implementation loaded again on a thread of its own: a bundled
   * name, a module path, or an object from loadImplementation. Any other
   * object runs on the calling thread, unwatched. */
  opTimeout?: number;
  /** Told after each round of the searches: which one, cases done of the
   * budget, distinct findings so far. */
  onProgress?: (search: 'single-thread' | 'concurrent', done: number, total: number, findings: number) => void;
}

/** Search `implementation` (an object, a bundled name or a module path) for
 * failures against its profile's spec. Tokens in the result name the
 * implementation as given, or by its `name` when given as an object. */
export async function check(implementation: Implementation | string, options: CheckOptions = {}): Promise<CheckResult> {
  const impl = typeof implementation === 'string' ? await loadImplementation(implementation, { createTimeout: options.opTimeout }) : givenObject(implementation, 'the implementation given to check()');
  const source = options.source ?? (typeof implementation === 'string' ? implementation : impl.name);
  const profile = profileByName(impl.profile);
  if (profile === undefined) throw new TypeError(`${impl.name} names no known profile: ${String(impl.profile)}`);
  const origin = originOf(impl);
  const bound = options.opTimeout ?? DEFAULT_OP_TIMEOUT;
  if (origin !== undefined && bound > 0 && !underWatchdog()) {
    const { onProgress, ...rest } = options;
    const run = await watched<CheckResult, WatchedCheck, ProgressArgs>(bound, {
      module: import.meta.url, fn: 'checkWatched', input: { origin, options: { ...rest, source } },
      onProgress: onProgress && ((p) => onProgress(...p)),
    });
    return reproducedAfresh(impl, origin, run.result, bound);
  }
  const result = searched(impl, profile, source, options);
  return origin !== undefined && !underWatchdog() ? reproducedAfresh(impl, origin, result, bound) : result;
}

/** `result`, once each of its findings fails alike on the module loaded
 * afresh, as its token will be replayed. */
async function reproducedAfresh(impl: Implementation, origin: string, result: CheckResult, bound: number): Promise<CheckResult> {
  await failAlikeAfresh(impl, origin, [...result.findings, ...result.races], bound);
  return result;
}

function searched(impl: Implementation, profile: Profile, source: string, options: CheckOptions): CheckResult {
  const seed = options.seed ?? 1;
  const runs = options.runs ?? DEFAULT_RUNS;
  const threadRuns = options.threadRuns ?? runs;
  const progress = options.onProgress;
  const single = search(impl, profile, { seed, runs, maxOps: options.maxOps ?? 30, onProgress: progress && ((d, t, f) => progress('single-thread', d, t, f)) });
  const concurrent = threadRuns === 0
    ? { findings: [], runs: 0 }
    : searchConcurrent(impl, profile, {
      seed, runs: threadRuns, schedulers: options.schedulers ?? ['random', 'pct'], known: single.findings.map((f) => f.signature),
      onProgress: progress && ((d, t, f) => progress('concurrent', d, t, f)),
    });
  return {
    name: impl.name, profile: profile.name, seed,
    cases: single.runs, findings: single.findings.map((f) => findingRecord(f, profile, source)),
    concurrentCases: concurrent.runs, races: concurrent.findings.map((f) => raceRecord(f, profile, source)),
  };
}

interface WatchedCheck {
  origin: string;
  options: Omit<CheckOptions, 'onProgress'>;
}

type ProgressArgs = Parameters<NonNullable<CheckOptions['onProgress']>>;

/** check() as the watchdog's thread runs it. */
export async function checkWatched(input: WatchedCheck, _shared: unknown, progress: (p: ProgressArgs) => void): Promise<CheckResult> {
  return check(await loadImplementation(input.origin), { ...input.options, onProgress: (...p) => progress(p) });
}
