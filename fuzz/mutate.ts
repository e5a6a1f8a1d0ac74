// Mutating corpus cases: a kept case is a foothold in a rare part of the
// state space, and small edits to it explore the neighbourhood that fresh
// generation reaches only by luck. Mutations are fast-check arbitraries, so
// a mutated case replays from fast-check's seed and shrinks like any other.

import fc from 'fast-check';
import type { Op } from '../model/ops.ts';
import type { Profile } from '../model/profile.ts';
import type { ConcurrentCase, ThreadSpec } from '../properties/concurrent.ts';
import { opArb } from './arbitraries.ts';
import { softirqOpArb, userOpArb, type GeneratedConcurrent } from './concurrent-cases.ts';
import { weightedIndexArb } from './guide.ts';
import type { SchedulerName } from '../properties/findings.ts';

type Edit =
  | { kind: 'insert'; at: number; op: Op }
  | { kind: 'replace'; at: number; op: Op }
  | { kind: 'delete'; at: number }
  | { kind: 'duplicate'; at: number }
  | { kind: 'swap'; at: number }
  | { kind: 'splice'; at: number; from: number; other: number };

function editArb(profile: Profile, entries: number): fc.Arbitrary<Edit> {
  const at = fc.nat();
  const op = opArb(profile);
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('insert' as const), at, op }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('replace' as const), at, op }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), at }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('swap' as const), at }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at, from: fc.nat(), other: fc.nat({ max: Math.max(0, entries - 1) }) }) },
  );
}

/** Apply one edit; positions wrap around the case, so every edit applies. */
export function applyEdit(ops: readonly Op[], e: Edit, others: readonly (readonly Op[])[]): Op[] {
  const out = [...ops];
  const n = out.length;
  const i = n === 0 ? 0 : e.at % n;
  switch (e.kind) {
    case 'insert': out.splice(e.at % (n + 1), 0, e.op); break;
    case 'replace': if (n > 0) out[i] = e.op; break;
    case 'delete': if (n > 1) out.splice(i, 1); break;
    case 'duplicate': if (n > 0) out.splice(i, 0, out[i]); break;
    case 'swap': if (n > 1) [out[i], out[(i + 1) % n]] = [out[(i + 1) % n], out[i]]; break;
    case 'splice': {
      // This case's head, another kept case's tail: two footholds joined.
      const other = others[e.other % Math.max(1, others.length)] ?? [];
      return [...out.slice(0, e.at % (n + 1)), ...other.slice(other.length === 0 ? 0 : e.from % other.length)];
    }
  }
  return out;
}

/** Single-thread cases: a corpus case picked by weight, one to four edits. */
export function mutatedOpsArb(profile: Profile, corpus: readonly (readonly Op[])[], weights: readonly number[], maxLength: number): fc.Arbitrary<Op[]> {
  return fc.record({
    pick: weightedIndexArb(weights),
    edits: fc.array(editArb(profile, corpus.length), { minLength: 1, maxLength: 4 }),
  }).map(({ pick, edits }) => {
    let ops: Op[] = [...corpus[pick]];
    for (const e of edits) ops = applyEdit(ops, e, corpus);
    return ops.length === 0 ? [...corpus[pick]] : ops.slice(0, maxLength);
  });
}

type ThreadEdit =
  | { kind: 'reschedule'; keep: number }
  | { kind: 'replace' | 'insert'; thread: number; at: number; user: Op; softirq: Op }
  | { kind: 'delete'; thread: number; at: number };

function threadEditArb(profile: Profile): fc.Arbitrary<ThreadEdit> {
  const common = { thread: fc.nat(), at: fc.nat() };
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('reschedule' as const), keep: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('replace' as const), ...common, user: userOpArb(profile), softirq: softirqOpArb() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), ...common, user: userOpArb(profile), softirq: softirqOpArb() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), ...common }) },
  );
}

function editThreads(c: ConcurrentCase, e: ThreadEdit): ConcurrentCase {
  if (e.kind === 'reschedule') {
    // Replay the kept interleaving up to a point, then let the scheduler
    // diverge: the neighbours of a rare interleaving, not a fresh one.
    return { ...c, schedule: c.schedule.slice(0, c.schedule.length === 0 ? 0 : e.keep % c.schedule.length) };
  }
  const t = e.thread % c.threads.length;
  const th = c.threads[t];
  const ops = [...th.ops];
  if (e.kind === 'delete') {
    if (ops.length > 1) ops.splice(e.at % ops.length, 1);
  } else {
    const op = th.kind === 'user' ? e.user : e.softirq;
    if (e.kind === 'replace') ops[e.at % ops.length] = op;
    else ops.splice(e.at % (ops.length + 1), 0, op);
  }
  const threads: ThreadSpec[] = c.threads.map((x, i) => (i === t ? { ...x, ops } : x));
  // A changed thread invalidates the recorded interleaving.
  return { ...c, threads, schedule: [] };
}

/** Concurrent cases: a corpus case picked by weight, its schedule cut
 * short or its threads edited, then run under a scheduler from there. */
export function mutatedConcurrentArb(
  profile: Profile, corpus: readonly ConcurrentCase[], weights: readonly number[], schedulers: readonly SchedulerName[],
): fc.Arbitrary<GeneratedConcurrent> {
  return fc.record({
    pick: weightedIndexArb(weights),
    edits: fc.array(threadEditArb(profile), { minLength: 1, maxLength: 2 }),
    scheduler: fc.constantFrom(...schedulers),
    seed: fc.noShrink(fc.integer()),
  }).map(({ pick, edits, scheduler, seed }) => {
    let c: ConcurrentCase = corpus[pick];
    for (const e of edits) c = editThreads(c, e);
    return { case: c, scheduler, seed };
  });
}
