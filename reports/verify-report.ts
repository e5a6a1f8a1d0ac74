// What a verify run wrote, for people and for tools. report.json has the
// shape of a check's, races included, so whatever reads a check's report
// reads this one; report.md leads with the certificate, since what was
// proved matters as much as what was found.

import type { ConcurrentCase } from '../properties/concurrent.ts';
import type { ProfileName } from '../model/profile.ts';
import type { CheckResult, FindingRecord, RaceRecord } from './summary.ts';
import { block, plain, span } from './md.ts';

/** What of a verify result the reports need. */
export interface VerifyReportInput {
  name: string;
  profile: ProfileName;
  transitions: number;
  pairs: { schedules: number } | undefined;
  certificate: string;
  findings: FindingRecord[];
  races: ReadonlyArray<{ signature: string; oracle: string; message: string; case: ConcurrentCase; token: string; replay: string; text: string }>;
}

/** The run as a check's result: transitions for cases, schedules for
 * concurrent cases. */
export function verifyAsCheck(r: VerifyReportInput): CheckResult {
  const races: RaceRecord[] = r.races.map((x) => ({
    signature: x.signature, oracle: x.oracle, message: x.message, case: x.case, scheduler: 'exhaustive',
    runsToFind: 0, seed: 0, path: '', token: x.token, replay: x.replay, text: x.text,
  }));
  return { name: r.name, profile: r.profile, seed: 0, cases: r.transitions, findings: r.findings, concurrentCases: r.pairs?.schedules ?? 0, races };
}

export function renderVerifyMarkdown(r: VerifyReportInput): string {
  // The time is certificate.txt's alone: the same run writes the same report.
  const out = [`# savedsyn verify: ${plain(r.name)}`, '', ...block(r.certificate.replace(/\n {2}time .*$/m, '')), ''];
  const all = [...r.findings, ...r.races];
  if (all.length > 0) {
    out.push(`## ${all.length === 1 ? 'The counterexample' : `${all.length} counterexamples`}`, '');
    out.push('Each is a shortest one of its signature: fewest ops, then fewest context switches.', '');
    for (const f of all) out.push(`### ${plain(f.signature)}`, '', ...block(f.text), '', `Replay: ${span(f.replay)}`, '');
  }
  return out.join('\n');
}
