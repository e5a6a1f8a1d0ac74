// The linux model against the live kernel on every transition verify
// explores: each op of the alphabet, from each state the model reaches in
// fewer than `depth` ops, run on the kernel after the shortest path to that
// state. Random sequences sample the model; this covers its state graph to
// a depth, one path per state. A disagreement is confirmed as a random
// search's is (kernel-search.ts); sequences the lane cannot run as the model
// reads them are counted, not run.

import type { VerifyBounds } from './verify/alphabet.ts';
import { Bfs, pathOf } from './verify/bfs.ts';
import { unrealisable, type LaneOptions } from '../model/kernel/lane.ts';
import { bundledByName } from '../model/impl/registry.ts';
import type { Op } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import { runDifferential, type DifferentialResult } from '../properties/differential.ts';
import { countRun, emptyCensus } from './kernel-census.ts';
import { leftOut } from './kernel-cases.ts';
import { peerInTwoFamilies } from './kernel-replay.ts';
import { confirm, laneRunner, Settled, type KernelSearchResult } from './kernel-search.ts';

export interface ExhaustiveKernelOptions {
  /** The alphabet and depth, as verify takes them. */
  bounds: VerifyBounds;
  /** Told after each sequence: how many were run, of how many. */
  onProgress?: (done: number, of: number) => void;
  /** runDifferential unless a test stands in for the kernel. */
  runner?: (ops: readonly Op[], opts: LaneOptions) => DifferentialResult;
}

export interface ExhaustiveKernelResult extends KernelSearchResult {
  /** Distinct states of the model the transitions start from. */
  states: number;
  /** Transitions left out because the lane cannot run them as the model
   * reads them, by reason. */
  skipped: Record<string, number>;
}

/** Every transition from every state the linux model reaches in fewer
 * than `bounds.depth` ops, as the path to its state and the op. */
export function transitions(bounds: VerifyBounds): { states: number; cases: Op[][] } {
  const bfs = new Bfs(bundledByName('linux')!, LINUX, { ...bounds }, bounds.depth - 1);
  bfs.run();
  const cases: Op[][] = [];
  for (const node of bfs.retained) {
    const path = pathOf(node);
    for (const op of bfs.alphabetOf(node)) cases.push([...path, op]);
  }
  return { states: bfs.retained.length, cases };
}

/** Why the lane cannot run `ops` as the model reads them, if it cannot. */
export function notForTheLane(ops: readonly Op[]): string | undefined {
  if (ops.some((op) => unrealisable(op) !== undefined)) return 'an op the lane cannot make';
  // The kernel's SYN-ACK timer fires for every pending request and its
  // migration follows a hash: the lane runs neither as the model reads it.
  if (ops.some(leftOut)) return 'a SYN-ACK timer or tcp_migrate_req';
  if (peerInTwoFamilies(ops) !== undefined) return 'a peer over both IP versions';
  return undefined;
}

export function searchKernelExhaustively(opts: ExhaustiveKernelOptions): ExhaustiveKernelResult {
  const { states, cases } = transitions(opts.bounds);
  const result: ExhaustiveKernelResult = { findings: [], flaky: [], laneFailures: [], runs: 0, census: emptyCensus(), states, skipped: {} };
  const tryRun = laneRunner(result, opts.runner ?? runDifferential);
  const known = new Settled();
  for (let i = 0; i < cases.length; i++) {
    const ops = cases[i];
    const why = notForTheLane(ops);
    if (why !== undefined) {
      result.skipped[why] = (result.skipped[why] ?? 0) + 1;
    } else {
      const r = tryRun(ops);
      result.runs++;
      if (r !== undefined) {
        countRun(result.census, ops, { outcomes: r.actual, wire: r.wire });
        const sig = r.disagreement?.signature;
        if (sig !== undefined && !known.has(sig)) known.confirm(sig, result, () => confirm(ops, sig, r, result, tryRun));
      }
    }
    opts.onProgress?.(i + 1, cases.length);
  }
  return result;
}
