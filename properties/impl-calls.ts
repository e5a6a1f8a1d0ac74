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

export interface CallWatch {
  /** One cell the watchdog polls: 2n - 1 while call n runs, 2n after it. */
  cell?: Int32Array;
  /** The numbers (from 1) of the calls known to hang, ascending. */
  hangs: readonly number[];
  bound: number;
}

interface Live {
  cell: Int32Array | undefined;
  hangs: readonly number[];
  bound: number;
  calls: number;
  next: number;
  /** After a hang, the trail of each call, to know a repeat of it. */
  trail: CallTrail | undefined;
}

let live: Live | undefined;

/** Count this thread's calls from zero, and fail the ones known to hang;
 * undefined stops counting. */
export function watchCalls(w: CallWatch | undefined): void {
  live = w === undefined ? undefined : {
    cell: w.cell, hangs: w.hangs, bound: w.bound, calls: 0, next: 0, trail: w.hangs.length > 0 ? new CallTrail() : undefined,
  };
  if (w?.cell) Atomics.store(w.cell, 0, 0);
}

/** Whether this thread's calls are counted (a watchdog, or known hangs):
 * when not, `guarded(where, call)` is just `call()`. */
export function callsCounted(): boolean {
  return live !== undefined;
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
  const w = live;
  if (w === undefined) return call();
  const n = ++w.calls;
  const trail = w.trail?.step(where, thread, op);
  const due = n === w.hangs[w.next];
  if (due) w.next++;
  if (due || (trail !== undefined && w.trail!.hangs(trail))) {
    if (trail !== undefined) w.trail!.hang(trail);
    if (where === 'create' || where === 'view') {
      throw didNotReturn(where, w.bound);
    }
    throw new HangError(where, w.bound);
  }
  if (w.cell === undefined) return call();
  // Plain stores, not Atomics: the watchdog polls every few milliseconds and
  // only has to see the count within its bound, and an ordered store on
  // every call costs more than many an op.
  w.cell[0] = 2 * n - 1;
  try {
    return call();
  } finally {
    // The count, not n: it only grows, should the call have called back in.
    w.cell[0] = 2 * w.calls;
  }
}
