// Searching for disagreements between the linux spec and the live kernel:
// generated sequences run on both; each disagreement is run again on a
// fresh namespace, minimised to a 1-minimal sequence (removing any op makes
// the two agree), and run once more, slowly (the helper sleeping after every
// op before it drains the wire), on another fresh namespace. Only one that
// survives all of that is a finding; one that does not come back is
// reported as flaky, with both runs. Signatures deduplicate.

import fc from 'fast-check';
import { KernelLaneError, type LaneOptions } from '../model/kernel/lane.ts';
import type { Op } from '../model/ops.ts';
import { UserError } from '../model/user-error.ts';
import type { KernelFinding } from '../properties/findings.ts';
import { runDifferential, type DifferentialResult } from '../properties/differential.ts';
import { countLaneError, countRun, emptyCensus, type KernelCensus } from './kernel-census.ts';
import { isKernelCase, kernelOpsArb } from './kernel-cases.ts';
import { minimize } from './minimize.ts';

/** How long the confirming run lets the kernel settle after every op. */
export const CONFIRM_SETTLE_MS = 25;

/** All the settling a confirming run may add: the kernel's SYN-ACK timer
 * first fires 1 s after a SYN, in real time, while the spec fires timers
 * only when an op says so; a long case settled at the full rate would
 * cross it, and disagree over the timer rather than the case. */
const SETTLE_BUDGET_MS = 500;

/** The settling after every op of a confirming run of `ops`. */
export function confirmSettleMs(ops: readonly Op[]): number {
  return Math.min(CONFIRM_SETTLE_MS, Math.floor(SETTLE_BUDGET_MS / Math.max(1, ops.length)));
}

/** A confirmed disagreement, with the slow run that confirmed it. */
export interface ConfirmedDisagreement extends KernelFinding {
  confirmation: DifferentialResult;
}

/** A disagreement that did not persist: the run that showed it, and the
 * one that did not (on the same sequence, a fresh namespace). */
export interface FlakyDisagreement {
  signature: string;
  ops: Op[];
  shown: DifferentialResult;
  rerun: DifferentialResult;
}

export interface LaneFailure {
  ops: Op[];
  error: string;
}

export interface KernelSearchResult {
  findings: ConfirmedDisagreement[];
  flaky: FlakyDisagreement[];
  laneFailures: LaneFailure[];
  runs: number;
  census: KernelCensus;
}

export interface KernelSearchOptions {
  seed: number;
  runs: number;
  maxLength?: number;
  onProgress?: (done: number) => void;
  /** Runs one sequence on the kernel and the spec; runDifferential unless
   * a test stands in for the kernel. */
  runner?: (ops: readonly Op[], opts: LaneOptions) => DifferentialResult;
  /** The sequences to try (default: kernelOpsArb); a campaign mixes in
   * mutations of its corpus. */
  arbitrary?: fc.Arbitrary<Op[]>;
  /** Told of every generated sequence (not the confirming and shrinking
   * runs): its run, or undefined when the lane failed on it. */
  onRun?: (ops: readonly Op[], run: DifferentialResult | undefined) => void;
}

/** How often a signature is confirmed and does not come back before the
 * search stops trying it: each try costs a minimisation on the kernel. */
export const MAX_FLAKY_TRIES = 3;

/** The signatures a search no longer confirms: each confirmed, and each
 * that did not come back MAX_FLAKY_TRIES times. A signature is not settled
 * by one run that did not come back, since a real disagreement met later
 * under it would then pass unconfirmed. */
export class Settled {
  private readonly done = new Set<string>();
  private readonly tries = new Map<string, number>();

  has(signature: string): boolean {
    return this.done.has(signature);
  }

  /** Confirm `signature` as `confirmed` does, and settle it if it is found
   * or has been tried often enough. */
  confirm(signature: string, result: KernelSearchResult, confirmed: () => void): void {
    const before = result.findings.length;
    confirmed();
    const tries = (this.tries.get(signature) ?? 0) + 1;
    this.tries.set(signature, tries);
    if (result.findings.length > before || tries >= MAX_FLAKY_TRIES) this.done.add(signature);
  }
}

export function searchKernel(opts: KernelSearchOptions): KernelSearchResult {
  const known = new Settled();
  const result: KernelSearchResult = { findings: [], flaky: [], laneFailures: [], runs: 0, census: emptyCensus() };
  const arbitrary = opts.arbitrary ?? kernelOpsArb(opts.maxLength);
  const tryRun = laneRunner(result, opts.runner ?? runDifferential);
  let shown: DifferentialResult | undefined;
  for (let round = 0; result.runs < opts.runs; round++) {
    const out = fc.check(fc.property(arbitrary, (ops) => {
      const r = tryRun(ops);
      opts.onRun?.(ops, r);
      if (r === undefined) return true;
      countRun(result.census, ops, { outcomes: r.actual, wire: r.wire });
      const sig = r.disagreement?.signature;
      shown = r;
      return sig === undefined || known.has(sig);
    }), { seed: (opts.seed + round * 0x9e3779b1) | 0, numRuns: opts.runs - result.runs, endOnFailure: true });
    result.runs += out.numRuns;
    opts.onProgress?.(result.runs);
    if (!out.failed || out.counterexample === null || shown?.disagreement === undefined) break;
    const ops = out.counterexample[0];
    const { signature } = shown.disagreement;
    const seen = shown;
    known.confirm(signature, result, () => confirm(ops, signature, seen, result, tryRun));
  }
  return result;
}

/** A sequence run on the kernel and the spec, with the settling given:
 * undefined when the lane failed on it. */
export type Run = (ops: readonly Op[], settleMs?: number) => DifferentialResult | undefined;

/** `run`, a failure of the lane counted in `result` rather than thrown. */
export function laneRunner(result: KernelSearchResult, run: (ops: readonly Op[], opts: LaneOptions) => DifferentialResult): Run {
  return (ops, settleMs = 0) => {
    try {
      return run(ops, { settleMs });
    } catch (e) {
      if (!(e instanceof KernelLaneError)) throw e;
      countLaneError(result.census);
      result.laneFailures.push({ ops: [...ops], error: e.message });
      return undefined;
    }
  };
}

/** A disagreement shown once, run again on a fresh namespace, minimised
 * and confirmed slowly: a finding of `result`, or a flaky one. */
export function confirm(ops: Op[], signature: string, shown: DifferentialResult, result: KernelSearchResult, tryRun: Run): void {
  const runsToFind = result.runs;
  const again = tryRun(ops);
  if (again === undefined) return;
  if (again.disagreement?.signature !== signature) {
    flaky(result, { signature, ops, shown, rerun: again });
    return;
  }
  // The run that last showed the disagreement on each candidate.
  const showing = new Map<string, DifferentialResult>([[JSON.stringify(ops), again]]);
  const min = minimize(ops.slice(0, again.disagreement.step + 1), (c) => {
    // A simpler value can make an op the kernel reads as another one.
    if (!isKernelCase(c)) return false;
    const r = tryRun(c);
    if (r?.disagreement?.signature !== signature) return false;
    showing.set(JSON.stringify(c), r);
    return true;
  });
  const minShown = showing.get(JSON.stringify(min)) ?? again;
  const slow = tryRun(min, confirmSettleMs(min));
  if (slow === undefined) return;
  if (slow.disagreement?.signature === signature) {
    result.findings.push({ signature, ops: min, result: minShown, runsToFind, confirmation: slow });
  } else {
    flaky(result, { signature, ops: min, shown: minShown, rerun: slow });
  }
}

/** The first disagreement of each signature that did not come back. */
function flaky(result: KernelSearchResult, f: FlakyDisagreement): void {
  if (!result.flaky.some((g) => g.signature === f.signature)) result.flaky.push(f);
}

/** A search in which the lane ran nothing: no sequence was compared, so
 * "no disagreement" would say nothing. The lane's environment is at fault
 * (a cache folder mounted noexec, an unshare that fails), which is the
 * user's to fix. */
export function laneNeverRan(r: KernelSearchResult): UserError | undefined {
  if (r.runs === 0 || r.census.sequences > r.census.laneErrors || r.laneFailures.length === 0) return undefined;
  return new UserError(`the kernel lane failed on every sequence (${r.runs}), so nothing was compared; the first failure: ${r.laneFailures[0].error}`);
}
