// A reply to the 2015 patch as a reviewer sends one to netdev: the patch
// quoted, each finding written under the line it concerns with its minimal
// case, its consequence, the command that replays it and the repair as a C
// diff. Plain text within 72 columns, tabs counted as 8, except what mail
// never rewraps: a quoted line of the patch, and a replay command, whose
// token only works whole.

import { bundledByName } from '../model/impl/registry.ts';
import { REPAIR_DIFFS, REPAIRS, type RepairId } from '../model/impl/rfc-v1-fixed.ts';
import { RFC_V1 } from '../model/profile.ts';
import type { Op } from '../model/ops.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { stretchWords, type FailureReport, type ReportStep, type ReportStretch } from './failure.ts';
import { postedFiles, siteInPatch } from './patch.ts';
import { decodeToken } from './token.ts';

export const REVIEW_WIDTH = 72;

export interface ReviewFinding {
  id: RepairId;
  report: FailureReport;
}

/** The width of a line on a terminal with tab stops every 8 columns. */
export function columns(line: string): number {
  let n = 0;
  for (const ch of line) n = ch === '\t' ? n + 8 - (n % 8) : n + 1;
  return n;
}

/** The line a replay command takes: one line, so that it pastes whole. */
export const replayLine = (token: string): string => `npx savedsyn replay ${token}`;

/** A quoted line of the patch, as a mail client quotes it. */
export const quoted = (line: string): string => (line === '' ? '>' : `> ${line}`);

/** repairs/<id>.diff: the repair's diff as the reply shows it. */
export const repairDiffFile = (id: RepairId): string => `${REPAIR_DIFFS[id].diff}\n`;

/** The site a finding is written under. A leak concerns the patch line
 * where the last pointer to the buffer was lost, if the ledger names one;
 * else the line that took the reference never released. Otherwise it is the failing step's first line in the patch from where the
 * repaired implementation, run on the same calls, goes another way: the
 * line the repair changes or steps around (for a race, where the unlocked
 * section opens). */
export function concernedSite(report: FailureReport): string | undefined {
  if (report.oracle === 'leak') {
    const lost = report.violations.find((v) => v.names)?.site;
    if (lost && siteInPatch(lost)) return lost;
    return [...report.references].reverse().find((e) => e.event === 'get' || e.event === 'alloc')?.site;
  }
  const failing = report.steps.find((s) => s.failing);
  if (!failing) return undefined;
  const patched = failing.sites.map((s) => s.label);
  // Other findings' repairs change the same call (a lock taken first):
  // only this finding's repair, and the patch's own lines, are compared.
  const mine = report.repair?.id;
  const repaired = repairedSites(report, failing).filter((l) => {
    const id = /\/\* repair: ([\w-]+) \*\//.exec(l)?.[1];
    return id === undefined || id === mine;
  });
  let from = 0;
  while (from < patched.length && patched[from] === repaired[from]) from++;
  const inPatch = (label: string): boolean => siteInPatch(label) !== undefined;
  return patched.slice(from).find(inPatch) ?? patched.find(inPatch);
}

/** The failing step's call run by the repaired implementation alone, after
 * the calls that came before it on its own thread (and the setup). */
function repairedSites(report: FailureReport, failing: ReportStep): string[] {
  const c = decodeToken(report.token);
  let ops: Op[];
  if (c.kind === 'sequential') {
    ops = c.ops.slice(0, failing.index + 1);
  } else {
    const before = report.steps.filter((s) => s.lane === failing.lane && s.index < failing.index).length;
    const thread = c.case.threads[Number(failing.lane.slice(1)) - 1];
    ops = [...c.case.setup, ...thread.ops.slice(0, before + 1)];
  }
  const run = runLockstep(bundledByName('rfc-v1-fixed')!, RFC_V1, ops, { recordSites: true });
  return run.steps[ops.length - 1]?.sites ?? [];
}

/** The reply: every hunk quoted, those that carry no finding cut to their
 * header, each finding under its line and the rest of its hunk cut. */
export function renderReview(findings: readonly ReviewFinding[]): string {
  const placed = findings.map((f) => {
    const site = concernedSite(f.report);
    const at = site === undefined ? undefined : siteInPatch(site);
    if (!at) throw new Error(`${f.id}: its failing step names no line of the patch`);
    return { ...f, site: site!, at };
  });
  const out: string[] = [...opening(findings.length), ''];
  for (const [fi, file] of postedFiles().entries()) {
    out.push(...file.header.map(quoted));
    for (const [hi, hunk] of file.hunks.entries()) {
      out.push(quoted(hunk.header));
      const here = placed.filter((p) => p.at.file === fi && p.at.hunk === hi).sort((a, b) => a.at.line - b.at.line);
      let next = 0;
      for (const p of here) {
        out.push(...hunk.lines.slice(next, p.at.line + 1).map(quoted), '', ...findingText(p), '');
        next = p.at.line + 1;
      }
      if (next < hunk.lines.length) out.push('> [...]');
    }
  }
  out.push('', 'Thanks,', 'savedsyn');
  return `${out.join('\n')}\n`;
}

function opening(count: number): string[] {
  return [
    ...wrap('What follows comes from savedsyn: a model of the patch checked against the promise of its cover letter. Each hunk is transliterated line by line, with its locks and reference counts, and run beside an executable reading of the letter, over generated single-thread cases and over interleavings of concurrent ones.'),
    '',
    ...wrap(`It finds ${count} problems. Each is written below under the line it concerns, with a minimal case, what follows from it, a replay command and a suggested repair as a diff against the patched tree. A replay command carries the whole case in its token and stands on one line, so that it pastes whole; the token is also in the report named beside the case.`),
  ];
}

function findingText({ id, report, site }: ReviewFinding & { site: string }): string[] {
  const r = REPAIRS[id];
  const { note, diff } = REPAIR_DIFFS[id];
  const md = `reports/rfc-v1/${id}.md`;
  return [
    ...wrap(sentence(capital(r.finding))),
    '',
    ...wrap(`Minimal case (${md}), each call with what it returned:`),
    '',
    ...report.steps.map((s) => fit(`  ${laneLabel(s)}${s.op} = ${s.actual ?? 'no result'}${s.expected !== null && s.expected !== s.actual ? `, the spec says ${s.expected}` : ''}`)),
    ...interleaving(report),
    '',
    // The finding stands under the line a leak message ends by naming.
    ...wrap(`What the harness saw: ${sentence(report.message.replace(` (at ${site})`, ''))}`),
    '',
    ...wrap(r.consequence),
    '',
    ...wrap(`To replay it (the token is also in ${md}):`),
    '',
    replayLine(report.token),
    '',
    ...wrap(`Suggested repair: ${sentence(r.repair)}${note ? ` ${note}` : ''}`),
    '',
    ...diff.split('\n'),
  ];
}

const laneLabel = (s: ReportStep): string => (s.lane === 'main' || s.lane === 'setup' ? '' : `${s.lane}: `);

/** A concurrent case's schedule, one run of a thread at a time, from where
 * it resumed to where it stopped or returned. */
function interleaving(report: FailureReport): string[] {
  if (report.interleaving.length === 0) return [];
  const runs: ReportStretch[][] = [];
  for (const s of report.interleaving) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last[0].lane === s.lane && last[0].step === s.step) last.push(s);
    else runs.push([s]);
  }
  return [
    '',
    ...wrap('The threads interleave so, each running from the first line shown to the second, where another takes over:'),
    '',
    ...runs.flatMap((run) => {
      const first = run[0];
      const last = run[run.length - 1];
      const step = report.steps.find((x) => x.index === first.step)!;
      const code = (site: string): string => site.slice(site.indexOf(' | ') + 3);
      const start = first.from === null ? `${step.op} starts` : code(first.from);
      const end = last.end === 'returned' ? `returns ${step.actual}` : last.end === 'paused' ? `paused before ${code(last.to!)}` : stretchWords(last).to;
      return [fit(`  ${first.lane.padEnd(4)}${start}`), fit(`      ... ${end}`)];
    }),
  ];
}

const sentence = (s: string): string => (/[.!?]$/.test(s) ? s : `${s}.`);

/** A capital for a sentence that opens with a word, not an identifier. */
const capital = (s: string): string => (/^[a-z]+\b(?![_(])/.test(s) ? `${s[0].toUpperCase()}${s.slice(1)}` : s);

/** A line cut to the width, for the rare op or source line too long. */
function fit(line: string): string {
  return columns(line) <= REVIEW_WIDTH ? line : `${line.slice(0, REVIEW_WIDTH - 3)}...`;
}

/** Greedy wrapping at spaces; a word longer than the width gets a line of
 * its own, cut to fit. */
function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && columns(`${line} ${word}`) > REVIEW_WIDTH) {
      lines.push(line);
      line = '';
    }
    line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map(fit);
}
