// Running a token's case again, on the implementation it names or on one the
// caller supplies.

import { DEFAULT_OP_TIMEOUT, watched } from '../fuzz/watchdog/host.ts';
import { replayOnKernel } from '../fuzz/kernel-replay.ts';
import { givenObject, loadImplementation, looksLikePath } from '../model/impl/load.ts';
import { KERNEL_IMPL } from '../model/kernel/name.ts';
import { originOf } from '../model/impl/origin.ts';
import type { Implementation } from '../model/impl/types.ts';
import { profileByName } from '../model/profile.ts';
import { UserError } from '../model/user-error.ts';
import { replay as followSchedule, runConcurrent, validateCase } from '../properties/concurrent.ts';
import { underWatchdog, withKnownHangs } from '../properties/impl-calls.ts';
import { runLockstep, type RunResult } from '../properties/lockstep.ts';
import type { Profile } from '../model/profile.ts';
import { buildReport, type FailureReport } from '../reports/failure.ts';
import { decodeToken, type ReplayCase } from '../reports/token.ts';

export interface ReplayResult {
  case: ReplayCase;
  /** The signature of the failure, or undefined when the case passes. */
  signature: string | undefined;
  /** The failure as a report (render it with renderReportMarkdown or
   * renderReportHtml), or undefined when the case passes. */
  report: FailureReport | undefined;
  run: RunResult;
}

export interface ReplayOptions {
  implementation?: Implementation | string;
  /** Milliseconds an op may run before the case fails with `hang:<op>`
   * (default 2000; 0: no watchdog). As for check(), an object not from
   * loadImplementation runs unwatched. */
  opTimeout?: number;
}

/** Replay a token. `implementation` runs the case on that object or module;
 * without it, the bundled implementation the token names, or, for a token
 * of a kernel campaign's, the live kernel (fuzz/kernel-replay.ts). */
export async function replay(token: string, options: ReplayOptions = {}): Promise<ReplayResult> {
  const c = decodeToken(token);
  const given = options.implementation;
  // The live kernel is named, not loaded: its case runs on the lane, unless
  // the caller names an implementation to run it on instead. Named by the
  // caller, it runs any linux case: one the spec and the kernel are to be
  // compared on.
  if ((given === undefined && c.impl === KERNEL_IMPL) || given === KERNEL_IMPL) {
    const run = replayOnKernel(c);
    const signature = run.failure?.signature;
    return { case: c, signature, report: signature === undefined ? undefined : buildReport(c, run, profileByName(c.profile)!), run };
  }
  // A token may come from anyone: the module it names is not loaded unless
  // the caller names it too, or it is bundled.
  if (given === undefined && looksLikePath(c.impl)) {
    throw new UserError(`the token names the module ${JSON.stringify(c.impl)}, and a token never chooses code to run: name the module yourself (savedsyn replay TOKEN --impl PATH)`);
  }
  const load = { createTimeout: options.opTimeout };
  const impl = given === undefined ? await loadImplementation(c.impl, load) : typeof given === 'string' ? await loadImplementation(given, load) : givenObject(given, 'the implementation given to replay()');
  if (impl.profile !== c.profile) throw new UserError(`the token is for profile ${c.profile}, but ${impl.name} implements ${impl.profile}`);
  const profile = profileByName(c.profile)!;
  const invalid = c.kind === 'concurrent' ? validateCase(c.case) : undefined;
  if (invalid) throw new UserError(`the token's case cannot run: ${invalid}`);
  const run = await runWatched(impl, profile, c, options.opTimeout ?? DEFAULT_OP_TIMEOUT);
  const signature = run.failure?.signature;
  return { case: c, signature, report: signature === undefined ? undefined : buildReport(c, run, profile), run };
}

/** A case run with its sites recorded, on this thread, where it stops at
 * any op that does not return within `bound` ms: found first on a watched
 * thread, where the same computation hangs is where this one fails the op
 * as a hang. An object with no origin runs unwatched. */
export async function runWatched(impl: Implementation, profile: Profile, c: ReplayCase, bound: number): Promise<RunResult> {
  const origin = originOf(impl);
  const hangs = origin === undefined || bound <= 0 || underWatchdog()
    ? []
    : (await watched<void, WatchedReplay>(bound, { module: import.meta.url, fn: 'replayWatched', input: { origin, case: c } })).hangs;
  return withKnownHangs(hangs, bound, () => runCase(impl, profile, c));
}

function runCase(impl: Implementation, profile: Profile, c: ReplayCase): RunResult {
  return c.kind === 'sequential'
    ? runLockstep(impl, profile, c.ops, { recordSites: true })
    : runConcurrent(impl, profile, c.case, followSchedule(c.case.schedule), { recordSites: true });
}

interface WatchedReplay {
  origin: string;
  case: ReplayCase;
}

/** The case run on the watchdog's thread, for where it hangs. */
export async function replayWatched(input: WatchedReplay): Promise<void> {
  runCase(await loadImplementation(input.origin), profileByName(input.case.profile)!, input.case);
}
