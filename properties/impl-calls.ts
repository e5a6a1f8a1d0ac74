// Every call into an implementation passes through `guarded`. JavaScript
// cannot interrupt a synchronous loop, so an op that never returns is seen
// from another thread: under a watchdog, each call is counted in shared
// memory, odd while the call runs and even once it returned, and the
// watchdog stops the thread when one call stays in flight past the bound.
// The run is deterministic, so the watchdog can then start it again with the
// numbers of the calls that hung: each of those throws a HangError in place
// of the call, and the run goes on past it with the hang as a failure. So
// does, from then on, any call with the same trail (call-trail.ts).

import { didNotReturn } from '../model/impl/contract.ts';
import type { Op } from '../model/ops.ts';
import { CallTrail } from './call-trail.ts';

/** An op that did not return within the bound. */
export class HangError extends Error {
  constructor(readonly where: string, readonly bound: number) {
    super(`${where} did not return within ${bound} ms`);
    this.name = 'HangError';
  }
}

/** An op whose generator passed the bound on preemption points without
 * returning: it yields forever, which is not a throw of the module's. */
export class NoResult extends Error {
  constructor(readonly points: number) {
    super(`no result after ${points} preemption points`);
    this.name = 'NoResult';
  }
}

export interface CallWatch {
  /** One cell the watchdog polls: 2n - 1 while call n runs, 2n after it. */
  cell?: Int32Array;
  /** The numbers (from 1) of the calls known to hang, ascending. */
  hangs: readonly number[];
  bound: number;
}

/** A thread's count of its calls, while they are counted. */
export interface Live {
  cell: Int32Array | undefined;
  hangs: readonly number[];
  bound: number;
  calls: number;
  next: number;
  /** Calls failed as hangs, known by number or by trail. */
  failed: number;
  /** After a hang, the trail of each call, to know a repeat of it. */
  trail: CallTrail | undefined;
}

let live: Live | undefined;

/** Count this thread's calls from zero, and fail the ones known to hang;
 * undefined stops counting. */
export function watchCalls(w: CallWatch | undefined): void {
  live = w === undefined ? undefined : {
    cell: w.cell, hangs: w.hangs, bound: w.bound, calls: 0, next: 0, failed: 0, trail: w.hangs.length > 0 ? new CallTrail() : undefined,
  };
  if (w?.cell) Atomics.store(w.cell, 0, 0);
}

/** Whether this thread's calls are counted (a watchdog, or known hangs):
 * when not, `guarded(where, call)` is just `call()`. */
export function callsCounted(): boolean {
  return live !== undefined;
}

/** How many of this thread's counted calls failed as known hangs. */
export function callsFailedAsHangs(): number {
  return live?.failed ?? 0;
}

/** Whether a watchdog on another thread counts this thread's calls. */
export function underWatchdog(): boolean {
  return live?.cell !== undefined;
}

/** Run `f` counted with `hangs` failed, on this thread: a case run again
 * after a watchdog found where it hangs stops there instead of hanging. */
export function withKnownHangs<T>(hangs: readonly number[], bound: number, f: () => T): T {
  if (hangs.length === 0) return f();
  const outer = live;
  watchCalls({ hangs, bound });
  try {
    return f();
  } finally {
    live = outer;
  }
}

/** A call into the implementation: `where` is the op's kind, or `create`
 * or `view`, which are not ops and whose hang is a module that cannot be
 * checked rather than a finding; `thread` and `op` tell calls apart. */
export function guarded<T>(where: string, call: () => T, thread = 0, op?: Op): T {
  const w = enterCall(where, thread, op);
  if (w === undefined) return call();
  try {
    return call();
  } finally {
    leaveCall(w);
  }
}

/** The counted half of `guarded` before its call, for a loop that makes
 * a call per preemption point and cannot afford a closure for each: throws
 * where the call is known to hang, and otherwise returns what `leaveCall`
 * must be given once the call returns or throws (undefined: nothing). */
export function enterCall(where: string, thread: number, op: Op | undefined): Live | undefined {
  const w = live;
  if (w === undefined) return undefined;
  const n = ++w.calls;
  const trail = w.trail?.step(where, thread, op);
  // Bounds first: a read past an array's end is a slow path in V8.
  const due = w.next < w.hangs.length && n === w.hangs[w.next];
  if (due) w.next++;
  if (due || (trail !== undefined && w.trail!.hangs(trail))) {
    if (trail !== undefined) w.trail!.hang(trail);
    w.failed++;
    if (where === 'create' || where === 'view' || where === 'state') {
      throw didNotReturn(where, w.bound);
    }
    throw new HangError(where, w.bound);
  }
  if (w.cell === undefined) return undefined;
  // Plain stores, not Atomics: the watchdog polls every few milliseconds and
  // only has to see the count within its bound, and an ordered store on
  // every call costs more than many an op.
  w.cell[0] = 2 * n - 1;
  return w;
}

/** The call `enterCall` counted has returned or thrown. */
export function leaveCall(w: Live | undefined): void {
  // The count, not the call's number: it only grows, should the call have
  // called back in.
  if (w !== undefined) w.cell![0] = 2 * w.calls;
}
