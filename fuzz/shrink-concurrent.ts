// Shrinking a concurrent case to a 1-minimal one: fewer threads, fewer ops,
// fewer context switches, until removing any single op or any single context
// switch makes it pass. The schedule is data like the ops, so it shrinks the
// same way; after each accepted step it is replaced by the schedule the run
// actually took, with the tail the replay would take anyway trimmed off.

import type { Implementation } from '../model/impl/types.ts';
import type { Profile } from '../model/profile.ts';
import { replay, runConcurrent, type ConcurrentCase } from '../properties/concurrent.ts';
import { contextSwitches } from '../properties/findings.ts';

export type CaseTest = (c: ConcurrentCase) => boolean;

/** Positions where the schedule switches thread. */

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

/** Every case one op or one context switch smaller than `c`. */
export function oneSmaller(c: ConcurrentCase): ConcurrentCase[] {
  const out: ConcurrentCase[] = [];
  c.threads.forEach((th, t) => {
    if (c.threads.length > 1) out.push(dropThread(c, t));
    th.ops.forEach((_, i) => {
      if (th.ops.length === 1) return;
      const threads = c.threads.map((x, j) => (j === t ? { ...x, ops: x.ops.filter((_, k) => k !== i) } : x));
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

export function shrinkConcurrent(impl: Implementation, profile: Profile, start: ConcurrentCase, fails: CaseTest): ConcurrentCase {
  let cur = normalize(impl, profile, start);
  for (let changed = true; changed;) {
    changed = false;
    for (const cand of oneSmaller(cur)) {
      if (!fails(cand)) continue;
      const next = normalize(impl, profile, cand);
      // Accept only what the normalised form still shows, and only if smaller.
      if (!smaller(size(next), size(cur)) || !fails(next)) continue;
      cur = next;
      changed = true;
      break;
    }
  }
  return cur;
}

/** Whether every single op or context switch removed makes `c` pass. */
export function isOneMinimal(c: ConcurrentCase, fails: CaseTest): boolean {
  return oneSmaller(c).every((cand) => !fails(cand));
}
