// Shrinking a concurrent case to a 1-minimal one: fewer threads, fewer ops,
// fewer context switches, until removing any single op (keeping the
// schedule, or with the slots that op took) or any single context switch
// makes it pass; then the values, as for a single-thread case. The schedule
// is data like the ops, so it shrinks the same way; after each accepted step
// it is replaced by the schedule the run actually took, with the tail the
// replay would take anyway trimmed off.

import type { Implementation } from '../model/impl/types.ts';
import type { Profile } from '../model/profile.ts';
import { replay, runConcurrent, type ConcurrentCase } from '../properties/concurrent.ts';
import { contextSwitches } from '../properties/findings.ts';
import type { Op } from '../model/ops.ts';
import { valueSteps } from './simplify-values.ts';

export type CaseTest = (c: ConcurrentCase) => boolean;

/** The schedule the case's run takes, without the tail replay would choose anyway. */
export function normalize(impl: Implementation, profile: Profile, c: ConcurrentCase): ConcurrentCase {
  const defaults: boolean[] = [];
  const follow = replay(c.schedule);
  const r = runConcurrent(impl, profile, c, (step, runnable, current, pending) => {
    const t = follow(step, runnable, current, pending);
    defaults[step] = t === (runnable.includes(current) ? current : runnable[0]);
    return t;
  });
  let end = r.schedule.length;
  while (end > 0 && defaults[end - 1]) end--;
  return { ...c, schedule: r.schedule.slice(0, end) };
}

export function dropThread(c: ConcurrentCase, t: number): ConcurrentCase {
  return {
    setup: c.setup,
    threads: c.threads.filter((_, i) => i !== t),
    schedule: c.schedule.filter((x) => x !== t).map((x) => (x > t ? x - 1 : x)),
  };
}

export interface SlotOwner {
  thread: number;
  /** Index of the op, in its thread, that the step advanced. */
  op: number;
}

/** Which op each step of the case's schedule advanced. Ops run for a number
 * of steps only the implementation knows, so only a replay can tell. */
export function slotOwners(impl: Implementation, profile: Profile, c: ConcurrentCase): SlotOwner[] {
  // Copies, so that each op is told apart by identity even where a case
  // holds one object twice.
  const threads = c.threads.map((th) => ({ ...th, ops: th.ops.map((op) => ({ ...op })) }));
  const index = new Map<Op, number>();
  for (const th of threads) th.ops.forEach((op, i) => index.set(op, i));
  const owners: SlotOwner[] = [];
  const follow = replay(c.schedule);
  runConcurrent(impl, profile, { ...c, threads }, (step, runnable, current, pending) => {
    const t = follow(step, runnable, current, pending);
    owners[step] = { thread: t, op: index.get(pending[t]!)! };
    return t;
  });
  return owners;
}

/** Every case one op or one context switch smaller than `c`. With the
 * owners of its slots, an op is also removed together with its slots: kept,
 * they would advance the thread's next op instead, another interleaving. */
export function oneSmaller(c: ConcurrentCase, owners?: readonly SlotOwner[]): ConcurrentCase[] {
  const out: ConcurrentCase[] = [];
  c.threads.forEach((th, t) => {
    if (c.threads.length > 1) out.push(dropThread(c, t));
    th.ops.forEach((_, i) => {
      if (th.ops.length === 1) return;
      const threads = c.threads.map((x, j) => (j === t ? { ...x, ops: x.ops.filter((_, k) => k !== i) } : x));
      if (owners !== undefined) {
        const schedule = c.schedule.filter((_, k) => owners[k] === undefined || owners[k].thread !== t || owners[k].op !== i);
        if (schedule.length < c.schedule.length) out.push({ ...c, threads, schedule });
      }
      out.push({ ...c, threads });
    });
  });
  c.setup.forEach((_, i) => out.push({ ...c, setup: c.setup.filter((_, k) => k !== i) }));
  for (const i of contextSwitches(c.schedule)) {
    out.push({ ...c, schedule: c.schedule.map((x, k) => (k === i ? c.schedule[i - 1] : x)) });
    out.push({ ...c, schedule: c.schedule.filter((_, k) => k !== i) });
  }
  return out;
}

/** Ops, threads, context switches, schedule length: each accepted shrink
 * makes this smaller, so shrinking ends. */
function size(c: ConcurrentCase): number[] {
  const ops = c.setup.length + c.threads.reduce((n, t) => n + t.ops.length, 0);
  return [ops, c.threads.length, contextSwitches(c.schedule).length, c.schedule.length];
}

function smaller(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

/** The case's ops as one list, and back: a descriptor or a peer is
 * renamed in the setup and every thread alike. */
function flatOps(c: ConcurrentCase): Op[] {
  return [...c.setup, ...c.threads.flatMap((t) => t.ops)];
}

function withOps(c: ConcurrentCase, ops: readonly Op[]): ConcurrentCase {
  let at = c.setup.length;
  const threads = c.threads.map((t) => ({ ...t, ops: ops.slice(at, (at += t.ops.length)) }));
  return { ...c, setup: ops.slice(0, c.setup.length), threads };
}

/** Every case one value step simpler than `c`, on the same schedule. */
export function concurrentValueSteps(c: ConcurrentCase): ConcurrentCase[] {
  return valueSteps(flatOps(c)).map((ops) => withOps(c, ops));
}

export function shrinkConcurrent(impl: Implementation, profile: Profile, start: ConcurrentCase, fails: CaseTest): ConcurrentCase {
  let cur = normalize(impl, profile, start);
  // Accept only what the normalised form still shows: a schedule replays
  // the failure, not merely the candidate that led to it.
  const accept = (cand: ConcurrentCase, strictly: boolean): boolean => {
    if (!fails(cand)) return false;
    const next = normalize(impl, profile, cand);
    const [a, b] = [size(next), size(cur)];
    if ((strictly ? !smaller(a, b) : smaller(b, a)) || !fails(next)) return false;
    cur = next;
    return true;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const cand of oneSmaller(cur, slotOwners(impl, profile, cur))) {
      if (accept(cand, true)) {
        changed = true;
        break;
      }
    }
    if (changed) continue;
    // A simpler value may take another number of steps: the schedule it
    // runs on must still replay the failure, and may not grow the case.
    for (const cand of concurrentValueSteps(cur)) {
      if (accept(cand, false)) {
        changed = true;
        break;
      }
    }
  }
  return cur;
}

/** Whether every single op (with or without its slots) or context switch
 * removed makes `c` pass. */
export function isOneMinimal(impl: Implementation, profile: Profile, c: ConcurrentCase, fails: CaseTest): boolean {
  return oneSmaller(c, slotOwners(impl, profile, c)).every((cand) => !fails(cand));
}

/** Whether no single value step towards simpler keeps `c` failing. */
export function isConcurrentValueMinimal(c: ConcurrentCase, fails: CaseTest): boolean {
  return concurrentValueSteps(c).every((cand) => !fails(cand));
}
