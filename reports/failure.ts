// One model of a failure, from which the Markdown, HTML and JSON reports are
// all rendered: what went wrong and where, the case as lanes, each step with
// its source label and the patch lines it stands for, what the spec expected
// against what happened, and the buffer's reference history.

import { formatOp, formatOutcome } from '../model/format.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import type { Profile } from '../model/profile.ts';
import { siteFunction } from '../properties/oracles.ts';
import { historyOf, type RunResult } from '../properties/lockstep.ts';
import type { TraceEntry } from '../properties/concurrent.ts';
import { excerpts, quote } from './patch.ts';
import { encodeToken, type ReplayCase } from './token.ts';

export const REPORT_VERSION = 1;

export type Severity = 'memory-safety' | 'leak' | 'race' | 'wrong-result';

export interface ReportStep {
  index: number;
  /** 'setup', 'T1'..'Tn', 'teardown', or 'main' for a single-thread case. */
  lane: string;
  op: string;
  expected: string | null;
  actual: string | null;
  failing: boolean;
  /** Preemption points the step passed, each with the patch lines it stands for. */
  sites: Array<{ label: string; quote: string[] }>;
  /** The patch hunks the step went through, each quoted once. */
  excerpts: Array<{ where: string; lines: string[] }>;
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
  /** Concurrent cases: the order in which the threads passed their preemption points. */
  interleaving: Array<{ lane: string; site: string }>;
  references: ReportReference[];
  repair: { id: string; finding: string; repair: string } | null;
  token: string;
  replay: string;
}

export function buildReport(c: ReplayCase, result: RunResult & { trace?: TraceEntry[] }, profile: Profile): FailureReport {
  const failure = result.failure;
  if (!failure) throw new Error('a report needs a failing run');
  const known = Object.entries(REPAIRS).find(([, r]) => r.signature === failure.signature);
  const concurrent = c.kind === 'concurrent';
  const laneOf = (thread: number, teardown: boolean): string => (teardown ? 'teardown' : thread > 0 ? `T${thread}` : concurrent ? 'setup' : 'main');
  const steps: ReportStep[] = result.steps.map((s) => ({
    index: s.index,
    lane: laneOf(s.thread, s.teardown),
    op: formatOp(s.op, profile),
    expected: s.expected ? formatOutcome(s.expected) : null,
    actual: s.actual ? formatOutcome(s.actual) : null,
    failing: s.index === failure.step,
    sites: s.sites.map((label) => ({ label, quote: quote(label) })),
    excerpts: excerpts(s.sites),
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
    interleaving: (result.trace ?? []).map((e) => ({ lane: `T${e.thread + 1}`, site: e.site })),
    references: historyOf(result).map((e) => ({ step: e.step, event: e.kind, owner: e.owner, refs: e.refs, site: e.site })),
    repair: known ? { id: known[0], finding: known[1].finding, repair: known[1].repair } : null,
    token,
    replay: `npx savedsyn replay ${token}`,
  };
}

/** A step with no outcome: the failing step of a hang never returned, any
 * other threw. */
export function noOutcome(r: FailureReport, s: ReportStep): string {
  return r.oracle === 'hang' && s.failing ? 'did not return' : 'threw';
}

function siteOf(signature: string): string {
  const parts = signature.split(':');
  return parts.length > 1 ? siteFunction(parts.slice(1).join(':')) : signature;
}

function severityOf(oracle: string): Severity {
  if (oracle === 'ledger' || oracle === 'bounds') return 'memory-safety';
  if (oracle === 'leak') return 'leak';
  if (oracle === 'linearizability' || oracle === 'deadlock') return 'race';
  return 'wrong-result';
}
