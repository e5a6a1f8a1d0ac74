// Running a token's case again, on the implementation it names or on one the
// caller supplies.

import { loadImplementation, looksLikePath } from '../model/impl/load.ts';
import type { Implementation } from '../model/impl/types.ts';
import { profileByName } from '../model/profile.ts';
import { UserError } from '../model/user-error.ts';
import { replay as followSchedule, runConcurrent, validateCase } from '../properties/concurrent.ts';
import { runLockstep, type RunResult } from '../properties/lockstep.ts';
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

/** Replay a token. `implementation` runs the case on that object or module;
 * without it, the bundled implementation the token names. */
export async function replay(token: string, options: { implementation?: Implementation | string } = {}): Promise<ReplayResult> {
  const c = decodeToken(token);
  const given = options.implementation;
  // A token may come from anyone: the module it names is not loaded unless
  // the caller names it too, or it is bundled.
  if (given === undefined && looksLikePath(c.impl)) {
    throw new UserError(`the token names the module ${JSON.stringify(c.impl)}, and a token never chooses code to run: name the module yourself (savedsyn replay TOKEN --impl PATH)`);
  }
  const impl = given === undefined ? await loadImplementation(c.impl) : typeof given === 'string' ? await loadImplementation(given) : given;
  if (impl.profile !== c.profile) throw new UserError(`the token is for profile ${c.profile}, but ${impl.name} implements ${impl.profile}`);
  const profile = profileByName(c.profile)!;
  let run: RunResult;
  if (c.kind === 'sequential') {
    run = runLockstep(impl, profile, c.ops, { recordSites: true });
  } else {
    const invalid = validateCase(c.case);
    if (invalid) throw new UserError(`the token's case cannot run: ${invalid}`);
    run = runConcurrent(impl, profile, c.case, followSchedule(c.case.schedule), { recordSites: true });
  }
  const signature = run.failure?.signature;
  return { case: c, signature, report: signature === undefined ? undefined : buildReport(c, run, profile), run };
}
