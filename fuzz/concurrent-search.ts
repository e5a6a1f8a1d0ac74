// Searching concurrent cases: fast-check generates the case and a scheduler
// seed, the scheduler picks the interleaving, and a failure is shrunk to a
// 1-minimal case, then re-run from its data to prove it reproduces.

import { notReproducible } from '../model/impl/determinism.ts';
import fc from 'fast-check';
import type { Implementation } from '../model/impl/types.ts';
import type { Profile } from '../model/profile.ts';
import { replay, runConcurrent, type Chooser, type ConcurrentCase, type ConcurrentResult } from '../properties/concurrent.ts';
import { runLockstep } from '../properties/lockstep.ts';
import type { HistoryOp } from '../properties/linearizable.ts';
import { createSpec } from '../model/spec/index.ts';
import { makesDescriptor, type Op } from '../model/ops.ts';
import { concurrentArb } from './concurrent-cases.ts';
import { runRound } from './round.ts';
import type { CoverageTally } from './guide.ts';
import { mutatedConcurrentArb } from './mutate.ts';
import { chooserFor } from './schedulers.ts';
import { shrinkConcurrent } from './shrink-concurrent.ts';
import type { ConcurrentFinding, SchedulerName } from '../properties/findings.ts';

export interface ConcurrentSearchOptions {
  seed: number;
  runs: number;
  schedulers: readonly SchedulerName[];
  /** PCT's bug depth. */
  depth?: number;
  only?: string;
  /** Only failures named by this oracle count (a targeted search). */
  oracle?: string;
  /** Signatures already reported (by the single-thread search): a race
   * that ends in one of them is that finding again, not a new one. */
  known?: readonly string[];
  maxFindings?: number;
  /** Told what each generated case covered (shrink attempts are not cases). */
  tally?: CoverageTally;
  /** Corpus cases to mutate for half of the generated cases. */
  guide?: { corpus: readonly ConcurrentCase[]; weights: readonly number[] };
  onProgress?: (done: number, total: number, findings: number) => void;
  /** false: each race is its case as generated, with the schedule it took,
   * not shrunk, and not held to every one-at-a-time order (only to the few
   * hundred each generated case is). For counting the cases a search needs
   * to fail (the mutant suite); never for reports. */
  shrink?: boolean;
}

/** A failure that needs no race: some order of the threads' whole ops,
 * run one at a time in plain lockstep, fails too; or the order that explains
 * the threads' results does. The single-thread search owns those. Every
 * merge of the threads' ops is tried when there are at most `maxOrders`,
 * else only whole threads one after another: the search filters with a small
 * budget, and a finding is confirmed with EVERY_ORDER before it is reported. */
export function sequentialFailure(impl: Implementation, profile: Profile, c: ConcurrentCase, r: ConcurrentResult, maxOrders = MAX_ORDERS): string | undefined {
  // The setup runs one op at a time: a failure there is every order's, and
  // is not run again (a hang would cost the watchdog's bound once more).
  const first = r.violations[0];
  const at = first === undefined ? undefined : r.steps[first.step];
  if (at !== undefined && at.thread === 0 && !at.teardown) return first.signature;
  for (const order of opOrders(c.threads.map((t) => t.ops.length), maxOrders)) {
    const cursor = c.threads.map(() => 0);
    const ops = [...c.setup, ...order.map((t) => c.threads[t].ops[cursor[t]++])];
    const sig = runLockstep(impl, profile, ops).failure?.signature;
    if (sig !== undefined) return sig;
  }
  if (r.order === undefined) return undefined;
  return runLockstep(impl, profile, renumbered(profile, c.setup, r.order)).failure?.signature;
}

/** The explaining order as a sequence, with descriptors renamed where the
 * run handed out other numbers than a one-at-a-time run would (an accept
 * reserves its descriptor when it starts). */
function renumbered(profile: Profile, setup: readonly Op[], order: readonly HistoryOp[]): Op[] {
  const spec = createSpec(profile);
  for (const op of setup) spec.apply(op);
  const rename = new Map<number, number>();
  const out: Op[] = [...setup];
  for (const h of order) {
    const op: Op = 'fd' in h.op && rename.has(h.op.fd) ? { ...h.op, fd: rename.get(h.op.fd)! } : h.op;
    const got = spec.apply(op);
    if (makesDescriptor(op) && h.outcome.ret >= 0 && got.ret >= 0 && got.ret !== h.outcome.ret) rename.set(h.outcome.ret, got.ret);
    out.push(op);
  }
  return out;
}

const MAX_ORDERS = 500;
/** Enough for every merge of the largest generated case (3+3+2+2 ops). */
export const EVERY_ORDER = 50_000;

/** The number of merges of sequences of these lengths: a multinomial. */
function merges(lengths: readonly number[]): number {
  let n = 1;
  let total = 0;
  for (const k of lengths) {
    for (let i = 1; i <= k; i++) n = (n * ++total) / i;
  }
  return Math.round(n);
}

/** Every merge of the threads' op sequences (as thread indices), or, when
 * there are more than `maxOrders`, every order of whole threads. */
export function* opOrders(lengths: number[], maxOrders = MAX_ORDERS): Generator<number[]> {
  if (merges(lengths) > maxOrders) {
    for (const p of permutations(lengths.length)) yield p.flatMap((t) => Array<number>(lengths[t]).fill(t));
    return;
  }
  const left = [...lengths];
  const acc: number[] = [];
  function* walk(): Generator<number[]> {
    if (left.every((n) => n === 0)) {
      yield [...acc];
      return;
    }
    for (let t = 0; t < left.length; t++) {
      if (left[t] === 0) continue;
      left[t]--;
      acc.push(t);
      yield* walk();
      acc.pop();
      left[t]++;
    }
  }
  yield* walk();
}

function permutations(n: number): number[][] {
  if (n <= 1) return [Array.from({ length: n }, (_, i) => i)];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, i) => [...p.slice(0, i), n - 1, ...p.slice(i)]));
}

/** Run a case under a scheduler. The case's own schedule, if any, is
 * followed first: a mutated corpus case replays the interleaving it kept up
 * to a point and lets the scheduler diverge from there. */
export function runWith(impl: Implementation, profile: Profile, c: ConcurrentCase, scheduler: SchedulerName, seed: number, depth = 3, coverage?: Set<string>): ConcurrentResult {
  const steps = 12 * c.threads.reduce((n, t) => n + t.ops.length, 0);
  const chooser = chooserFor(scheduler, seed, c.threads.length, { depth, expectedSteps: steps });
  const prefix = c.schedule;
  const chosen: Chooser = prefix.length === 0 ? chooser : (step, runnable, current, pending) =>
    (step < prefix.length && runnable.includes(prefix[step]) ? prefix[step] : chooser(step, runnable, current, pending));
  return runConcurrent(impl, profile, c, chosen, { coverage });
}

/** Re-run a case from its data twice, through JSON, and compare everything
 * observable. A difference is a defect of the harness, never of the case. */
export function checkDeterminism(impl: Implementation, profile: Profile, c: ConcurrentCase): string | undefined {
  const again = JSON.parse(JSON.stringify(c)) as ConcurrentCase;
  const a = runConcurrent(impl, profile, c, replay(c.schedule));
  const b = runConcurrent(impl, profile, again, replay(again.schedule));
  const fingerprint = (r: ConcurrentResult): string => JSON.stringify({
    schedule: r.schedule, trace: r.trace, failure: r.failure?.signature,
    outcomes: r.steps.map((s) => [s.actual?.ret, s.actual?.errno, s.actual?.optlen, s.actual?.bytes ? Array.from(s.actual.bytes) : null]),
  });
  const fa = fingerprint(a);
  const fb = fingerprint(b);
  return fa === fb ? undefined : `two runs of the same case differ:\n${fa}\n${fb}`;
}

export function searchConcurrent(impl: Implementation, profile: Profile, opts: ConcurrentSearchOptions): { findings: ConcurrentFinding[]; runs: number } {
  const known = new Set<string>(opts.known);
  const findings: ConcurrentFinding[] = [];
  const fresh = concurrentArb(profile, opts.schedulers);
  const guide = opts.guide;
  const arb = guide === undefined || guide.corpus.length === 0
    ? fresh
    : fc.oneof(fresh, mutatedConcurrentArb(profile, guide.corpus, guide.weights, opts.schedulers));
  const tally = opts.tally;
  let used = 0;
  const budget = { hangingCases: 0 };
  for (let round = 0; used < opts.runs && findings.length < (opts.maxFindings ?? Infinity); round++) {
    const seed = (opts.seed + round * 0x9e3779b1) | 0;
    const counts = (sig: string | undefined, oracle?: string): boolean =>
      sig !== undefined && (opts.oracle === undefined || oracle === opts.oracle) && (opts.only !== undefined ? sig === opts.only : !known.has(sig));
    const { out, stopped } = runRound(arb, { seed, numRuns: opts.runs - used, budget, endOnFailure: opts.shrink === false, progress: (n) => opts.onProgress?.(used + n, opts.runs, findings.length) }, (g, generating) => {
      const keys = tally && generating ? new Set<string>() : undefined;
      const r = runWith(impl, profile, g.case, g.scheduler, g.seed, opts.depth, keys);
      if (keys) {
        tally!.record(keys, r.steps.length, () => ({ profile: profile.name, impl: tally!.impl, kind: 'concurrent', case: { ...g.case, schedule: r.schedule } }));
      }
      const pass = !counts(r.failure?.signature, r.failure?.oracle) || sequentialFailure(impl, profile, g.case, r) !== undefined;
      return { pass, hung: r.failure?.oracle === 'hang' };
    });
    used += out.numRuns - (stopped ? 1 : 0);
    opts.onProgress?.(used, opts.runs, findings.length);
    if (stopped || !out.failed || out.counterexample === null) break;
    const g = out.counterexample[0];
    const first = runWith(impl, profile, g.case, g.scheduler, g.seed, opts.depth);
    const signature = first.failure?.signature;
    if (signature === undefined) throw notReproducible(impl, `a failing case (seed ${seed}, path ${out.counterexamplePath}) passed when run again`);
    const taken: ConcurrentCase = { ...g.case, schedule: first.schedule };
    const fails = (c: ConcurrentCase): boolean => {
      const r = runConcurrent(impl, profile, c);
      return r.failure?.signature === signature && sequentialFailure(impl, profile, c, r) === undefined;
    };
    if (!fails(taken)) throw notReproducible(impl, `the schedule ${g.scheduler} took does not fail with ${signature} when run again`);
    known.add(signature);
    if (opts.shrink === false) {
      const result = runConcurrent(impl, profile, taken, replay(taken.schedule));
      findings.push({
        signature, oracle: result.failure!.oracle, message: result.failure!.message,
        case: taken, result, scheduler: g.scheduler, runsToFind: used, seed, path: out.counterexamplePath ?? '',
      });
      continue;
    }
    const shrunk = shrinkConcurrent(impl, profile, taken, fails);
    // The filter above tries a few hundred one-at-a-time orders, and the
    // shrinker may keep an op only because it pushes a case past them.
    // Every order, once, before a race is reported.
    const result = runConcurrent(impl, profile, shrunk, replay(shrunk.schedule), { recordSites: true });
    if (sequentialFailure(impl, profile, shrunk, result, EVERY_ORDER) !== undefined) continue;
    const nondeterminism = checkDeterminism(impl, profile, shrunk);
    findings.push({
      signature: nondeterminism ? 'harness:nondeterministic' : signature,
      oracle: nondeterminism ? 'harness' : result.failure!.oracle,
      message: nondeterminism ?? result.failure!.message,
      case: shrunk, result, scheduler: g.scheduler, runsToFind: used, seed, path: out.counterexamplePath ?? '',
    });
    if (opts.only !== undefined) break;
  }
  return { findings, runs: used };
}

