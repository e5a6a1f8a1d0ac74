// The result of checking implementations, as data a tool reads (JSON) and
// as Markdown for people. One record per finding carries everything a
// reader needs without the run behind it: the shrunk case, a replay token
// and the finding as text. Numbers are counts, never timings, so the same
// seed writes the same bytes.

import type { Op } from '../model/ops.ts';
import type { Profile, ProfileName } from '../model/profile.ts';
import type { ConcurrentCase } from '../properties/concurrent.ts';
import type { ConcurrentFinding, Finding, SchedulerName } from '../properties/findings.ts';
import { renderConcurrentFinding, renderFinding } from './text.ts';
import { replayCommand } from './replay-command.ts';
import { encodeToken } from './token.ts';
import { block, plain, span } from './md.ts';

export const SUMMARY_VERSION = 2;

/** A single-thread finding as report.json holds it. */
export interface FindingRecord {
  signature: string;
  oracle: string;
  message: string;
  /** The shrunk case. */
  ops: Op[];
  /** The index of the op at which the oracle fired. */
  failingStep: number | undefined;
  runsToFind: number;
  /** fast-check's seed and path of the unshrunk case. */
  seed: number;
  path: string;
  /** `savedsyn replay <token>` runs the shrunk case again. */
  token: string;
  /** The command that does: with `--impl` when the implementation is a
   * module, which a token never loads by itself. */
  replay: string;
  /** The finding as the terminal shows it. */
  text: string;
}

/** A race as report.json holds it. */
export interface RaceRecord {
  signature: string;
  oracle: string;
  message: string;
  /** The shrunk case, with the schedule that fails it. */
  case: ConcurrentCase;
  /** The scheduler that found it; `exhaustive` for verify, which tries
   * every interleaving of a pair. */
  scheduler: SchedulerName | 'exhaustive';
  runsToFind: number;
  seed: number;
  path: string;
  token: string;
  replay: string;
  text: string;
}

/** What checking one implementation found. */
export interface CheckResult {
  name: string;
  profile: ProfileName;
  seed: number;
  /** Single-thread cases generated. */
  cases: number;
  findings: FindingRecord[];
  /** Concurrent cases generated. */
  concurrentCases: number;
  races: RaceRecord[];
}

/** `source` is how the implementation was named (a bundled name or a module
 * path): a token names it so a replay can load it again. */
export function findingRecord(f: Finding, profile: Profile, source: string): FindingRecord {
  const token = encodeToken({ profile: profile.name, impl: source, kind: 'sequential', ops: f.ops });
  return {
    signature: f.signature, oracle: f.oracle, message: f.message, ops: f.ops,
    failingStep: f.result.failure?.step, runsToFind: f.runsToFind, seed: f.seed, path: f.path,
    token, replay: replayCommand(token, source),
    text: renderFinding(f, profile),
  };
}

export function raceRecord(f: ConcurrentFinding, profile: Profile, source: string): RaceRecord {
  const token = encodeToken({ profile: profile.name, impl: source, kind: 'concurrent', case: f.case });
  return {
    signature: f.signature, oracle: f.oracle, message: f.message, case: f.case, scheduler: f.scheduler,
    runsToFind: f.runsToFind, seed: f.seed, path: f.path,
    token, replay: replayCommand(token, source),
    text: renderConcurrentFinding(f, profile),
  };
}

export function failed(r: CheckResult): boolean {
  return r.findings.length + r.races.length > 0;
}

export function renderMarkdown(runs: readonly CheckResult[], seed: number): string {
  const out: string[] = ['# savedsyn run', '', `Seed ${seed}. Each implementation is checked in lockstep against its profile's spec.`, ''];
  out.push('| implementation | profile | single-thread cases | findings | concurrent cases | races |', '| --- | --- | --- | --- | --- | --- |');
  for (const r of runs) out.push(`| ${plain(r.name)} | ${r.profile} | ${r.cases} | ${r.findings.length} | ${r.concurrentCases} | ${r.races.length} |`);
  for (const r of runs) {
    out.push('', `## ${plain(r.name)}`, '');
    if (!failed(r)) {
      out.push(`No failure in ${r.cases} single-thread and ${r.concurrentCases} concurrent cases.`);
      continue;
    }
    for (const f of [...r.findings, ...r.races]) out.push(...block(f.text), '', `Replay: ${span(f.replay)}`, '');
  }
  return out.join('\n') + '\n';
}

export function renderJson(runs: readonly CheckResult[], seed: number): string {
  return JSON.stringify({ version: SUMMARY_VERSION, seed, implementations: runs }, null, 2) + '\n';
}
