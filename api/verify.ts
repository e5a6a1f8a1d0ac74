// Bounded exhaustive verification of one implementation: every op sequence
// up to a depth over a finite alphabet, states deduplicated, every oracle on
// every transition; the shortest counterexample of each signature, or a
// certificate of what was explored.

import { notReproducible } from '../model/impl/determinism.ts';
import { alphabet as alphabetOf, describeAlphabet, keptSizes, type VerifyBounds } from '../fuzz/verify/alphabet.ts';
import { hashable } from '../fuzz/verify/canonical.ts';
import { forkable } from '../fuzz/verify/fork.ts';
import { HeapWatch, type HeapFull } from '../fuzz/verify/heap.ts';
import { checkedBounds } from '../fuzz/verify/bounds.ts';
import { Bfs } from '../fuzz/verify/bfs.ts';
import { renderCertificate, type CertificateFacts } from '../fuzz/verify/certificate.ts';
import { caseSize, explorePairsYielding, pairStarts, recorded, type PairCandidate, type PairFailure } from '../fuzz/verify/pairs.ts';
import { pairsParallel, runParallel, VerifyPool } from '../fuzz/verify/parallel.ts';
import { DEFAULT_OP_TIMEOUT } from '../fuzz/defaults.ts';
import { originOf } from '../model/impl/origin.ts';
import { runWatched } from './replay.ts';
import { failAlikeAfresh } from './fresh-load.ts';
import { watched } from '../fuzz/watchdog/host.ts';
import type { RootInput } from '../fuzz/verify/root.ts';
import { underWatchdog, withKnownHangs } from '../properties/impl-calls.ts';
import type { ReplayCase } from '../reports/token.ts';
import type { ConcurrentResult } from '../properties/concurrent.ts';
import type { BfsResult } from '../fuzz/verify/bfs.ts';
import type { ConcurrentCase } from '../properties/concurrent.ts';
import { renderConcurrentFinding } from '../reports/text.ts';
import { encodeToken } from '../reports/token.ts';
import { replayCommand } from '../reports/replay-command.ts';
import { givenObject, loadImplementation } from '../model/impl/load.ts';
import { createWithin } from '../model/impl/bounded.ts';
import type { Implementation } from '../model/impl/types.ts';
import { profileByName, type ProfileName } from '../model/profile.ts';
import { UserError } from '../model/user-error.ts';
import type { Finding } from '../properties/findings.ts';
import { runLockstep, Session, type RunResult } from '../properties/lockstep.ts';
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
  /** Worker threads for the search and the pairs (default 1). The result
   * does not depend on it. Workers load the implementation again: a
   * bundled name, a module path, or an object from loadImplementation;
   * any other object runs on this thread, as does every run with 0. */
  workers?: number;
  /** Milliseconds an op may run on a worker before it is a failure of its
   * own, `hang:<op>` (default 2000); 0 watches nothing, and then a single
   * worker (`workers` 1) is this thread. On this thread an op that never
   * returns cannot be stopped. */
  opTimeout?: number;
  /** Hangs the run goes on past (default 16): the next one stops it, since
   * each costs the op timeout. */
  maxHangs?: number;
  /** Stop after this many seconds, at the depth completed by then. */
  timeBudget?: number;
  /** Stop the single-thread search, at the depth completed, once the heap
   * in use passes this many megabytes (default: 85% of the heap V8 allows
   * the process); pairs still run after it. */
  heapLimitMb?: number;
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
   * every path is a state and the states number about `ops` to the depth.
   * `replayed`: its state is read (a module's state()) but cannot be
   * copied, so each op runs after a replay of the path to its state. */
  | { phase: 'start'; stateHashed: boolean; replayed: boolean; ops: number; depth: number }
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
   * budget, by `signal` (then `interrupted`), or by ops that hung (then
   * `hangs` is past the limit). */
  outOfTime: boolean;
  interrupted: boolean;
  /** Ops that did not return within the op timeout, each a failure. */
  hangs: number;
  /** The heap in use when it stopped the search (then `outOfTime`), and
   * the limit it passed. */
  heapFull: HeapFull | undefined;
  /** The shortest counterexample of each signature, in the order found. */
  findings: FindingRecord[];
  /** Failures only an interleaving of a pair shows: fewest ops, then
   * fewest context switches. */
  races: VerifyRace[];
  /** `optionStates`: states outside the pair depths that pairs of socket
   * options started from, each the first to show a socket as options see
   * it. */
  pairs: { from: number; depth: number; pairs: number; commuting: number; schedules: number; optionStates: number } | undefined;
  seconds: number;
  /** The certificate as text (a summary of counterexamples when any). */
  certificate: string;
}

export async function verify(implementation: Implementation | string, options: VerifyOptions = {}): Promise<VerifyResult> {
  const impl = typeof implementation === 'string' ? await loadImplementation(implementation, { createTimeout: options.opTimeout }) : givenObject(implementation, 'the implementation given to verify()');
  const source = options.source ?? (typeof implementation === 'string' ? implementation : impl.name);
  const profile = profileByName(impl.profile);
  if (profile === undefined) throw new TypeError(`${impl.name} names no known profile: ${String(impl.profile)}`);
  const bounds = checkedBounds(profile, options);
  for (const [k, min, max] of [['pairDepth', -1, 64], ['pairFrom', 0, 64], ['preemptions', 0, 16], ['workers', 0, 256], ['opTimeout', 0, 2 ** 31 - 1], ['maxHangs', 0, 2 ** 31 - 1], ['heapLimitMb', 1, 2 ** 31 - 1]] as const) {
    const v = options[k];
    if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) throw new UserError(`verify: ${k} must be an integer from ${min} to ${max}, got ${v}`);
  }
  // An implementation whose state cannot be read merges no states: its
  // search is a tree of about (ops offered)^depth paths, so the default
  // depths are those such a tree finishes at in minutes. One whose state
  // its state() tells merges them, but cannot be copied: each op replays
  // the path to its state, which costs a few ops more each. The session is
  // made on this thread, which no watchdog can stop: its create() is bounded.
  const opTimeout = options.opTimeout ?? DEFAULT_OP_TIMEOUT;
  const root = createWithin(() => new Session(impl, profile, []), opTimeout);
  const opaque = !hashable(root);
  const replayed = !opaque && !forkable(root);
  if (options.depth === undefined) bounds.depth = opaque ? OPAQUE_DEFAULT_DEPTH : replayed ? REPLAYED_DEFAULT_DEPTH : bounds.depth;
  const start = Date.now();
  const deadline = options.timeBudget === undefined ? undefined : start + options.timeBudget * 1000;
  const signal = options.signal;
  const spent = (): boolean => signal?.aborted === true || (deadline !== undefined && Date.now() > deadline) || pool?.hungOut === true;
  // The search's states fill the heap; the pairs' do not, and they still
  // run after a search the heap stopped.
  const heap = new HeapWatch(options.heapLimitMb);
  const expired = (): boolean => spent() || heap.full();
  const pairDepth = Math.min(options.pairDepth ?? (opaque ? OPAQUE_DEFAULT_PAIR_DEPTH : DEFAULT_PAIR_DEPTH), bounds.depth);
  const bfs = new Bfs(impl, profile, bounds, pairDepth);
  if (pairDepth >= 0) bfs.pairedDepths = { from: options.pairFrom ?? 0, to: pairDepth };
  const workers = options.workers ?? 1;
  const origin = originOf(impl);
  const pairFrom = options.pairFrom ?? 0;
  if (pairDepth >= 0 && pairFrom > pairDepth) {
    throw new UserError(`verify: pairs would start at depth ${pairFrom} (--pair-from, pairFrom), past the last depth they are run from, ${pairDepth} (--pair-depth, pairDepth, at most --depth ${bounds.depth})`);
  }
  const pb = { depth: pairDepth, from: pairFrom, preemptions: options.preemptions ?? 3 };
  const pool = origin !== undefined && (workers > 1 || (workers === 1 && opTimeout > 0))
    ? new VerifyPool(workers, { source: origin, bounds, branching: 'fork', pairedDepths: bfs.pairedDepths, watch: opTimeout > 0 ? { bound: opTimeout } : undefined }, options.maxHangs)
    : undefined;
  let rootHangs: number[] = [];
  // A case an op hung in is run again for its report where the hang is
  // known in advance, not on this thread, which it would hang too.
  const hung = (): boolean => rootHangs.length > 0 || (pool !== undefined && pool.hangs > 0);
  const rerun = async (c: ReplayCase): Promise<RunResult> => runWatched(impl, profile, c, opTimeout);
  // Workers are not waited for past the budget: one may be in an op that
  // has not returned yet.
  const giveUp = new AbortController();
  const onSignal = (): void => giveUp.abort();
  signal?.addEventListener('abort', onSignal);
  if (signal?.aborted === true) giveUp.abort();
  const budgetTimer = deadline === undefined ? undefined : setTimeout(() => giveUp.abort(), Math.max(0, deadline - Date.now()));
  let r: BfsResult;
  let p: Awaited<ReturnType<typeof pairsParallel>> | undefined;
  let pairsSkipped: CertificateFacts['pairsSkipped'];
  try {
    const stopWhen = options.stopAtFirst === true ? (f: ReadonlyMap<string, unknown>) => f.size > 0 : undefined;
    const progress = options.onProgress;
    const run = {
      expired, abort: signal, onLevel: options.onDepth, stopWhen,
      onExpanded: progress && ((depth: number, done: number, of: number) => {
        progress({ phase: 'states', depth, done, of, states: bfs.seen.size, transitions: bfs.transitions });
      }),
    };
    if (progress) progress({ phase: 'start', stateHashed: !opaque, replayed, ops: alphabetOf(profile, bounds, keptSizes(root.spec, bounds), 0).length, depth: bounds.depth });
    const onPairs = progress && ((done: number, of: number) => progress({ phase: 'pairs', done, of }));
    const onRace = progress && ((f: PairCandidate) => {
      if (!bfs.failures.has(f.signature)) progress({ phase: 'found', signature: f.signature, ops: caseSize(f.case), race: true });
    });
    if (progress) bfs.onFound = (f) => progress({ phase: 'found', signature: f.signature, ops: f.ops.length, race: false });
    // The workers expand states, but this thread makes the initial one: its
    // teardown is run on a watched thread first, for where it hangs.
    if (pool !== undefined && opTimeout > 0 && !underWatchdog()) {
      rootHangs = (await watched<void, RootInput>(opTimeout, { module: ROOT_MODULE, fn: 'rootWatched', input: { origin: origin!, bounds } })).hangs;
    }
    // Its ops are known not to hang but where the watched run found they
    // do; its create() is another call than that run's, and is bounded.
    const rootOf = () => createWithin(() => withKnownHangs(rootHangs, opTimeout, () => bfs.root()), opTimeout);
    r = pool ? await runParallel(bfs, pool, { ...run, abort: giveUp.signal }, rootOf) : await bfs.runYielding(run);
    const stopped = stopWhen !== undefined && r.failures.length > 0;
    // A search that ran out of states before the pair depth has reached
    // every state pairs could start from.
    const stoppedByHeap = r.outOfTime && heap.tripped !== undefined && !spent();
    const pairsWanted = pairDepth >= 0 && (!r.outOfTime || stoppedByHeap) && !stopped && (r.depthCompleted >= pairDepth || r.exhausted);
    pairsSkipped = pairDepth < 0 ? 'not asked' : stopped ? 'first counterexample' : !pairsWanted ? 'stopped' : undefined;
    if (pairsWanted) {
      const starts = pairStarts(pb, bfs.retained, bfs.optionStarts);
      p = pool
        ? await pairsParallel(impl, profile, pool, pb, starts, {
          expired: spent, onDone: onPairs, onFound: onRace, abort: giveUp.signal,
          rerun: async (c) => (hung() ? await rerun({ profile: profile.name, impl: source, kind: 'concurrent', case: c }) : recorded(impl, profile, c)) as ConcurrentResult,
        })
        : await explorePairsYielding(impl, profile, bounds, pb, starts, { expired: spent, stopWhen, onDone: onPairs, onFound: onRace });
    }
  } finally {
    clearTimeout(budgetTimer);
    signal?.removeEventListener('abort', onSignal);
    if (pool) await pool.stop();
  }
  // A signature a single thread shows is reported there, as the other
  // searches do: an interleaving that ends the same way adds nothing.
  const races = (p?.failures ?? []).filter((f) => !r.failures.some((g) => g.signature === f.signature)).map((f) => raceOf(f, profile, source));
  const findings: FindingRecord[] = [];
  for (const f of r.failures) {
    const result = hung() ? await rerun({ profile: profile.name, impl: source, kind: 'sequential', ops: f.ops }) : runLockstep(impl, profile, f.ops, { recordSites: true });
    // The message of the run the report shows: the search's own run may
    // have gone on from a copy of a state whose buffers were numbered
    // otherwise (fuzz/verify/bfs.ts).
    if (result.failure?.signature !== f.signature) throw notReproducible(impl, `the counterexample for ${f.signature} does not fail with it when run again`);
    const message = result.failure.message;
    const finding: Finding = { signature: f.signature, oracle: f.oracle, message, ops: f.ops, result, seed: 0, path: '', runsToFind: f.transition };
    findings.push(findingRecord(finding, profile, source));
  }
  if (origin !== undefined && !underWatchdog()) await failAlikeAfresh(impl, origin, [...findings, ...races], opTimeout);
  const hangs = rootHangs.length + (pool?.hangs ?? 0);
  const seconds = (Date.now() - start) / 1000;
  const interrupted = signal?.aborted === true && (r.outOfTime || p?.outOfTime === true);
  const alphabet = describeAlphabet(profile, bounds);
  const certificate = renderCertificate({
    implementation: impl.name, profile: profile.name, profileTitle: profile.title, bounds, alphabet,
    states: r.states, transitions: r.transitions, depthCompleted: r.depthCompleted, exhausted: r.exhausted, outOfTime: r.outOfTime,
    stateHashed: r.stateHashed, statesPerDepth: r.statesPerDepth, counterexamples: findings.length + races.length, seconds, interrupted,
    hungOut: pool?.hungOut === true ? { hangs, bound: opTimeout } : undefined,
    pairs: p && { from: pairFrom, depth: pairDepth, pairs: p.pairs, schedules: p.schedules, complete: !p.outOfTime, optionStates: bfs.optionStarts.length },
    pairsSkipped, heapFull: heap.tripped,
  });
  return {
    name: impl.name, profile: profile.name, bounds, alphabet, states: r.states, transitions: r.transitions,
    statesPerDepth: r.statesPerDepth, depthCompleted: r.depthCompleted, exhausted: r.exhausted, outOfTime: r.outOfTime || p?.outOfTime === true,
    interrupted, hangs, heapFull: heap.tripped, findings, races, seconds, certificate,
    pairs: p && { from: pairFrom, depth: pairDepth, pairs: p.pairs, commuting: p.commuting, schedules: p.schedules, optionStates: bfs.optionStarts.length },
  };
}

const ROOT_MODULE = new URL(`../fuzz/verify/root${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`, import.meta.url).href;

const DEFAULT_PAIR_DEPTH = 3;
const OPAQUE_DEFAULT_DEPTH = 3;
const REPLAYED_DEFAULT_DEPTH = 6;
const OPAQUE_DEFAULT_PAIR_DEPTH = 1;

export interface VerifyRace {
  signature: string;
  oracle: string;
  message: string;
  case: ConcurrentCase;
  contextSwitches: number;
  token: string;
  /** The command that replays it (with `--impl` for a module). */
  replay: string;
  text: string;
}

function raceOf(f: PairFailure, profile: NonNullable<ReturnType<typeof profileByName>>, source: string): VerifyRace {
  const text = renderConcurrentFinding({
    signature: f.signature, oracle: f.oracle, message: f.message, case: f.case, result: f.result, scheduler: 'random', runsToFind: 0, seed: 0, path: '',
  }, profile);
  const token = encodeToken({ profile: profile.name, impl: source, kind: 'concurrent', case: f.case });
  return {
    signature: f.signature, oracle: f.oracle, message: f.message, case: f.case, contextSwitches: f.contextSwitches,
    token, replay: replayCommand(token, source), text,
  };
}
