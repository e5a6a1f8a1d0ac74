// Breadth-first exploration of every op sequence up to a depth, one state
// at a time, with every oracle on every transition. A state is kept as the
// path that reaches it: holding a copy of every frontier state would cost
// memory by the gigabyte at depth 8. Expanding a state replays its path
// once, then branches: each op of the alphabet runs on a copy of that
// session (fork.ts), or, for an implementation that cannot be copied, on
// a fresh replay of the path. The copy is several times faster at depth 8
// (npm run bench). Breadth first means the first failure of
// each signature comes from a shortest sequence; among equally short ones,
// from the first in the alphabet's fixed order.

import type { Implementation } from '../../model/impl/types.ts';
import type { Op } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';
import { Session, type Failure } from '../../properties/lockstep.ts';
import { alphabet, keptSizes, peersUsedAfter, sentCode, type KeptSizes, type VerifyBounds } from './alphabet.ts';
import { hashable, socketProjection, stateFingerprint } from './canonical.ts';
import { Fingerprint } from './fingerprint.ts';
import { FingerprintSet } from './fingerprint-set.ts';
import { fork, forkable, replayed } from './fork.ts';
import { withPacketsOf } from '../../properties/oracles.ts';
import { runLettingIn, runThrough } from './stepwise.ts';

/** What expanding a state needs besides its path: plain data, so it can
 * be sent to a worker thread. */
export interface NodeData {
  peersUsed: number;
  kept: KeptSizes;
  /** The SYNs sent along the path, coded (alphabet.ts), and one op that
   * sends each: all a fresh session's oracles need to know of the path. */
  sent: readonly number[];
  sending: readonly Op[];
  /** Descriptors in bounds that are open. */
  open: readonly number[];
  /** Descriptors in bounds that listen. */
  listening: readonly number[];
}

/** A state reached, as the path to it. */
export interface Node extends NodeData {
  /** The state's fingerprint (absent on states made outside the explorer). */
  fp?: number;
  parent: Node | undefined;
  op: Op | undefined;
  depth: number;
}

/** A failure as the explorer keeps it. */
export interface Verdict {
  signature: string;
  oracle: string;
  message: string;
  step: number;
}

/** What one op did from a state: failed, reached a known state (empty), or
 * reached a new one (its fingerprint, what of its data only running the op
 * tells, teardown's verdict, and each open descriptor's socket as its
 * options see it). The rest of its data follows from the state's and the
 * op (pathAfter): a worker thread sends no more than it must. */
export interface Step {
  failure?: Verdict;
  child?: Pick<NodeData, 'kept' | 'open' | 'listening'> & { fp: number; sockets?: readonly number[] };
  end?: Verdict;
}

/** What the path to a state says of the state one more op reaches: the
 * peers used, the SYNs sent (coded, ascending) and an op sending each. */
export function pathAfter(node: NodeData, op: Op): Pick<NodeData, 'peersUsed' | 'sent' | 'sending'> {
  const sent = sentAfter(node.sent, op);
  return { peersUsed: peersUsedAfter(op, node.peersUsed), sent, sending: sent === node.sent ? node.sending : [...node.sending, op] };
}

/** `sent` itself when the op sends no SYN new to it. */
function sentAfter(sent: readonly number[], op: Op): readonly number[] {
  const code = sentCode(op);
  return code === undefined || sent.includes(code) ? sent : [...sent, code].sort((a, b) => a - b);
}

/** A state where some socket is first seen as its options see it
 * (canonical.ts, socketProjection), and a descriptor naming it. */
export interface OptionStart {
  node: Node;
  fd: number;
}

function verdict(f: Failure, offset: number): Verdict {
  return { signature: f.signature, oracle: f.oracle, message: f.message, step: f.step + offset };
}

/** The first failure of one signature: its sequence is a shortest one. */
export interface BfsFailure {
  signature: string;
  oracle: string;
  message: string;
  ops: Op[];
  /** The step the oracle fired at; teardown steps follow the ops. */
  step: number;
  /** Transitions explored before it, counting its own. */
  transition: number;
}

export interface BfsResult {
  states: number;
  transitions: number;
  /** Every sequence of at most this many ops was run. */
  depthCompleted: number;
  /** No state was left to expand: the bounded state space is exhausted. */
  exhausted: boolean;
  /** The time budget ran out before the depth bound. */
  outOfTime: boolean;
  failures: BfsFailure[];
  /** Distinct states first reached at each depth. */
  statesPerDepth: number[];
  /** False when the implementation's state cannot be read: every path is
   * then a state of its own. */
  stateHashed: boolean;
}

export interface BfsOptions {
  /** Stop at the first level boundary or state at which this holds (a
   * time budget spent, a stop asked for); the result then says out of time. */
  expired?: () => boolean;
  /** On worker threads: once it fires, no reply is waited for (a worker
   * may be in an op that never returns). */
  abort?: AbortSignal;
  /** Told when a level is complete. */
  onLevel?: (depth: number, states: number, transitions: number) => void;
  /** Told after each state of a level is expanded: the level (its states
   * have `depth` ops), how many of its states are done, of how many. */
  onExpanded?: (depth: number, done: number, of: number) => void;
  /** Stop as soon as this holds of the failures found (checked after each
   * state expanded, so equally short failures of that state are kept). */
  stopWhen?: (failures: ReadonlyMap<string, BfsFailure>) => boolean;
}

/** Where a level's new states go: the next frontier, or, for the last
 * level, a count (nothing expands them, and the last level is the largest:
 * keeping its nodes would cost most of a search's memory). */
export type Level = Pick<Node[], 'push' | 'length'>;

/** One copy of each distinct list the states hold. */
class Shared {
  private readonly lists = new Map<string, readonly (number | undefined)[]>();
  private readonly sendings = new Map<string, readonly Op[]>();
  private readonly keptSizes = new Map<string, KeptSizes>();

  numbers<T extends readonly (number | undefined)[]>(list: T): T {
    const key = list.join(',');
    const known = this.lists.get(key);
    if (known !== undefined && known.length === list.length) return known as T;
    this.lists.set(key, list);
    return list;
  }

  kept(k: KeptSizes): KeptSizes {
    const key = keptKey(k);
    const known = this.keptSizes.get(key);
    if (known !== undefined) return known;
    this.keptSizes.set(key, k);
    return k;
  }

  /** Ops sending the same SYNs in the same order send the same packets. */
  ops(list: readonly Op[]): readonly Op[] {
    const key = list.map(sentCode).join(',');
    const known = this.sendings.get(key);
    if (known !== undefined) return known;
    this.sendings.set(key, list);
    return list;
  }
}

function keptKey(k: KeptSizes): string {
  return `${k.sizes.join(',')}/${k.free ? 1 : 0}`;
}

class Tally {
  length = 0;
  push(): number {
    return ++this.length;
  }
}

/** The sink for the states level `d` reaches, in a search to `depth`. */
export function levelSink(d: number, depth: number): Level {
  return d + 1 < depth ? [] : new Tally();
}

export function pathOf(node: Node): Op[] {
  const out: Op[] = [];
  for (let n: Node | undefined = node; n?.op !== undefined; n = n.parent) out.push(n.op);
  return out.reverse();
}

export class Bfs {
  readonly seen = new FingerprintSet();
  readonly failures = new Map<string, BfsFailure>();
  transitions = 0;
  /** The states reached with at most `retainDepth` ops, in the order reached. */
  readonly retained: Node[] = [];
  /** Whether states are the implementation's (not its paths); known once
   * the root is made. */
  stateHashed = true;
  /** Told of each signature the first time it fails. */
  onFound?: (f: BfsFailure) => void;
  /** Depths whose states pairs start from anyway: a socket first seen as
   * its options see it at any other depth is kept in `optionStarts`
   * (undefined: none is). */
  pairedDepths?: { from: number; to: number };
  /** Sockets, as their options see them, met so far. */
  readonly socketsSeen = new Set<number>();
  readonly optionStarts: OptionStart[] = [];
  private readonly fp = new Fingerprint();
  private readonly alphabets = new Map<string, Op[]>();
  private readonly shared = new Shared();
  /** The session the last branch ran in: the next branch reuses it. */
  private scratch: Session | undefined;

  constructor(
    readonly impl: Implementation, readonly profile: Profile, readonly bounds: VerifyBounds, readonly retainDepth = -1,
    /** 'replay' re-runs the path for every op even where a copy would do. */
    readonly branching: 'fork' | 'replay' = 'fork',
  ) {}

  /** Make the next branch's session afresh rather than reuse the last. */
  forgetSessions(): void {
    this.scratch = undefined;
  }

  run(opts: BfsOptions = {}): BfsResult {
    return runThrough(this.search(opts));
  }

  /** The same search, letting the event loop in every so often. */
  runYielding(opts: BfsOptions = {}): Promise<BfsResult> {
    return runLettingIn(this.search(opts));
  }

  /** The search, pausing after each state expanded. */
  private *search(opts: BfsOptions): Generator<void, BfsResult> {
    const root = this.root();
    let frontier: Node[] = root ? [root] : [];
    const statesPerDepth = [this.seen.size];
    let depthCompleted = 0;
    let outOfTime = false;
    opts.onLevel?.(0, this.seen.size, this.transitions);
    for (let d = 0; d < this.bounds.depth && frontier.length > 0 && !this.done(opts); d++) {
      const next = levelSink(d, this.bounds.depth);
      const before = this.seen.size;
      for (let i = 0; i < frontier.length; i++) {
        if (opts.expired?.() === true) {
          outOfTime = true;
          break;
        }
        this.expand(frontier[i], next);
        opts.onExpanded?.(d, i + 1, frontier.length);
        if (this.done(opts)) break;
        yield;
      }
      if (outOfTime || this.done(opts)) break;
      depthCompleted = d + 1;
      statesPerDepth.push(this.seen.size - before);
      opts.onLevel?.(depthCompleted, this.seen.size, this.transitions);
      frontier = next as Node[];
    }
    return this.result(depthCompleted, statesPerDepth, frontier.length === 0, outOfTime);
  }

  /** What a search that stopped with this frontier and these depths found. */
  result(depthCompleted: number, statesPerDepth: number[], frontierEmpty: boolean, outOfTime: boolean): BfsResult {
    return {
      states: this.seen.size, transitions: this.transitions, depthCompleted,
      exhausted: frontierEmpty && !outOfTime, outOfTime,
      failures: [...this.failures.values()].sort((a, b) => a.transition - b.transition),
      statesPerDepth, stateHashed: this.stateHashed,
    };
  }

  done(opts: BfsOptions): boolean {
    return opts.stopWhen?.(this.failures) ?? false;
  }

  /** The initial state, and its teardown checked. */
  root(): Node | undefined {
    const session = new Session(this.impl, this.profile, []);
    this.stateHashed = hashable(session);
    const fp = stateFingerprint(this.fp, session, [], 0, []);
    this.seen.add(fp);
    const node: Node = { fp, parent: undefined, op: undefined, depth: 0, peersUsed: 0, sent: [], sending: [], kept: keptSizes(session.spec, this.bounds), open: this.openOf(session), listening: this.listeningOf(session) };
    if (this.retainDepth >= 0) this.retained.push(node);
    if (this.pairedDepths !== undefined) this.noteSockets(node, this.socketsOf(session, node.open));
    const end = endOf(session);
    this.record(end && verdict(end, 0), []);
    return node;
  }

  /** The alphabet offered in a state: made once per kind of state, so the
   * states reached share their ops. */
  alphabetOf(node: NodeData): Op[] {
    const key = `${keptKey(node.kept)}|${node.peersUsed}`;
    let ops = this.alphabets.get(key);
    if (ops === undefined) {
      ops = alphabet(this.profile, this.bounds, node.kept, node.peersUsed);
      this.alphabets.set(key, ops);
    }
    return ops;
  }

  /** Every op of the alphabet from `node`; new states go to `next`. */
  expand(node: Node, next: Level): void {
    const path = pathOf(node);
    this.apply(node, path, this.steps(path, node, (fp) => this.seen.has(fp)), next);
  }

  /** What each op of the alphabet does from a state: a failure, a state
   * `known` already holds (nothing), or a new state with its teardown's
   * verdict. A pure function of its inputs, so a worker thread can run it. */
  steps(path: readonly Op[], node: NodeData, known: (fp: number) => boolean): Step[] {
    // The state the path reaches, replayed once: copied for each op where
    // the implementation can be (fork.ts); otherwise each op replays the
    // path in a session of its own.
    const base = this.replay(path, node.sending);
    const copying = this.branching === 'fork' && forkable(base);
    const hashed = hashable(base);
    const packets = base.packets();
    const out: Step[] = [];
    const local = new Set<number>();
    // Most ops leave the state as they found it (a call on a descriptor
    // not open, an option already set): the session they ran in is then
    // in `base`'s state as far as any hash, and so any later op, can tell,
    // and the next op runs in it, without a copy or a replay. `base`
    // itself is such a session when nothing copies it.
    const here = hashed ? stateFingerprint(this.fp, base, path, node.peersUsed, node.sent) : undefined;
    let unchanged: Session | undefined = hashed && !copying ? base : undefined;
    for (const op of this.alphabetOf(node)) {
      let session: Session;
      // A session made by a copy, or begun again, has run no step yet: its
      // step numbers start at 0. A replay's count the path's too.
      let offset = path.length;
      if (unchanged !== undefined) {
        session = unchanged;
        session.again(withPacketsOf(packets, op));
      } else if (copying) {
        session = this.scratch = fork(this.impl, this.profile, op, base, this.scratch);
      } else {
        session = this.replay(path, [...path, op]);
        offset = 0;
      }
      unchanged = undefined;
      if (session.sequential(op, false)) {
        // Named as any run of the path is: by its worst violation, through
        // teardown, so the token replays the same signature.
        out.push({ failure: verdict(endOf(session)!, offset) });
        continue;
      }
      const peersUsed = peersUsedAfter(op, node.peersUsed);
      const sent = sentAfter(node.sent, op);
      const fp = stateFingerprint(this.fp, session, hashed ? path : [...path, op], peersUsed, sent);
      if (known(fp) || local.has(fp)) {
        if (fp === here) unchanged = session;
        out.push({});
        continue;
      }
      local.add(fp);
      // A new state is also the end of a case: teardown must leave nothing.
      const kept = keptSizes(session.spec, this.bounds);
      const open = this.openOf(session);
      const listening = this.listeningOf(session);
      // Only a search that pairs options needs its sockets as they see them.
      const sockets = this.pairedDepths !== undefined ? this.socketsOf(session, open) : undefined;
      const end = endOf(session);
      out.push({ child: { fp, kept, open, listening, sockets }, end: end && verdict(end, offset) });
    }
    return out;
  }

  /** The steps from `node`, taken in alphabet order: the same whether they
   * were computed here or on a worker thread. */
  apply(node: Node, path: readonly Op[], steps: readonly Step[], next: Level): void {
    const ops = this.alphabetOf(node);
    if (ops.length !== steps.length) throw new Error(`${steps.length} steps for an alphabet of ${ops.length}`);
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      this.transitions++;
      if (step.failure) {
        this.record(step.failure, [...path, ops[i]]);
        continue;
      }
      const c = step.child;
      if (c === undefined || this.seen.has(c.fp)) continue;
      this.seen.add(c.fp);
      const after = pathAfter(node, ops[i]);
      const child: Node = {
        parent: node, op: ops[i], depth: node.depth + 1, fp: c.fp, peersUsed: after.peersUsed,
        // A million states hold a few dozen distinct lists: share them.
        sent: this.shared.numbers(after.sent), kept: this.shared.kept(c.kept), open: this.shared.numbers(c.open),
        listening: this.shared.numbers(c.listening), sending: this.shared.ops(after.sending),
      };
      next.push(child);
      if (child.depth <= this.retainDepth) this.retained.push(child);
      if (c.sockets) this.noteSockets(child, c.sockets);
      if (step.end !== undefined) this.record(step.end, [...path, ops[i]]);
    }
  }

  /** Each open descriptor's socket as its options see it, in `open`'s order. */
  private socketsOf(session: Session, open: readonly number[]): number[] {
    return open.map((fd) => socketProjection(this.fp, session, fd, this.bounds.fds));
  }

  /** Keep `node` for the pairs of options on each socket it is the first
   * to show, unless pairs start from its depth anyway. */
  private noteSockets(node: Node, sockets: readonly number[]): void {
    const d = this.pairedDepths;
    if (d === undefined) return;
    const paired = node.depth >= d.from && node.depth <= d.to;
    for (let i = 0; i < sockets.length; i++) {
      if (this.socketsSeen.has(sockets[i])) continue;
      this.socketsSeen.add(sockets[i]);
      if (!paired) this.optionStarts.push({ node, fd: node.open[i] });
    }
  }

  /** A session that has run `path`; its oracles know of the SYNs `ops` send. */
  private replay(path: readonly Op[], ops: readonly Op[]): Session {
    return replayed(this.impl, this.profile, path, ops);
  }

  private listeningOf(session: Session): number[] {
    return this.openOf(session).filter((fd) => session.spec.socketOf(fd)?.tcpState === 'LISTEN');
  }

  private openOf(session: Session): number[] {
    return session.spec.openFds().filter((fd) => fd < this.bounds.fds);
  }

  private record(failure: Verdict | undefined, ops: Op[]): void {
    if (failure === undefined || this.failures.has(failure.signature)) return;
    const f = { signature: failure.signature, oracle: failure.oracle, message: failure.message, ops, step: failure.step, transition: this.transitions };
    this.failures.set(failure.signature, f);
    this.onFound?.(f);
  }
}

/** The session run through teardown, and the violation that names it. */
function endOf(session: Session): Failure | undefined {
  session.teardownAndQuiesce();
  return session.result().failure;
}
