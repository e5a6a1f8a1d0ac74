// What a search hands to a report: a failing case, shrunk, with the run
// that shows it. Searches (fuzz/) produce these and renderers (reports/)
// read them, so they live below both.

import type { Op } from '../model/ops.ts';
import type { ConcurrentCase, ConcurrentResult } from './concurrent.ts';
import type { DifferentialResult } from './differential.ts';
import type { RunResult } from './lockstep.ts';

/** The schedulers that pick a concurrent case's interleaving. */
export type SchedulerName = 'random' | 'pct';

/** A single-thread failure. */
export interface Finding {
  signature: string;
  oracle: string;
  message: string;
  /** The shrunk case. */
  ops: Op[];
  result: RunResult;
  /** fast-check's seed and path: `fc.assert(..., { seed, path })` replays it. */
  seed: number;
  path: string;
  /** Cases generated before this failure was first hit. */
  runsToFind: number;
}

/** A failure only an interleaving shows. */
export interface ConcurrentFinding {
  signature: string;
  oracle: string;
  message: string;
  case: ConcurrentCase;
  result: ConcurrentResult;
  scheduler: SchedulerName;
  /** Generated cases before this failure was first hit. */
  runsToFind: number;
  /** fast-check's seed and path for the unshrunk case. */
  seed: number;
  path: string;
}

/** A disagreement between the linux spec and the live kernel. */
export interface KernelFinding {
  signature: string;
  ops: Op[];
  result: DifferentialResult;
  runsToFind: number;
}

/** The indices where a schedule moves from one thread to another. */
export function contextSwitches(schedule: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < schedule.length; i++) if (schedule[i] !== schedule[i - 1]) out.push(i);
  return out;
}

export function describeSize(c: ConcurrentCase): string {
  const ops = c.setup.length + c.threads.reduce((n, t) => n + t.ops.length, 0);
  return `${ops} ops (${c.setup.length} setup), ${c.threads.length} threads, ${contextSwitches(c.schedule).length} context switches`;
}
