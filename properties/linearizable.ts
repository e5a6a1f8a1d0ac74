// Linearizability: a concurrent history is accepted only if some order of
// its operations that respects real time (an op that returned before another
// was invoked comes first) gives, run one at a time on the spec, exactly the
// results observed. Depth-first over the orders, memoised on (how far each
// thread got, the spec's state): the same world reached two ways is explored
// once.

import type { FdView } from '../model/impl/types.ts';
import { formatOutcome, sameOutcome } from '../model/format.ts';
import { isSyscall, type Op, type Outcome } from '../model/ops.ts';
import type { SpecWorld } from '../model/spec/world.ts';

export interface HistoryOp {
  /** Unique within the history. */
  id: number;
  thread: number;
  op: Op;
  /** Logical times: the step at which it was invoked and returned. */
  invoke: number;
  response: number;
  outcome: Outcome;
}

export interface LinearizationResult {
  ok: boolean;
  /** The order found, and the spec world after it. */
  order: HistoryOp[];
  world: SpecWorld | undefined;
  /** Distinct (progress, state) pairs visited. */
  explored: number;
}

/** `perThread[t]` lists thread t's ops in program order. When `finalView` is
 * given, the spec's descriptors after the order must match it too. Calls
 * whose ids are in `free` may return anything. */
export function linearize(start: SpecWorld, perThread: HistoryOp[][], finalView?: FdView[], free?: ReadonlySet<number>): LinearizationResult {
  let first: Explanation | undefined;
  const explored = explore(start, perThread, { finalView, free }, (e) => {
    first = e;
    return true;
  });
  return { ok: first !== undefined, order: first?.order ?? [], world: first?.world, explored };
}

/** One order that explains a history, the spec world after it, and what
 * the spec returned for the tracked call in it. */
export interface Explanation {
  order: HistoryOp[];
  world: SpecWorld;
  tracked: Outcome | undefined;
}

/** Every distinct way a history can be explained: one per final spec world
 * (and, with `track`, per result the spec gives that call). Which one a
 * depth-first search meets first depends on the order it tries threads in;
 * the whole set does not, so verdicts built from it are stable. */
export function explanations(start: SpecWorld, perThread: HistoryOp[][], opts: { free?: ReadonlySet<number>; track?: number } = {}): Explanation[] {
  const out = new Map<string, Explanation>();
  explore(start, perThread, opts, (e) => {
    const key = `${e.world.key()}#${e.tracked === undefined ? '' : formatOutcome(e.tracked)}`;
    if (!out.has(key)) out.set(key, e);
    return false;
  });
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, e]) => e);
}

interface ExploreOptions {
  finalView?: FdView[];
  free?: ReadonlySet<number>;
  track?: number;
}

/** Depth-first over the orders; `found` says whether to stop. Returns the
 * number of distinct (progress, state) pairs visited. */
function explore(start: SpecWorld, perThread: HistoryOp[][], opts: ExploreOptions, found: (e: Explanation) => boolean): number {
  const seen = new Set<string>();
  const pos = perThread.map(() => 0);
  const order: HistoryOp[] = [];
  let tracked: Outcome | undefined;

  // Split ops whose first half has taken effect, by id.
  const halfway = new Set<number>();
  // Nodes under two steps from the start are not keyed: two ways there
  // meet only when two results of one op leave one world, which is rare,
  // and exploring it twice costs less than a world's key (a long string)
  // for every node.
  let unkeyed = 0;
  const dfs = (world: SpecWorld): boolean => {
    if (order.length + halfway.size < 2) {
      unkeyed++;
    } else {
      const key = `${pos.join(',')}#${[...halfway].sort().join('.')}#${tracked === undefined ? '' : formatOutcome(tracked)}#${world.key()}`;
      if (seen.has(key)) return false;
      seen.add(key);
    }
    const pending: HistoryOp[] = [];
    perThread.forEach((ops, t) => { if (pos[t] < ops.length) pending.push(ops[pos[t]]); });
    if (pending.length === 0) {
      if (opts.finalView && !sameView(world.view(), opts.finalView)) return false;
      return found({ order: [...order], world, tracked });
    }
    // An op invoked after some pending op returned must wait for it. Only
    // system calls return to anyone who could tell: when a softirq finished
    // with a packet is no event userspace observes.
    const earliestResponse = Math.min(...pending.map((h) => (isSyscall(h.op) || h.op.kind === 'sysctl' ? h.response : Infinity)));
    for (const h of pending) {
      if (h.invoke >= earliestResponse) continue;
      if (world.splits(h.op) && !halfway.has(h.id)) {
        const next = world.clone();
        next.applyFirstHalf(h.op, h.id);
        halfway.add(h.id);
        if (dfs(next)) return true;
        halfway.delete(h.id);
        continue;
      }
      for (const { world: next, got } of successors(world, h, perThread, pos, opts.free?.has(h.id) ?? false, halfway.has(h.id))) {
        pos[h.thread]++;
        order.push(h);
        const before = tracked;
        if (h.id === opts.track) tracked = got;
        if (dfs(next)) return true;
        tracked = before;
        order.pop();
        pos[h.thread]--;
      }
    }
    return false;
  };

  dfs(start.clone());
  return seen.size + unkeyed;
}

/** Whether two views show the same descriptors, each with the same flag
 * and SYN, in whatever order either lists them: a view is a set. An fd
 * listed twice counts by its last entry, as the single-thread oracle
 * reads it. */
export function sameView(a: readonly FdView[], b: readonly FdView[]): boolean {
  return covers(a, b) && covers(b, a);
}

function covers(a: readonly FdView[], b: readonly FdView[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (lastWithFd(a, v.fd) !== v) continue;
    const w = lastWithFd(b, v.fd);
    if (w === undefined || w.flag !== v.flag || w.kept !== v.kept) return false;
  }
  return true;
}

/** The view of `fd` (the last, should an implementation show one twice):
 * a scan, as views are a handful of descriptors. */
export function lastWithFd(views: readonly FdView[], fd: number): FdView | undefined {
  for (let i = views.length - 1; i >= 0; i--) if (views[i].fd === fd) return views[i];
  return undefined;
}

/** The worlds in which `h` takes effect with its observed result. A call on
 * a descriptor takes a file reference when it starts, so besides the plain
 * atomic step: a close() may leave its socket to the calls on the same
 * descriptor that started before it returned, and such a call may then run
 * on that socket although the descriptor is gone. */
function successors(world: SpecWorld, h: HistoryOp, perThread: HistoryOp[][], pos: number[], anyOutcome: boolean, secondHalf: boolean): Array<{ world: SpecWorld; got: Outcome }> {
  const out: Array<{ world: SpecWorld; got: Outcome }> = [];
  const plain = world.clone();
  const got = secondHalf ? plain.applySecondHalf(h.op, h.id) : plain.apply(h.op, h.outcome);
  if (sameOutcome(got, h.outcome) || anyOutcome) {
    plain.releaseInFlight(h.id);
    out.push({ world: plain, got });
  }
  // Only a call whose descriptor was closed under it runs in flight: no
  // copy of the world for the others.
  if (world.runsInFlight(h.op, h.id)) {
    const viaRef = world.clone();
    const r = viaRef.applyInFlight(h.op, h.id, h.outcome);
    if (r !== undefined && sameOutcome(r, h.outcome)) out.push({ world: viaRef, got: r });
  }
  if (h.op.kind === 'close') {
    const fd = h.op.fd;
    const holders: number[] = [];
    perThread.forEach((ops, t) => {
      for (let i = pos[t]; i < ops.length; i++) {
        const o = ops[i];
        if (t !== h.thread && 'fd' in o.op && o.op.fd === fd && o.op.kind !== 'close' && o.invoke < h.response) holders.push(o.id);
      }
    });
    if (holders.length > 0) {
      const deferred = world.clone();
      const got = secondHalf ? deferred.closeSecondHalfInFlight(h.id, fd, holders) : deferred.closeInFlight(fd, holders);
      if (sameOutcome(got, h.outcome)) out.push({ world: deferred, got });
    }
  }
  return out;
}
