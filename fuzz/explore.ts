// Bounded exhaustive exploration: every interleaving of a case's threads with
// at most `preemptions` preemptions (switching away from a thread that could
// have gone on), depth first, re-running the case from the start for each
// schedule. With `reduction`, sleep sets (Godefroid) skip schedules that only
// reorder independent steps: two steps are independent when the ops they
// belong to touch disjoint state (footprint below), so either order reaches
// the same world.

import type { Implementation } from '../model/impl/types.ts';
import type { Op } from '../model/ops.ts';
import type { Profile } from '../model/profile.ts';
import { runConcurrent, runThreads, type ConcurrentCase, type Chooser, type ConcurrentResult, type Judgements } from '../properties/concurrent.ts';
import type { Session } from '../properties/lockstep.ts';

export interface ExploreOptions {
  preemptions: number;
  reduction: boolean;
  /** Stop after this many schedules (the space is then not exhausted). */
  maxSchedules?: number;
  /** Stop at the first failing schedule. */
  stopAtFailure?: boolean;
  /** Which pending ops commute, for the reduction (default: independent below). */
  independent?: (a: Op | undefined, b: Op | undefined) => boolean;
  /** Which failures count (default: all): the first that counts is kept. */
  accept?: (r: ConcurrentResult) => boolean;
  /** A session in the state the case's setup leaves, made afresh for each
   * schedule: then the setup is not run again per schedule. */
  start?: () => Session;
  /** A thread that runs only when no other can: it observes what the
   * others left, and adds no interleavings of its own. */
  last?: number;
}

export interface ExploreResult {
  schedules: number;
  /** Decision points visited: distinct schedule prefixes. */
  states: number;
  /** Schedules cut short because every runnable thread was asleep. */
  pruned: number;
  exhausted: boolean;
  failure: ConcurrentResult | undefined;
}

interface Node {
  runnable: number[];
  pending: (Op | undefined)[];
  current: number;
  chosen: number;
  done: number[];
  sleep: number[];
  preemptionsBefore: number;
}

class Pruned extends Error {}

/** What an op may touch. Ops on distinct descriptors' own socket options
 * touch disjoint state; everything else is taken to touch everything. */
export function footprint(op: Op | undefined): string {
  if (op === undefined) return '';
  if (op.kind === 'getsockopt' || op.kind === 'setsockopt') return `fd${op.fd}`;
  return '*';
}

export function independent(a: Op | undefined, b: Op | undefined): boolean {
  const fa = footprint(a);
  const fb = footprint(b);
  return fa !== '*' && fb !== '*' && fa !== fb;
}

export function explore(impl: Implementation, profile: Profile, c: ConcurrentCase, opts: ExploreOptions): ExploreResult {
  const stack: Node[] = [];
  let schedules = 0;
  let states = 0;
  let pruned = 0;
  let failure: ConcurrentResult | undefined;
  const max = opts.maxSchedules ?? Infinity;
  // Every schedule runs the same case: a history judged once is judged.
  const judged: Judgements = new Map();

  const order = (n: { runnable: number[]; current: number }): number[] =>
    n.runnable.includes(n.current) ? [n.current, ...n.runnable.filter((t) => t !== n.current)] : n.runnable;
  const cost = (n: Node, t: number): number => n.preemptionsBefore + (n.runnable.includes(n.current) && t !== n.current ? 1 : 0);
  const waits = (n: Node, t: number): boolean => t === opts.last && n.runnable.length > 1;
  const firstChoice = (n: Node): number | undefined =>
    order(n).find((t) => !n.sleep.includes(t) && !n.done.includes(t) && !waits(n, t) && cost(n, t) <= opts.preemptions);

  for (;;) {
    if (schedules >= max) return { schedules, states, pruned, exhausted: false, failure };
    let result: ConcurrentResult | undefined;
    try {
      const chooser: Chooser = (step, runnable, current, pending) => {
        if (step < stack.length) {
          const n = stack[step];
          if (runnable.includes(n.chosen)) return n.chosen;
          // The chosen thread turned out blocked: the run takes another path.
          n.done.push(n.chosen);
          stack.length = step + 1;
          const alt = firstChoice({ ...n, runnable: [...runnable] });
          if (alt === undefined) throw new Pruned();
          n.runnable = [...runnable];
          n.chosen = alt;
          return alt;
        }
        const parent = stack[step - 1];
        let sleep: number[] = [];
        if (opts.reduction && parent) {
          const commute = opts.independent ?? independent;
          sleep = [...parent.sleep, ...parent.done].filter((u) => commute(parent.pending[u], parent.pending[parent.chosen]));
        }
        const before = parent ? cost(parent, parent.chosen) : 0;
        const n: Node = { runnable: [...runnable], pending: [...pending], current, chosen: -1, done: [], sleep, preemptionsBefore: before };
        const t = firstChoice(n);
        if (t === undefined) throw new Pruned();
        n.chosen = t;
        stack.push(n);
        states++;
        return t;
      };
      result = opts.start === undefined ? runConcurrent(impl, profile, c, chooser, {}, judged) : runThreads(opts.start(), c, chooser, {}, judged);
      schedules++;
    } catch (e) {
      if (!(e instanceof Pruned)) throw e;
      pruned++;
    }
    if (result?.failure && !failure && (opts.accept?.(result) ?? true)) {
      failure = result;
      if (opts.stopAtFailure) return { schedules, states, pruned, exhausted: false, failure };
    }
    // Backtrack to the deepest decision with an alternative left.
    for (;;) {
      const n = stack[stack.length - 1];
      if (n === undefined) return { schedules, states, pruned, exhausted: true, failure };
      n.done.push(n.chosen);
      const alt = firstChoice(n);
      if (alt !== undefined) {
        n.chosen = alt;
        states++;
        break;
      }
      stack.pop();
    }
  }
}
