// Bounded exhaustive verification of one implementation: every op sequence
// up to a depth over a finite alphabet, states deduplicated, every oracle on
// every transition; the shortest counterexample of each signature, or a
// certificate of what was explored.

import { alphabet as alphabetOf, describeAlphabet, keptSizes, type VerifyBounds } from '../fuzz/verify/alphabet.ts';
import { hashable } from '../fuzz/verify/canonical.ts';
import { checkedBounds } from '../fuzz/verify/bounds.ts';
import { Bfs } from '../fuzz/verify/bfs.ts';
import { renderCertificate } from '../fuzz/verify/certificate.ts';
import { caseSize, explorePairsYielding, type PairCandidate, type PairFailure } from '../fuzz/verify/pairs.ts';
import { pairsParallel, runParallel, startPool, stopPool } from '../fuzz/verify/parallel.ts';
import type { BfsResult } from '../fuzz/verify/bfs.ts';
import { bundledByName } from '../model/impl/registry.ts';
import type { ConcurrentCase } from '../properties/concurrent.ts';
import { renderConcurrentFinding } from '../reports/text.ts';
import { encodeToken } from '../reports/token.ts';
import { loadImplementation } from '../model/impl/load.ts';
import type { Implementation } from '../model/impl/types.ts';
import { profileByName, type ProfileName } from '../model/profile.ts';
import { UserError } from '../model/user-error.ts';
import type { Finding } from '../properties/findings.ts';
import { runLockstep, Session } from '../properties/lockstep.ts';
import { findingRecord, type FindingRecord } from '../reports/summary.ts';

export interface VerifyOptions extends Partial<VerifyBounds> {
  /** Pairs of ops on two threads start from every state reached with at
   * most this many ops (default 3); -1 explores no pairs. */
  pairDepth?: number;
  /** Pairs start only from states reached with at least this many ops
   * (default 0). */
  pairFrom?: number;
  /** Preemptions per interleaving of a pair (default 3). */
  preemptions?: number;
  /** Worker threads for the breadth-first search (default 1: this thread).
   * The result does not depend on it. Workers load the implementation by
   * the name or path given; an object that is not a bundled implementation
   * runs on this thread. */
  workers?: number;
  /** Stop after this many seconds, at the depth completed by then. */
  timeBudget?: number;
  /** How replay tokens name the implementation (default: as given). */
  source?: string;
  /** Stop at the first counterexample found, which is a shortest one: the
   * rest of its depth is left unexplored, and pairs after a sequential
   * counterexample, or after the state a race starts from. */
  stopAtFirst?: boolean;
  /** Stops the run as the time budget does, at the next state: what was
   * completed by then is reported (Ctrl-C on the command line). */
  signal?: AbortSignal;
  /** Told each time a depth is complete. */
  onDepth?: (depth: number, states: number, transitions: number) => void;
  /** Told as the run goes: once at the start, then after each state
   * expanded and each state's pairs; often, so a display throttles it. */
  onProgress?: (p: VerifyProgress) => void;
}

/** Where a run is. */
export type VerifyProgress =
  /** `stateHashed` false: the implementation's state cannot be read, so
   * every path is a state and the states number about `ops` to the depth. */
  | { phase: 'start'; stateHashed: boolean; ops: number; depth: number }
  /** Expanding the states reached with `depth` ops: `done` of `of`. */
  | { phase: 'states'; depth: number; done: number; of: number; states: number; transitions: number }
  /** Pairs from `done` of the `of` states they start from. */
  | { phase: 'pairs'; done: number; of: number }
  /** A signature failed for the first time: `ops` long (shorter ones of a
   * race may follow; the result has the shortest). */
  | { phase: 'found'; signature: string; ops: number; race: boolean };

export interface VerifyResult {
  name: string;
  profile: ProfileName;
  bounds: VerifyBounds;
  alphabet: string;
  states: number;
  transitions: number;
  statesPerDepth: number[];
  depthCompleted: number;
  exhausted: boolean;
  /** Stopped before the depth bound, or before the last pairs: by the time
   * budget, or by `signal` (then `interrupted`). */
  outOfTime: boolean;
  interrupted: boolean;
  /** The shortest counterexample of each signature, in the order found. */
  findings: FindingRecord[];
  /** Failures only an interleaving of a pair shows: fewest ops, then
   * fewest context switches. */
  races: VerifyRace[];
  pairs: { from: number; depth: number; pairs: number; commuting: number; schedules: number } | undefined;
  seconds: number;
  /** The certificate as text (a summary of counterexamples when any). */
  certificate: string;
}

export async function verify(implementation: Implementation | string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const impl = typeof implementation === 'string' ? await loadImplementation(implementation) : implementation;
  const source = options.source ?? (typeof implementation === 'string' ? implementation : impl.name);
  const profile = profileByName(impl.profile);
  if (profile === undefined) throw new TypeError(`${impl.name} names no known profile: ${String(impl.profile)}`);
  const bounds = checkedBounds(profile, options);
  for (const [k, min, max] of [['pairDepth', -1, 64], ['pairFrom', 0, 64], ['preemptions', 0, 16], ['workers', 0, 256]] as const) {
    const v = options[k];
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new UserError(`verify: ${k} must be an integer from ${min} to ${max}, got ${v}`);
  }
  // An implementation whose state cannot be read merges no states: its
  // search is a tree of about (ops offered)^depth paths, so the default
  // depths are those such a tree finishes at in minutes.
  const root = new Session(impl, profile, []);
  const opaque = !hashable(root);
  if (opaque && options.depth === undefined) bounds.depth = OPAQUE_DEFAULT_DEPTH;
  const start = Date.now();
  const deadline = options.timeBudget === undefined ? undefined : start + options.timeBudget * 1000;
  const signal = options.signal;
  const expired = (): boolean => signal?.aborted === true || (deadline !== undefined && Date.now() > deadline);
  const pairDepth = Math.min(options.pairDepth ?? (opaque ? OPAQUE_DEFAULT_PAIR_DEPTH : DEFAULT_PAIR_DEPTH), bounds.depth);
  const bfs = new Bfs(impl, profile, bounds, pairDepth);
  const workers = options.workers ?? 1;
  const loadable = typeof implementation === 'string' || bundledByName(impl.name) === impl;
  const pairFrom = options.pairFrom ?? 0;
  if (pairDepth >= 0 && pairFrom > pairDepth) throw new UserError(`verify: pairFrom (${pairFrom}) is past the pair depth (${pairDepth})`);
  const pb = { depth: pairDepth, from: pairFrom, preemptions: options.preemptions ?? 3 };
  const pool = workers > 1 && loadable
    ? startPool(workers, { source: typeof implementation === 'string' ? implementation : impl.name, bounds, branching: 'fork' })
    : undefined;
  let r: BfsResult;
  let p: Awaited<ReturnType<typeof pairsParallel>> | undefined;
  try {
    const stopWhen = options.stopAtFirst === true ? (f: ReadonlyMap<string, unknown>) => f.size > 0 : undefined;
    const progress = options.onProgress;
    const run = {
      expired, abort: signal, onLevel: options.onDepth, stopWhen,
      onExpanded: progress && ((depth: number, done: number, of: number) => {
        progress({ phase: 'states', depth, done, of, states: bfs.seen.size, transitions: bfs.transitions });
      }),
    };
    if (progress) progress({ phase: 'start', stateHashed: !opaque, ops: alphabetOf(profile, bounds, keptSizes(root.spec, bounds), 0).length, depth: bounds.depth });
    const onPairs = progress && ((done: number, of: number) => progress({ phase: 'pairs', done, of }));
    const onRace = progress && ((f: PairCandidate) => progress({ phase: 'found', signature: f.signature, ops: caseSize(f.case), race: true }));
    if (progress) bfs.onFound = (f) => progress({ phase: 'found', signature: f.signature, ops: f.ops.length, race: false });
    r = pool ? await runParallel(bfs, pool, run) : await bfs.runYielding(run);
    const stopped = stopWhen !== undefined && r.failures.length > 0;
    // A search that ran out of states before the pair depth has reached
    // every state pairs could start from.
    const pairsWanted = pairDepth >= 0 && !r.outOfTime && !stopped && (r.depthCompleted >= pairDepth || r.exhausted);
    if (pairsWanted) {
      p = pool
        ? await pairsParallel(impl, profile, pool, pb, bfs.retained, { expired, onDone: onPairs, onFound: onRace, abort: signal })
        : await explorePairsYielding(impl, profile, bounds, pb, bfs.retained, { expired, stopWhen, onDone: onPairs, onFound: onRace });
    }
  } finally {
    if (pool) await stopPool(pool);
  }
  const races = (p?.failures ?? []).map((f) => raceOf(f, profile, source));
  const findings = r.failures.map((f) => {
    const finding: Finding = {
      signature: f.signature, oracle: f.oracle, message: f.message, ops: f.ops,
      result: runLockstep(impl, profile, f.ops, { recordSites: true }), seed: 0, path: '', runsToFind: f.transition,
    };
    return findingRecord(finding, profile, source);
  });
  const seconds = (Date.now() - start) / 1000;
  const interrupted = signal?.aborted === true && (r.outOfTime || p?.outOfTime === true);
  const alphabet = describeAlphabet(profile, bounds);
  const certificate = renderCertificate({
    implementation: impl.name, profile: profile.name, profileTitle: profile.title, bounds, alphabet,
    states: r.states, transitions: r.transitions, depthCompleted: r.depthCompleted, exhausted: r.exhausted, outOfTime: r.outOfTime,
    stateHashed: r.stateHashed, statesPerDepth: r.statesPerDepth, counterexamples: findings.length + races.length, seconds, interrupted,
    pairs: p && { from: pairFrom, depth: pairDepth, pairs: p.pairs, schedules: p.schedules, complete: !p.outOfTime },
  });
  return {
    name: impl.name, profile: profile.name, bounds, alphabet, states: r.states, transitions: r.transitions,
    statesPerDepth: r.statesPerDepth, depthCompleted: r.depthCompleted, exhausted: r.exhausted, outOfTime: r.outOfTime || p?.outOfTime === true,
    interrupted, findings, races, seconds, certificate,
    pairs: p && { from: pairFrom, depth: pairDepth, pairs: p.pairs, commuting: p.commuting, schedules: p.schedules },
  };
}

const DEFAULT_PAIR_DEPTH = 3;
const OPAQUE_DEFAULT_DEPTH = 3;
const OPAQUE_DEFAULT_PAIR_DEPTH = 1;

export interface VerifyRace {
  signature: string;
  oracle: string;
  message: string;
  case: ConcurrentCase;
  contextSwitches: number;
  token: string;
  text: string;
}

function raceOf(f: PairFailure, profile: NonNullable<ReturnType<typeof profileByName>>, source: string): VerifyRace {
  const text = renderConcurrentFinding({
    signature: f.signature, oracle: f.oracle, message: f.message, case: f.case, result: f.result, scheduler: 'random', runsToFind: 0, seed: 0, path: '',
  }, profile);
  return {
    signature: f.signature, oracle: f.oracle, message: f.message, case: f.case, contextSwitches: f.contextSwitches,
    token: encodeToken({ profile: profile.name, impl: source, kind: 'concurrent', case: f.case }), text,
  };
}
