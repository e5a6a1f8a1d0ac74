// A finding as plain text: the shrunk case step by step, what the spec
// expected against what happened, and the buffer's reference history.

import { describeSize, type ConcurrentFinding, type Finding, type KernelFinding } from '../properties/findings.ts';
import { formatOp, formatOutcome } from '../model/format.ts';
import type { Profile } from '../model/profile.ts';
import { historyOf, type Failure } from '../properties/lockstep.ts';
import { interleavingOf, interruptedOf, interruptedText, siteLine, stretchWords, type ReportStretch } from './failure.ts';

/** A step with no outcome: the failing step of a hang never returned, any
 * other threw. */
function noOutcome(failure: Failure | undefined, step: number): string {
  return failure?.oracle === 'hang' && failure.step === step ? 'did not return' : 'threw';
}

/** The other violations the case shows, less severe or later. */
function alsoShown(violations: readonly Failure[], failure: Failure | undefined): string[] {
  const others = violations.filter((v) => v !== failure);
  return others.length === 0 ? [] : ['  the case also shows:', ...others.map((v) => `    step ${v.step}: ${v.signature}`)];
}

export function renderFinding(f: Finding, profile: Profile): string {
  const lines: string[] = [];
  const failure = f.result.failure;
  lines.push(`${f.signature}`);
  lines.push(`  ${f.message}`, ...alsoShown(f.result.violations, failure));
  lines.push(`  minimal case (${f.ops.length} ops), then teardown:`);
  for (const s of f.result.steps) {
    const mark = failure && s.index === failure.step ? '>>' : '  ';
    const got = s.actual === undefined ? noOutcome(failure, s.index) : formatOutcome(s.actual);
    const exp = s.expected === undefined ? got : formatOutcome(s.expected);
    const verdict = got === exp ? `= ${got}` : `= ${got}   (spec: ${exp})`;
    const who = s.teardown ? ' teardown' : s.thread > 0 ? ` [T${s.thread}]` : '';
    lines.push(`  ${mark} ${String(s.index).padStart(2)}${who} ${formatOp(s.op, profile)} ${verdict}`);
  }
  const history = historyOf(f.result);
  if (history.length > 0) {
    lines.push('  reference history:');
    for (const e of history) {
      lines.push(`     step ${String(e.step).padStart(2)} ${e.kind.padEnd(5)} by ${e.owner.padEnd(6)} refs=${e.refs}  ${e.site}`);
    }
  }
  if (f.path !== '') lines.push(`  found with fast-check seed ${f.seed}, path "${f.path}" (before the 1-minimal pass)`);
  return lines.join('\n');
}

/** A concurrent finding: setup, the threads as lanes, the schedule taken. */
export function renderConcurrentFinding(f: ConcurrentFinding, profile: Profile): string {
  const lines: string[] = [];
  const failure = f.result.failure;
  const found = f.runsToFind > 0 ? `; found by the ${f.scheduler} scheduler after ${f.runsToFind} cases` : '';
  lines.push(f.signature, `  ${f.message}`, ...alsoShown(f.result.violations, failure), `  case: ${describeSize(f.case)}${found}`);
  const interrupted = interruptedOf(f.result.taken);
  for (const s of f.result.steps) {
    const mark = failure && s.index === failure.step ? '>>' : '  ';
    const stopped = interrupted.get(s.index);
    const got = s.actual !== undefined ? formatOutcome(s.actual) : stopped ? interruptedText(stopped.pausedAt) : noOutcome(failure, s.index);
    const exp = s.expected === undefined ? undefined : formatOutcome(s.expected);
    const verdict = exp === undefined || got === exp ? `= ${got}` : `= ${got}   (spec: ${exp})`;
    const lane = s.teardown ? 'teardown' : s.thread > 0 ? `T${s.thread}`.padStart(2 + 2 * s.thread) : 'setup';
    lines.push(`  ${mark} ${lane.padEnd(10)} ${formatOp(s.op, profile)} ${verdict}`);
  }
  lines.push('  interleaving:');
  const byIndex = new Map(f.result.steps.map((s) => [s.index, s]));
  const opOf = (step: number): string => formatOp(byIndex.get(step)!.op, profile);
  const resultOf = (step: number): string => {
    const a = byIndex.get(step)!.actual;
    return a === undefined ? noOutcome(failure, step) : formatOutcome(a);
  };
  for (const l of interleavingLines(interleavingOf(f.result.taken), opOf, resultOf)) lines.push(`    ${l}`);
  const history = historyOf(f.result);
  if (history.length > 0) {
    lines.push('  reference history:');
    for (const e of history) lines.push(`     step ${String(e.step).padStart(2)} ${e.kind.padEnd(5)} by ${e.owner.padEnd(6)} refs=${e.refs}  ${e.site}`);
  }
  lines.push(`  schedule: [${f.case.schedule.join(',')}]`);
  return lines.join('\n');
}

/** The stretches of a concurrent run as text, one after another: which
 * thread ran, from where to where, and where each other thread in flight
 * stood meanwhile. */
export function interleavingLines(stretches: readonly ReportStretch[], opOf: (step: number) => string, resultOf: (step: number) => string): string[] {
  const lines: string[] = [];
  const width = String(stretches.length - 1).length;
  stretches.forEach((s, i) => {
    const pad = ' '.repeat(width + 2 + s.lane.length + 2);
    const words = stretchWords(s);
    lines.push(`${String(i).padStart(width)}  ${s.lane}  ${s.from === null ? `starts ${opOf(s.step)}` : `runs from ${words.from}`}`);
    lines.push(`${pad}${s.end === 'returned' ? `to its return: ${resultOf(s.step)}` : `to ${words.to}`}`);
    for (const p of s.paused) lines.push(`${pad}(${p.lane} paused ${p.at === null ? 'at its start' : `before ${siteLine(p.at)}`})`);
  });
  return lines;
}

/** A disagreement between the linux spec and the live kernel. */
export function renderKernelFinding(f: KernelFinding, profile: Profile): string {
  const d = f.result.disagreement;
  const lines = [f.signature, `  ${d ? d.differences.join('; ') : 'did not reproduce on a second run'}`, `  minimal sequence (${f.ops.length} ops):`];
  f.ops.forEach((op, i) => {
    const e = formatOutcome(f.result.expected[i]);
    const a = formatOutcome(f.result.actual[i]);
    lines.push(`  ${d?.step === i ? '>>' : '  '} ${String(i).padStart(2)} ${formatOp(op, profile)}  spec: ${e}${a === e ? '' : `  kernel: ${a}`}`);
  });
  return lines.join('\n');
}
