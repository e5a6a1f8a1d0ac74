// Running a case as several threads: user threads issue system calls,
// softirq CPUs process network events. A step runs one thread up to its next
// preemption point; a chooser picks the thread for each step, and the thread
// actually picked at each step is recorded as the schedule, which replays
// the run exactly. Setup before the threads and teardown after them run one
// op at a time in lockstep with the spec; the threads' history must be
// linearizable against it.

import { formatOutcome, sameOutcome } from '../model/format.ts';
import { isBlocked, type FdView, type Implementation, type OpRun } from '../model/impl/types.ts';
import { isSyscall, type Op, type Outcome } from '../model/ops.ts';
import type { Profile } from '../model/profile.ts';
import type { SpecWorld } from '../model/spec/world.ts';
import { explanations, lastWithFd, linearize, type Explanation, type HistoryOp, type LinearizationResult } from './linearizable.ts';
import { InterfaceError } from '../model/impl/contract.ts';
import { isA } from '../model/impl/thrown.ts';
import { crash, isRun, MAX_YIELDS_PER_OP, Session, type RunOptions, type RunResult, type StepRecord } from './lockstep.ts';
import { NoResult } from './impl-calls.ts';

export type ThreadKind = 'user' | 'softirq';

export interface ThreadSpec {
  kind: ThreadKind;
  ops: Op[];
}

/** A whole concurrent case, as plain data. */
export interface ConcurrentCase {
  setup: Op[];
  threads: ThreadSpec[];
  /** The thread (index into `threads`) that takes each step. */
  schedule: number[];
}

/** Picks the thread for step `step` among the runnable ones; `pending[t]`
 * is the op thread t is running or about to start. */
export type Chooser = (step: number, runnable: readonly number[], current: number, pending: readonly (Op | undefined)[]) => number;

export interface TraceEntry {
  thread: number;
  site: string;
}

/** Where a step left the thread that took it. */
export type StepEnd =
  | { kind: 'paused'; site: string }
  | { kind: 'returned' }
  | { kind: 'blocked'; lock: string }
  | { kind: 'threw' };

/** One step of the schedule: the thread, the op it ran (the index of its
 * StepRecord) and where the step left it. Reports tell the interleaving
 * from these, so an op's last stretch, from its last preemption point to
 * its return, is as visible as the others. */
export interface StepTaken {
  thread: number;
  step: number;
  end: StepEnd;
}

export interface ConcurrentResult extends RunResult {
  /** The effective schedule: the thread that took each step. */
  schedule: number[];
  trace: TraceEntry[];
  /** One entry per entry of `schedule`. */
  taken: StepTaken[];
  history: HistoryOp[];
  /** An order of the threads' ops that explains their results, when one does. */
  order?: HistoryOp[];
}

/** Follow `schedule`; where it is silent or names a thread that cannot run,
 * keep running the current thread, else the lowest runnable one. */
export function replay(schedule: readonly number[]): Chooser {
  return (step, runnable, current) => {
    const want = schedule[step];
    if (want !== undefined && runnable.includes(want)) return want;
    return runnable.includes(current) ? current : runnable[0];
  };
}

/** Which ops a thread of each kind may run. */
export function allowedOn(kind: ThreadKind, op: Op): boolean {
  if (op.kind === 'sysctl') return kind === 'user';
  return kind === 'user' ? isSyscall(op) : !isSyscall(op);
}

export function validateCase(c: ConcurrentCase): string | undefined {
  for (const [t, th] of c.threads.entries()) {
    for (const op of th.ops) if (!allowedOn(th.kind, op)) return `thread ${t} (${th.kind}) cannot run ${op.kind}`;
  }
  for (const t of c.schedule) if (!Number.isInteger(t) || t < 0 || t >= c.threads.length) return `schedule names thread ${t}, which does not exist`;
  return undefined;
}

interface Running {
  spec: ThreadSpec;
  pc: number;
  run: OpRun | undefined;
  invoke: number;
  yields: number;
  blocked: boolean;
  record: StepRecord | undefined;
}

export function runConcurrent(
  impl: Implementation, profile: Profile, c: ConcurrentCase, chooser: Chooser = replay(c.schedule), opts: RunOptions = {}, judged?: Judgements,
): ConcurrentResult {
  const invalid = validateCase(c);
  if (invalid) throw new Error(`invalid case: ${invalid}`);
  const allOps = [...c.setup, ...c.threads.flatMap((t) => t.ops)];
  const session = new Session(impl, profile, allOps, opts);
  session.judgesMemory = false;
  for (const op of c.setup) {
    session.sequential(op, false);
    if (session.stopped) return { ...session.result(), schedule: [], trace: [], taken: [], history: [] };
  }
  return runThreads(session, c, chooser, opts, judged);
}

/** Already judged histories of one case, by what the judgement reads of
 * them: the same results in the same real-time order have the same
 * verdict. Valid for one case only (one setup, one set of threads). */
export type Judgements = Map<string, LinearizationResult>;

/** The threads of `c` on a session already in the state its setup leaves
 * (fuzz/verify/fork.ts makes one without running the setup), then
 * teardown. Only the steps after the setup are in the result's steps. */
export function runThreads(
  session: Session, c: ConcurrentCase, chooser: Chooser = replay(c.schedule), opts: RunOptions = {}, judged?: Judgements,
): ConcurrentResult {
  // Which order explains the threads decides the spec's connections: the
  // memory oracle is the single-thread search's; leaks are still judged.
  session.judgesMemory = false;
  const schedule: number[] = [];
  const trace: TraceEntry[] = [];
  const taken: StepTaken[] = [];
  const history: HistoryOp[] = [];
  // Field by field: spreading the session's result into a larger object
  // took a tenth of a verify pair's time.
  const done = (order?: HistoryOp[]): ConcurrentResult => {
    const r = session.result();
    return { failure: r.failure, violations: r.violations, steps: r.steps, ledger: r.ledger, schedule, trace, taken, history, order };
  };
  const afterSetup = session.spec.clone();
  const threads: Running[] = c.threads.map((spec) => ({ spec, pc: 0, run: undefined, invoke: 0, yields: 0, blocked: false, record: undefined }));
  let current = -1;

  for (let clock = 0; ;) {
    const live: number[] = [];
    const runnable: number[] = [];
    threads.forEach((th, t) => {
      if (th.pc >= th.spec.ops.length) return;
      live.push(t);
      if (!th.blocked) runnable.push(t);
    });
    if (live.length === 0) break;
    if (runnable.length === 0) {
      // Threads are named as the report's lanes are (T1, T2, …), and the
      // run fails on the step the first of them is stuck in. The signature
      // names the ops stuck, in order of name: the same deadlock with its
      // threads the other way round is the same defect.
      const stuck = live.map((t) => threads[t].spec.ops[threads[t].pc].kind);
      session.fatal({
        oracle: 'deadlock', signature: `deadlock:${[...stuck].sort().join('+')}`,
        message: `threads ${live.map((t) => `T${t + 1}`).join(', ')} each wait for a lock, and none can go on (${live.map((t, i) => `T${t + 1} in ${stuck[i]}`).join(', ')})`,
        step: threads[live[0]].record?.index ?? session.steps.length,
      });
      return done();
    }
    const t = chooser(clock, runnable, current, threads.map((x) => x.spec.ops[x.pc]));
    const th = threads[t];
    const op = th.spec.ops[th.pc];
    let outcome: Outcome | undefined;
    try {
      if (th.run === undefined) {
        th.invoke = clock;
        th.yields = 0;
        th.record = { index: session.steps.length, op, thread: t + 1, teardown: false, expected: undefined, actual: undefined, sites: [] };
        session.steps.push(th.record);
      }
      // Set before the step runs: a buffer freed in it is this op's doing,
      // not that of the op the previous step ran.
      session.ledger.step = th.record!.index;
      if (th.run === undefined) {
        const started = session.start(op, t + 1);
        if (isRun(started)) th.run = started;
        else outcome = started;
      }
      if (outcome === undefined) {
        const r = session.next(op, th.run!, t + 1);
        if (r.done) {
          outcome = r.value;
        } else if (isBlocked(r.value)) {
          // The attempt is a step of its own: what the thread did before
          // finding the lock taken (a file reference, a reserved descriptor)
          // is part of the run, so the schedule must replay it too.
          th.blocked = true;
          schedule.push(t);
          taken.push({ thread: t, step: th.record!.index, end: { kind: 'blocked', lock: r.value.blocked } });
          current = t;
          clock++;
          continue;
        } else {
          trace.push({ thread: t, site: r.value });
          taken.push({ thread: t, step: th.record!.index, end: { kind: 'paused', site: r.value } });
          if (opts.recordSites) th.record!.sites.push(r.value);
          if (opts.coverage) {
            opts.coverage.add(`s:${r.value}`);
            // Interleaving coverage: which preemption point another CPU
            // came between, and where that CPU then stopped.
            const before = trace[trace.length - 2];
            if (before !== undefined && before.thread !== t) opts.coverage.add(`i:${before.site}>${r.value}`);
          }
          if (++th.yields > MAX_YIELDS_PER_OP) throw new NoResult(MAX_YIELDS_PER_OP);
        }
      }
    } catch (e) {
      if (isA(e, InterfaceError)) throw e;
      // The step was taken: a replay that took another could pass.
      schedule.push(t);
      taken.push({ thread: t, step: th.record?.index ?? session.steps.length, end: { kind: 'threw' } });
      session.ledgerFailures(th.record?.index ?? session.steps.length);
      session.fatal(crash(th.record?.index ?? session.steps.length, op.kind, e));
      return done();
    }
    // Progress may have released a lock: let waiters try again.
    for (const other of threads) other.blocked = false;
    schedule.push(t);
    current = t;
    clock++;
    if (outcome !== undefined) {
      taken.push({ thread: t, step: th.record!.index, end: { kind: 'returned' } });
      th.record!.actual = outcome;
      history.push({ id: history.length, thread: t, op, invoke: th.invoke, response: clock, outcome });
      th.run = undefined;
      th.pc++;
      session.returned(op, outcome);
      session.boundsFailure(op, outcome, th.record!.index);
    }
    // A violation does not stop the threads: what they do to the buffers
    // afterwards may be worse (see Session).
    session.ledgerFailures(th.record!.index);
  }

  const order = session.diverged ? undefined : judgeHistory(session, afterSetup, c, history, judged);
  session.teardownAndQuiesce();
  return done(order);
}

/** The threads' results must come from some order of their ops, and so
 * must the descriptors they leave. Notes the violation if not; returns the
 * explaining order, and leaves the spec where the order (or the closest
 * explanation) took it, for teardown. */
function judgeHistory(session: Session, afterSetup: SpecWorld, c: ConcurrentCase, history: HistoryOp[], judged?: Judgements): HistoryOp[] | undefined {
  const perThread = c.threads.map((_, t) => history.filter((h) => h.thread === t));
  const view = session.view();
  const key = judged && historyKey(perThread, view);
  let lin = key === undefined ? undefined : judged!.get(key);
  if (lin === undefined) {
    lin = linearize(afterSetup, perThread, view);
    if (key !== undefined) judged!.set(key, { ok: lin.ok, order: lin.order, world: lin.world?.clone(), explored: lin.explored });
  } else if (lin.world !== undefined) {
    // Teardown goes on from the world: the one kept must stay as found.
    lin = { ok: lin.ok, order: lin.order, world: lin.world.clone(), explored: lin.explored };
  }
  if (lin.ok) {
    for (const h of lin.order) {
      const rec = session.steps.find((s) => s.thread === h.thread + 1 && s.op === h.op && s.expected === undefined && sameOutcome(s.actual!, h.outcome));
      if (rec) rec.expected = h.outcome;
    }
    session.spec = lin.world!;
    return lin.order;
  }
  const last = session.steps.length - 1;
  const closest = view ? closestExplanation(explanations(afterSetup, perThread), view) : undefined;
  if (closest) {
    session.spec = closest.explanation.world;
    session.note({
      oracle: 'state', signature: `state:concurrent:${closest.fields.join('+')}`, step: last,
      message: `the threads' results are explained, but not what they leave: ${closest.differences.join('; ')}`,
    });
    return closest.explanation.order;
  }
  const culprit = firstUnexplained(afterSetup, perThread, history);
  // The culprit and every call that returned after it: free, as when it was found.
  const free = new Set(history.filter((h) => h.response >= culprit.response).map((h) => h.id));
  const allowed = [...new Set(explanations(afterSetup, perThread, { free, track: culprit.id })
    .map((e) => (e.tracked ? formatOutcome(e.tracked) : undefined)).filter((o): o is string => o !== undefined))];
  session.note({
    oracle: 'linearizability',
    signature: `linearizability:${culprit.op.kind}:${culprit.outcome.errno ?? 'ok'}`,
    message: `no order of the threads' ops, respecting real time, gives the results they got: ${culprit.op.kind} on thread ${culprit.thread + 1} returned ${formatOutcome(culprit.outcome)}, where the spec returns ${allowed.length === 0 ? 'nothing it could' : allowed.join(' or ')} in every order that explains the ops that returned before it`,
    step: session.steps.findIndex((st) => st.thread === culprit.thread + 1 && st.op === culprit.op),
  });
  return undefined;
}

/** What linearize() reads of a history: each thread's results in program
 * order, which call returned before which other was invoked, and the
 * descriptors left. */
function historyKey(perThread: readonly HistoryOp[][], view: FdView[] | undefined): string {
  const all = perThread.flat();
  let key = perThread.map((ops) => ops.map((h) => outcomeKey(h.outcome)).join(';')).join('|');
  key += '#';
  for (const a of all) for (const b of all) if (a !== b) key += b.invoke >= a.response ? '1' : '0';
  key += '#';
  if (view !== undefined) for (const v of view) key += `${v.fd},${v.flag},${v.kept};`;
  return key;
}

function outcomeKey(o: Outcome): string {
  return `${o.ret},${o.errno ?? ''},${o.optlen ?? ''},${o.bytes === undefined ? '-' : o.bytes.join('.')}`;
}

const FIELD_RANK = ['kept', 'flag', 'fds'] as const;
type ViewField = typeof FIELD_RANK[number];

/** Of the orders that explain the results, the one whose descriptors are
 * closest to the implementation's: fewest differences, and among equals
 * one that differs in whose SYN is kept, what the feature is about. Every
 * explanation is weighed, so the verdict does not depend on which one a
 * search meets first. */
function closestExplanation(all: Explanation[], view: FdView[]): { explanation: Explanation; fields: ViewField[]; differences: string[] } | undefined {
  let best: { explanation: Explanation; fields: ViewField[]; differences: string[]; score: number[] } | undefined;
  for (const explanation of all) {
    const diffs = viewDifferences(explanation.world.view(), view);
    const fields = FIELD_RANK.filter((f) => diffs.some((d) => d.field === f));
    const score = [diffs.length, ...FIELD_RANK.map((f) => (fields.includes(f) ? 0 : 1))];
    if (best === undefined || lexLess(score, best.score)) best = { explanation, fields, differences: diffs.map((d) => d.text), score };
  }
  return best;
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

const keptText = (kept: number | null): string => (kept === null ? 'no SYN' : `the SYN of peer ${kept}`);

/** Where the implementation's descriptors differ from the spec's, in words
 * that say what the spec expected. */
function viewDifferences(expected: FdView[], actual: FdView[]): Array<{ field: ViewField; text: string }> {
  const out: Array<{ field: ViewField; text: string }> = [];
  for (const e of expected) {
    const a = lastWithFd(actual, e.fd);
    if (a === undefined) {
      out.push({ field: 'fds', text: `the spec has fd ${e.fd} open, the implementation does not` });
      continue;
    }
    if (a.flag !== e.flag) out.push({ field: 'flag', text: `fd ${e.fd} has the save-SYN flag ${a.flag} where the spec has ${e.flag}` });
    if (a.kept !== e.kept) out.push({ field: 'kept', text: `fd ${e.fd} holds ${keptText(a.kept)} where the spec holds ${keptText(e.kept)}` });
  }
  for (const a of actual) {
    if (!expected.some((e) => e.fd === a.fd)) out.push({ field: 'fds', text: `the implementation has fd ${a.fd} open, the spec does not` });
  }
  return out;
}

/** The op to blame for an unexplainable history: constrain the results
 * one op at a time, in the order they returned, leaving the rest free; the
 * first op whose result makes the history unexplainable is it. */
function firstUnexplained(start: SpecWorld, perThread: HistoryOp[][], history: HistoryOp[]): HistoryOp {
  const byResponse = [...history].sort((a, b) => a.response - b.response);
  for (let n = 1; n <= byResponse.length; n++) {
    const free = new Set(byResponse.slice(n).map((h) => h.id));
    if (!linearize(start, perThread, undefined, free).ok) return byResponse[n - 1];
  }
  return byResponse[byResponse.length - 1];
}
