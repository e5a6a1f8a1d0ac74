// Running one of savedsyn's functions where an implementation that never
// returns can be stopped: on a thread of its own, watched from this one.
// The thread counts its calls into the implementation in shared memory
// (properties/impl-calls.ts); this side polls the count now and then, so an
// op costs no message. When one call stays in flight past the bound, the
// thread is terminated and the function runs again on a fresh thread, told
// which calls hang: the computation is deterministic, so it reaches the same
// call, fails it as a hang, and goes on. Only "did this op return within the
// bound" depends on time; what the function computes from that does not.

import { InterfaceError } from '../../model/impl/contract.ts';
import { UserError } from '../../model/user-error.ts';
import type { CallMessage, ThreadFailure } from './messages.ts';
import { pollCalls } from './poll.ts';
import { discard, release, take, warm, type Thread } from './pool.ts';

export { DEFAULT_OP_TIMEOUT } from '../defaults.ts';

/** A call that meets more hangs than this gives up: searches stop after a
 * few of their cases hang, and a shrink pays for a few more, so only an
 * implementation that is not deterministic, and hangs somewhere new each
 * time, gets here. */
const MAX_HANGS = 256;
/** Large values a thread keeps between calls. */
const MAX_HELD = 4;

export interface WatchedCall<I, P> {
  /** A module of savedsyn's (its import.meta.url) and the export to call
   * there as `fn(input, shared, progress)`. */
  module: string;
  fn: string;
  input: I;
  /** A large value the thread keeps between calls (a campaign's guide),
   * known by its identity, and sent only to a thread that lacks it. */
  shared?: object;
  onProgress?: (p: P) => void;
}

export interface Watched<R> {
  result: R;
  /** The calls into the implementation (numbered from 1) that hung: the
   * same computation, run again with these failed, stops at them. */
  hangs: number[];
}

const ids = new WeakMap<object, number>();
let nextId = 0;

function rebuilt(f: ThreadFailure): Error {
  if (f.kind === 'interface') return new InterfaceError(f.message);
  if (f.kind === 'user') return new UserError(f.message);
  const e = new Error(f.message);
  if (f.stack !== undefined) e.stack = f.stack;
  return e;
}

/** Run `call` on a watched thread; an op in flight for `bound` ms is a hang. */
export async function watched<R, I = unknown, P = unknown>(bound: number, call: WatchedCall<I, P>): Promise<Watched<R>> {
  const hangs: number[] = [];
  for (;;) {
    const t = take();
    // After a hang, the next is likely: a spare boots while this runs.
    if (hangs.length > 0) warm(call.module);
    const outcome = await attempt(t, bound, call, hangs);
    if ('hang' in outcome) {
      discard(t);
      hangs.push(outcome.hang);
      hangs.sort((a, b) => a - b);
      if (hangs.length > MAX_HANGS) {
        throw new UserError(`the implementation did not return within ${bound} ms ${hangs.length} times, each time in a run that had not hung `
          + 'there before: a module that is not deterministic cannot be checked');
      }
      continue;
    }
    if ('exited' in outcome) throw outcome.exited;
    release(t);
    if ('failed' in outcome) throw rebuilt(outcome.failed);
    return { result: outcome.done as R, hangs };
  }
}

type Outcome = { done: unknown } | { hang: number } | { failed: ThreadFailure } | { exited: Error };

function attempt<I, P>(t: Thread, bound: number, call: WatchedCall<I, P>, hangs: number[]): Promise<Outcome> {
  const msg: CallMessage = { module: call.module, fn: call.fn, input: call.input, drop: [], hangs: [...hangs], bound };
  if (call.shared !== undefined) {
    let id = ids.get(call.shared);
    if (id === undefined) ids.set(call.shared, (id = nextId++));
    msg.sharedId = id;
    if (!t.held.includes(id)) {
      msg.shared = { id, value: call.shared };
      t.held.push(id);
      if (t.held.length > MAX_HELD) msg.drop = t.held.splice(0, t.held.length - MAX_HELD);
    }
  }
  Atomics.store(t.cell, 0, 0);
  return new Promise<Outcome>((resolve) => {
    const stopPolling = pollCalls(t.cell, bound, { hang: (n) => finish({ hang: n }), suspect: () => warm(call.module) });
    const finish = (o: Outcome): void => {
      stopPolling();
      t.on = undefined;
      resolve(o);
    };
    t.on = (r) => {
      if ('progress' in r) call.onProgress?.(r.progress as P);
      else finish(r);
    };
    t.worker.postMessage(msg);
  });
}
