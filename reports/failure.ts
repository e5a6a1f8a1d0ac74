// One model of a failure, from which the Markdown, HTML and JSON reports are
// all rendered: what went wrong and where, the case as lanes, each step with
// its source label and the patch lines it stands for, what the spec expected
// against what happened, and the buffer's reference history.

import { formatOp, formatOutcome } from '../model/format.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import type { Profile } from '../model/profile.ts';
import { severityOf, siteFunction, type Severity } from '../properties/oracles.ts';
import { historyOf, type RunResult } from '../properties/lockstep.ts';
import type { StepTaken } from '../properties/concurrent.ts';
import { patchLineOf, quoteHunks, type QuotedHunk } from './patch.ts';
import { encodeToken, type ReplayCase } from './token.ts';
import { replayCommand } from './replay-command.ts';

export const REPORT_VERSION = 3;

export type { Severity } from '../properties/oracles.ts';

export interface ReportStep {
  index: number;
  /** 'setup', 'T1'..'Tn', 'teardown', or 'main' for a single-thread case. */
  lane: string;
  op: string;
  expected: string | null;
  actual: string | null;
  failing: boolean;
  /** Preemption points the step passed, each with the patch line it stands
   * for (its hunk, and its number in the patched file), if it is one. */
  sites: Array<{ label: string; line: { where: string; n: number } | null }>;
  /** The patch lines the step passed, by hunk: the hunks themselves are
   * quoted once, in the report's `patch`. */
  passes: Array<{ where: string; lines: number[] }>;
  /** An op still in flight when the run stopped: the preemption point it
   * was paused at (null if it had passed none). Nothing threw. */
  interrupted: { pausedAt: string | null } | null;
}

/** One step of a concurrent run: a thread run from where it was paused to
 * its next preemption point or its return, while the others stay put. */
export interface ReportStretch {
  lane: string;
  /** Index of the op's step. */
  step: number;
  /** The preemption point it resumed at; null when the stretch starts the op. */
  from: string | null;
  end: 'paused' | 'returned' | 'waiting' | 'threw';
  /** `paused`: the preemption point it is now paused at; `waiting`: the
   * lock it found taken; otherwise null. */
  to: string | null;
  /** Every other thread with an op in flight, where it is paused. */
  paused: Array<{ lane: string; step: number; at: string | null }>;
}

/** A violation the run showed: the most severe names the report. */
export interface ReportViolation {
  signature: string;
  oracle: string;
  severity: Severity;
  message: string;
  step: number;
  /** Where a buffer violation happened (for a leak, where its owner lost
   * the last chance to release it); null for the others. */
  site: string | null;
  names: boolean;
}

export interface ReportReference {
  step: number;
  event: string;
  owner: string;
  refs: number;
  site: string;
}

export interface FailureReport {
  version: number;
  title: string;
  signature: string;
  oracle: string;
  severity: Severity;
  message: string;
  profile: string;
  profileTitle: string;
  implementation: string;
  lanes: string[];
  steps: ReportStep[];
  /** Every violation, in the order the run showed them. */
  violations: ReportViolation[];
  /** The patch hunks the case passes through, each quoted once. */
  patch: QuotedHunk[];
  /** Concurrent cases: every stretch of every thread, in schedule order. */
  interleaving: ReportStretch[];
  references: ReportReference[];
  repair: { id: string; finding: string; repair: string } | null;
  token: string;
  replay: string;
}

/** The stretches of a concurrent run in schedule order, each with where
 * the threads it left standing were paused. */
export function interleavingOf(taken: readonly StepTaken[]): ReportStretch[] {
  const at = new Map<number, { step: number; at: string | null }>();
  return taken.map((s) => {
    const mine = at.get(s.thread);
    const from = mine !== undefined && mine.step === s.step ? mine.at : null;
    const paused = [...at.entries()].filter(([t]) => t !== s.thread).sort(([a], [b]) => a - b)
      .map(([t, p]) => ({ lane: `T${t + 1}`, step: p.step, at: p.at }));
    const e = s.end;
    if (e.kind === 'paused') at.set(s.thread, { step: s.step, at: e.site });
    else if (e.kind === 'blocked') at.set(s.thread, { step: s.step, at: from });
    else at.delete(s.thread);
    const end = e.kind === 'blocked' ? 'waiting' : e.kind;
    const to = e.kind === 'paused' ? e.site : e.kind === 'blocked' ? e.lock : null;
    return { lane: `T${s.thread + 1}`, step: s.step, from, end, to, paused };
  });
}

/** Ops in flight when the run stopped, by step index: where each was paused. */
export function interruptedOf(taken: readonly StepTaken[]): Map<number, { pausedAt: string | null }> {
  const out = new Map<number, { pausedAt: string | null }>();
  for (const s of interleavingOf(taken)) {
    if (s.end === 'paused') out.set(s.step, { pausedAt: s.to });
    else if (s.end === 'waiting') out.set(s.step, { pausedAt: s.from });
    else out.delete(s.step);
  }
  return out;
}

/** Where a stretch starts and where it ends, in words every rendering shares. */
export function stretchWords(s: ReportStretch): { from: string; to: string } {
  const from = s.from === null ? 'its start' : siteLine(s.from);
  const to = s.end === 'paused' ? `just before ${siteLine(s.to!)}` : s.end === 'returned' ? 'its return'
    : s.end === 'waiting' ? `${s.to}, found taken` : 'a throw';
  return { from, to };
}

/** A site label as a line of its function: `do_tcp_getsockopt | if (!syn)`. */
export function siteLine(site: string): string {
  const bar = site.indexOf(' | ');
  return bar < 0 ? site : site.slice(site.lastIndexOf(' ', bar - 1) + 1);
}

export function buildReport(c: ReplayCase, result: RunResult & { taken?: StepTaken[] }, profile: Profile): FailureReport {
  const failure = result.failure;
  if (!failure) throw new Error('a report needs a failing run');
  const known = Object.entries(REPAIRS).find(([, r]) => r.signature === failure.signature);
  const concurrent = c.kind === 'concurrent';
  const interrupted = interruptedOf(result.taken ?? []);
  const laneOf = (thread: number, teardown: boolean): string => (teardown ? 'teardown' : thread > 0 ? `T${thread}` : concurrent ? 'setup' : 'main');
  const steps: ReportStep[] = result.steps.map((s) => ({
    index: s.index,
    lane: laneOf(s.thread, s.teardown),
    op: formatOp(s.op, profile),
    expected: s.expected ? formatOutcome(s.expected) : null,
    actual: s.actual ? formatOutcome(s.actual) : null,
    failing: s.index === failure.step,
    sites: s.sites.map((label) => ({ label, line: patchLineOf(label) ?? null })),
    passes: passesOf(s.sites),
    interrupted: s.actual === undefined ? interrupted.get(s.index) ?? null : null,
  }));
  const order = (l: string): string => (l === 'setup' || l === 'main' ? '0' : l === 'teardown' ? '2' : `1${l.slice(1).padStart(3, '0')}`);
  const lanes = [...new Set(steps.map((s) => s.lane))].sort((a, b) => order(a).localeCompare(order(b)));
  const token = encodeToken(c);
  return {
    version: REPORT_VERSION,
    title: known?.[1].title ?? `${profile.name}: ${failure.oracle} failure in ${siteOf(failure.signature)} (${c.impl})`,
    signature: failure.signature,
    oracle: failure.oracle,
    severity: known?.[1].severity ?? severityOf(failure.oracle),
    message: failure.message,
    profile: profile.name,
    profileTitle: profile.title,
    implementation: c.impl,
    lanes,
    steps,
    violations: result.violations.map((v) => ({
      signature: v.signature, oracle: v.oracle, severity: severityOf(v.oracle), message: v.message, step: v.step, site: v.violation?.site ?? null, names: v === failure,
    })),
    patch: quoteHunks(result.steps),
    interleaving: interleavingOf(result.taken ?? []),
    references: historyOf(result).map((e) => ({ step: e.step, event: e.kind, owner: e.owner, refs: e.refs, site: e.site })),
    repair: known ? { id: known[0], finding: known[1].finding, repair: known[1].repair } : null,
    token,
    replay: replayCommand(token, c.impl),
  };
}

/** A step with no outcome: the failing step of a hang never returned, an
 * op the run stopped in the middle of was interrupted, any other threw. */
export function noOutcome(r: FailureReport, s: ReportStep): string {
  if (r.oracle === 'hang' && s.failing) return 'did not return';
  if (s.interrupted) return interruptedText(s.interrupted.pausedAt);
  return 'threw';
}

export function interruptedText(pausedAt: string | null): string {
  return pausedAt === null ? 'interrupted at its start' : `interrupted before ${siteLine(pausedAt)}`;
}

function siteOf(signature: string): string {
  const parts = signature.split(':');
  return parts.length > 1 ? siteFunction(parts.slice(1).join(':')) : signature;
}

/** The patch lines a step passed, grouped by hunk, each line once. */
function passesOf(sites: readonly string[]): Array<{ where: string; lines: number[] }> {
  const out = new Map<string, number[]>();
  for (const site of sites) {
    const at = patchLineOf(site);
    if (!at) continue;
    const lines = out.get(at.where) ?? [];
    out.set(at.where, lines);
    if (!lines.includes(at.n)) lines.push(at.n);
  }
  return [...out].map(([where, lines]) => ({ where, lines }));
}
