// Concurrency in verify: from every state reached within the pair depth,
// every pair of ops that can run on two CPUs or threads, under every
// interleaving the exhaustive scheduler reaches within a preemption bound,
// with sleep sets over the field-level independence relation. A pair whose
// ops commute is skipped whole: every interleaving of it is equivalent to
// the two sequential orders, which the breadth-first search runs anyway.
//
// Two packets on two CPUs change what no system call in the pair can see:
// the accept queue. Such a pair gets a third, user thread that accepts on
// each listening descriptor and reads what it got, so the oracles (here
// linearizability) see the children the pair left behind. Likewise a pair
// that makes a descriptor gets a thread that reads through each new one,
// once both ops have returned.
//
// A failure counts here only if no one-op-at-a-time order of the same ops
// fails (the rule the concurrent search follows), so each defect is
// reported once, under the oracle closest to its cause. Every schedule of a
// pair is visited, so the counterexample kept for each signature has the
// fewest ops, then the fewest context switches among the schedules the
// reduction keeps (sleep sets keep one schedule of each class of
// equivalent ones, not necessarily the one with the fewest switches).

import { opOrders, sequentialFailure } from '../concurrent-search.ts';
import { runLockstep, type Session } from '../../properties/lockstep.ts';
import { explore } from '../explore.ts';
import type { Implementation } from '../../model/impl/types.ts';
import { isSyscall, makesDescriptor, type Op } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';
import type { SpecWorld } from '../../model/spec/world.ts';
import { runConcurrent, type ConcurrentCase, type ConcurrentResult, type ThreadKind } from '../../properties/concurrent.ts';
import { contextSwitches } from '../../properties/findings.ts';
import { replay as followSchedule } from '../../properties/concurrent.ts';
import { alphabet, type VerifyBounds } from './alphabet.ts';
import { pathOf, type Node, type NodeData, type OptionStart } from './bfs.ts';
import { runLettingIn, runThrough } from './stepwise.ts';
import { fork, forkable, replayed } from './fork.ts';
import { commute } from './independence.ts';
import { kernelOf } from '../../model/impl/stack/adapter.ts';

export interface PairBounds {
  /** Pairs start from every state reached with at most this many ops... */
  depth: number;
  /** ...and at least this many (0 unless a defect is known to lie deep:
   * every state up to a great depth is more than any budget pairs). */
  from: number;
  /** Preemptions per interleaving (default 3: more than any pair of the
   * bundled implementations needs to reach every interleaving of two ops). */
  preemptions: number;
}

export interface PairFailure {
  signature: string;
  oracle: string;
  message: string;
  case: ConcurrentCase;
  result: ConcurrentResult;
  contextSwitches: number;
}

export interface PairsResult {
  pairs: number;
  /** Pairs skipped because their ops commute. */
  commuting: number;
  schedules: number;
  failures: PairFailure[];
}

/** Ops that finish in a single step of the stack: two of them interleave
 * only as the two sequential orders. */
const SINGLE_STEP = new Set<Op['kind']>(['socket', 'synackTimeout', 'sysctl', 'expireAll']);

const NOTHING_COMMUTES = (): boolean => false;

export function threadKind(op: Op): ThreadKind {
  return isSyscall(op) || op.kind === 'sysctl' ? 'user' : 'softirq';
}

/** The ops offered for pairs in a state: the alphabet, without ops on
 * descriptors beyond the ones open (their racing is opening them, which the
 * pair's other op does in the sequential search) nor teardown's expireAll. */
function pairAlphabet(profile: Profile, bounds: VerifyBounds, node: NodeData): Op[] {
  return alphabet(profile, bounds, node.kept, node.peersUsed).filter((op) => op.kind !== 'expireAll' && (!('fd' in op) || node.open.includes(op.fd)));
}

/** A pair's failure as found: plain data, so a worker can send it. */
export interface PairCandidate {
  signature: string;
  oracle: string;
  message: string;
  case: ConcurrentCase;
  contextSwitches: number;
}

/** What the pairs from one state found: the best failure of each
 * signature among them (fewest ops, then fewest context switches, then
 * first in the alphabet's order). */
export interface NodePairs {
  pairs: number;
  commuting: number;
  schedules: number;
  found: PairCandidate[];
}

/** Every pair from one state, or with `socket` (a descriptor), every pair
 * of socket options on the socket it names. A function of the state
 * alone, not of what other states found, so states can be split over
 * worker threads. */
export function pairsAt(impl: Implementation, profile: Profile, bounds: VerifyBounds, pb: PairBounds, setup: Op[], node: NodeData, socket?: number): NodePairs {
  const local = new Map<string, PairCandidate>();
  let pairs = 0;
  let commuting = 0;
  let schedules = 0;
  // Each schedule starts from a copy of the state instead of running the
  // setup again; an implementation that cannot be copied replays it.
  let base: Session | undefined = replayed(impl, profile, setup, node.sending);
  const names = socketNames(base.spec);
  // The footprints (independence.ts) and the ops that finish in one step
  // are the bundled stack's. A third-party module's op may touch anything
  // and yield anywhere: nothing is skipped for it, and the pairs of options
  // from a state that first shows a socket take in options on every socket,
  // since its sockets may share what it keeps.
  const stack = kernelOf.has(base.instance);
  const independent = stack ? commute(profile, names) : NOTHING_COMMUTES;
  const ops = pairAlphabet(profile, bounds, node).filter((op) => socket === undefined || (isOption(op) && (!stack || names(op.fd) === names(socket))));
  if (!forkable(base)) base = undefined;
  let scratch: Session | undefined;
  for (let i = 0; i < ops.length; i++) {
    for (let j = i; j < ops.length; j++) {
      const a = ops[i];
      const b = ops[j];
      if (independent(a, b) || (stack && SINGLE_STEP.has(a.kind) && SINGLE_STEP.has(b.kind))) {
        commuting++;
        continue;
      }
      pairs++;
      const threads: ConcurrentCase['threads'] = [{ kind: threadKind(a), ops: [a] }, { kind: threadKind(b), ops: [b] }];
      let last: number | undefined;
      if (threads.every((t) => t.kind === 'softirq') && node.listening.length > 0) threads.push({ kind: 'user', ops: observer(profile, node) });
      else if (makesDescriptor(a) || makesDescriptor(b)) {
        const reads = newDescriptorReads(profile, bounds, node);
        if (reads.length > 0) last = threads.push({ kind: 'user', ops: reads }) - 1;
      }
      const c: ConcurrentCase = { setup, threads, schedule: [] };
      // Whether some one-at-a-time order of the pair fails, decided at its
      // first failing schedule: then every failure of the pair belongs to
      // the sequential search, and the pair is left. Otherwise each
      // signature is a race or not by its first failing schedule.
      let ordersFail: boolean | undefined;
      const owned = new Map<string, boolean>();
      const accept = (r: ConcurrentResult): boolean => {
        ordersFail ??= anyOrderFails(impl, profile, c);
        if (ordersFail) throw new LeavePair();
        const f = r.failure!;
        let seq = owned.get(f.signature);
        if (seq === undefined) {
          seq = sequentialFailure(impl, profile, { ...c, schedule: r.schedule }, r, Infinity) !== undefined;
          owned.set(f.signature, seq);
        }
        if (!seq) {
          const candidate: PairCandidate = {
            signature: f.signature, oracle: f.oracle, message: f.message, case: { ...c, schedule: r.schedule }, contextSwitches: switches(r),
          };
          const known = local.get(f.signature);
          if (known === undefined || shorter(candidate.case, candidate.contextSwitches, known)) local.set(f.signature, candidate);
        }
        // A schedule that hung cost the op timeout, and the pair's next
        // would likely cost it again: the first one found stands for it.
        if (f.oracle === 'hang') throw new LeavePair();
        // Every schedule is visited: the one with the fewest switches wins.
        return false;
      };
      try {
        const from = base;
        const start = from && ((): Session => (scratch = fork(impl, profile, [a, b], from, scratch)));
        schedules += explore(impl, profile, c, { preemptions: pb.preemptions, reduction: true, independent, accept, start, last }).schedules;
      } catch (e) {
        if (!(e instanceof LeavePair)) throw e;
      }
    }
  }
  return { pairs, commuting, schedules, found: [...local.values()] };
}

function isOption(op: Op): op is Extract<Op, { kind: 'setsockopt' | 'getsockopt' }> {
  return op.kind === 'setsockopt' || op.kind === 'getsockopt';
}

/** Where pairs start: a state and every pair from it, or with `socket`,
 * the pairs of options on that descriptor's socket. */
export interface PairStart {
  node: Node;
  socket?: number;
}

/** The states up to the pair depth (and from `pb.from`), then those that
 * first show a socket as its options see it at other depths. */
export function pairStarts(pb: PairBounds, nodes: readonly Node[], options: readonly OptionStart[] = []): PairStart[] {
  return [
    ...nodes.filter((n) => n.depth <= pb.depth && n.depth >= pb.from).map((node) => ({ node })),
    ...options.map((o) => ({ node: o.node, socket: o.fd })),
  ];
}

/** Fold one state's findings into the best so far, states in order. */
export function mergePairs(best: Map<string, PairCandidate>, found: readonly PairCandidate[]): void {
  for (const f of found) {
    const known = best.get(f.signature);
    if (known === undefined || shorter(f.case, f.contextSwitches, known)) best.set(f.signature, f);
  }
}

/** The best candidates as findings, each re-run with its sites recorded
 * for the report. */
export function finish(impl: Implementation, profile: Profile, best: ReadonlyMap<string, PairCandidate>): PairFailure[] {
  return [...best.values()].map((f) => ({ ...f, result: recorded(impl, profile, f.case) }));
}

/** The same, each run by `rerun`. */
export async function finishWith(best: ReadonlyMap<string, PairCandidate>, rerun: (c: ConcurrentCase) => Promise<ConcurrentResult>): Promise<PairFailure[]> {
  const out: PairFailure[] = [];
  for (const f of best.values()) out.push({ ...f, result: await rerun(f.case) });
  return out;
}

/** A case run again along its schedule, with its sites recorded. */
export function recorded(impl: Implementation, profile: Profile, c: ConcurrentCase): ConcurrentResult {
  return runConcurrent(impl, profile, c, followSchedule(c.schedule), { recordSites: true });
}

export interface PairsOptions {
  /** Stop before the next state once this holds (a time budget spent, a
   * stop asked for); the result then says out of time. */
  expired?: () => boolean;
  stopWhen?: (found: ReadonlyMap<string, PairCandidate>) => boolean;
  /** Told after each state's pairs: how many states are done, of how many. */
  onDone?: (done: number, of: number) => void;
  /** Told of each signature the first time it fails (on worker threads,
   * in the order their replies come; the shortest is chosen afterwards). */
  onFound?: (f: PairCandidate) => void;
  /** On worker threads: once it fires, no reply is waited for. */
  abort?: AbortSignal;
  /** On worker threads: how each finding is run again for its report (an
   * op that hung there must not hang this thread). */
  rerun?: (c: ConcurrentCase) => Promise<ConcurrentResult>;
}

/** Pairs from every state of `nodes` up to the pair depth (`nodes` may
 * be PairStarts, made by pairStarts). */
export function explorePairs(
  impl: Implementation, profile: Profile, bounds: VerifyBounds, pb: PairBounds, nodes: readonly Node[] | readonly PairStart[], opts: PairsOptions = {},
): PairsResult & { outOfTime: boolean } {
  return runThrough(pairsSearch(impl, profile, bounds, pb, startsOf(pb, nodes), opts));
}

/** The same, letting the event loop in every so often. */
export function explorePairsYielding(
  impl: Implementation, profile: Profile, bounds: VerifyBounds, pb: PairBounds, nodes: readonly Node[] | readonly PairStart[], opts: PairsOptions = {},
): Promise<PairsResult & { outOfTime: boolean }> {
  return runLettingIn(pairsSearch(impl, profile, bounds, pb, startsOf(pb, nodes), opts));
}

export function startsOf(pb: PairBounds, nodes: readonly Node[] | readonly PairStart[]): readonly PairStart[] {
  return nodes.length > 0 && 'node' in nodes[0] ? nodes as readonly PairStart[] : pairStarts(pb, nodes as readonly Node[]);
}

/** Pairs from each start in turn, pausing after each. */
function* pairsSearch(
  impl: Implementation, profile: Profile, bounds: VerifyBounds, pb: PairBounds, todo: readonly PairStart[], opts: PairsOptions,
): Generator<void, PairsResult & { outOfTime: boolean }> {
  const best = new Map<string, PairCandidate>();
  let pairs = 0;
  let commuting = 0;
  let schedules = 0;
  let outOfTime = false;
  let done = 0;
  for (const { node, socket } of todo) {
    if (opts.expired?.() === true) {
      outOfTime = true;
      break;
    }
    if (opts.stopWhen?.(best)) break;
    const r = pairsAt(impl, profile, bounds, pb, pathOf(node), node, socket);
    pairs += r.pairs;
    commuting += r.commuting;
    schedules += r.schedules;
    if (opts.onFound) for (const f of r.found) if (!best.has(f.signature)) opts.onFound(f);
    mergePairs(best, r.found);
    opts.onDone?.(++done, todo.length);
    yield;
  }
  return { pairs, commuting, schedules, failures: finish(impl, profile, best), outOfTime };
}

/** Accept on each listening descriptor, and read the child's SYN: the
 * child gets the lowest descriptor not open before (a pair of packets
 * opens none). */
function observer(profile: Profile, node: NodeData): Op[] {
  const ops: Op[] = [];
  const open = new Set(node.open);
  for (const fd of node.listening) {
    let child = 0;
    while (open.has(child)) child++;
    open.add(child);
    ops.push({ kind: 'accept', fd }, { kind: 'getsockopt', fd: child, optname: profile.readOpt, bufSize: OBSERVER_BUFFER });
  }
  return ops;
}

/** Each descriptor's socket, named by the lowest descriptor open on it. */
function socketNames(spec: SpecWorld): (fd: number) => number {
  return (fd) => {
    const sk = spec.socketOf(fd);
    if (sk === undefined) return fd;
    for (let other = 0; other < fd; other++) if (spec.socketOf(other) === sk) return other;
    return fd;
  };
}

/** After a pair that makes a descriptor, a read through each descriptor
 * in bounds that was not open before: what a racing op left behind it (a
 * file already released, a socket not the one asked for) shows only to a
 * call made through the new descriptor. The reads run after both ops
 * return, so they add no interleavings. */
function newDescriptorReads(profile: Profile, bounds: VerifyBounds, node: NodeData): Op[] {
  const ops: Op[] = [];
  for (let fd = 0; fd < bounds.fds; fd++) {
    if (!node.open.includes(fd)) ops.push({ kind: 'getsockopt', fd, optname: profile.readOpt, bufSize: OBSERVER_BUFFER });
  }
  return ops;
}

/** Large enough for any SYN the alphabet sends. */
const OBSERVER_BUFFER = 4096;

/** How many ops a case runs: its setup and every thread's. */
export const caseSize = (c: ConcurrentCase): number => c.setup.length + c.threads.reduce((n, t) => n + t.ops.length, 0);

/** Fewer ops, or as many and fewer context switches. */
function shorter(c: ConcurrentCase, switchCount: number, than: PairCandidate): boolean {
  return caseSize(c) < caseSize(than.case) || (caseSize(c) === caseSize(than.case) && switchCount < than.contextSwitches);
}

class LeavePair extends Error {}

function anyOrderFails(impl: Implementation, profile: Profile, c: ConcurrentCase): boolean {
  for (const order of opOrders(c.threads.map((t) => t.ops.length), Infinity)) {
    const cursor = c.threads.map(() => 0);
    const ops = [...c.setup, ...order.map((t) => c.threads[t].ops[cursor[t]++])];
    if (runLockstep(impl, profile, ops).failure !== undefined) return true;
  }
  return false;
}

function switches(r: ConcurrentResult): number {
  return contextSwitches(r.schedule).length;
}

