// Single-thread lockstep: each op runs on the spec and on the implementation,
// and every oracle judges the step before the next one runs. After the last
// op, teardown closes every descriptor and lets every timer fire; then every
// buffer must be free.

import { Ledger, type LedgerEvent, type Violation } from '../model/ledger.ts';
import type { Implementation, ImplInstance, Yield } from '../model/impl/types.ts';
import type { Op, Outcome } from '../model/ops.ts';
import type { Profile } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import {
  judgeLedger, judgeLockstep, judgeRead, judgeState, packetsOf, type StepContext, type Verdict,
} from './oracles.ts';

export interface StepRecord {
  index: number;
  op: Op;
  teardown: boolean;
  expected: Outcome;
  actual: Outcome | undefined;
  /** The implementation's preemption points passed during the op. */
  sites: string[];
}

export interface Failure extends Verdict {
  /** Index of the step that failed; teardown steps follow the case's ops. */
  step: number;
  violation?: Violation;
}

export interface RunResult {
  failure: Failure | undefined;
  steps: StepRecord[];
  ledger: Ledger;
}

export interface RunOptions {
  /** Record each op's preemption points (for reports); off on hot paths. */
  recordSites?: boolean;
}

/** A bound on preemption points per op: an implementation that loops forever
 * is reported, not waited for. */
const MAX_YIELDS_PER_OP = 10_000;

export function runLockstep(impl: Implementation, profile: Profile, ops: readonly Op[], opts: RunOptions = {}): RunResult {
  const spec = createSpec(profile);
  const ledger = new Ledger();
  const steps: StepRecord[] = [];
  let instance: ImplInstance;
  try {
    instance = impl.create({ profile, ledger });
  } catch (e) {
    return { failure: crash(0, 'create', e), steps, ledger };
  }
  const ctx: StepContext = {
    op: ops[0] ?? { kind: 'expireAll' }, readOpt: profile.readOpt, readerSocket: undefined, readerConn: undefined,
    packets: packetsOf(ops), delivered: new Map(),
  };
  let seenViolations = 0;

  const step = (index: number, op: Op, teardown: boolean): Failure | undefined => {
    ledger.step = index;
    const reader = 'fd' in op ? spec.socketOf(op.fd) : undefined;
    ctx.op = op;
    ctx.readerSocket = reader?.id;
    ctx.readerConn = reader?.conn;
    const expected = spec.apply(op);
    const record: StepRecord = { index, op, teardown, expected, actual: undefined, sites: [] };
    steps.push(record);
    let actual: Outcome;
    try {
      actual = drive(instance.run(op, 0), opts.recordSites ? record.sites : undefined);
    } catch (e) {
      return crash(index, op.kind, e);
    }
    record.actual = actual;
    const verdict = judgeRead(ctx, actual) ?? judgeLockstep(op, expected, actual);
    if (verdict) return { ...verdict, step: index };
    const violations = ledger.allViolations();
    if (violations.length > seenViolations) {
      const v = violations[seenViolations];
      seenViolations = violations.length;
      return { ...judgeLedger(v), step: index, violation: v };
    }
    if (instance.view) {
      const s = judgeState(op, spec.view(), instance.view());
      if (s) return { ...s, step: index };
    }
    return undefined;
  };

  let index = 0;
  for (const op of ops) {
    const f = step(index++, op, false);
    if (f) return { failure: f, steps, ledger };
  }
  for (const op of teardownOps(spec.openFds())) {
    const f = step(index++, op, true);
    if (f) return { failure: f, steps, ledger };
  }
  ledger.step = index;
  const leak = ledger.checkQuiescent()[0];
  if (leak) return { failure: { ...judgeLedger(leak), step: index, violation: leak }, steps, ledger };
  return { failure: undefined, steps, ledger };
}

/** Close every descriptor (highest first, so accepted sockets go before
 * their listener), then let every timer fire. */
export function teardownOps(openFds: number[]): Op[] {
  return [...openFds].reverse().map((fd): Op => ({ kind: 'close', fd })).concat([{ kind: 'expireAll' }]);
}

function drive(run: ReturnType<ImplInstance['run']>, sites: string[] | undefined): Outcome {
  if (!isIterator(run)) return run;
  for (let n = 0; n < MAX_YIELDS_PER_OP; n++) {
    const r = run.next();
    if (r.done) return r.value;
    const y: Yield = r.value;
    if (typeof y !== 'string') throw new Error(`blocked on ${y.blocked} with no other thread to release it`);
    sites?.push(y);
  }
  throw new Error(`no result after ${MAX_YIELDS_PER_OP} preemption points`);
}

function isIterator(x: unknown): x is Iterator<Yield, Outcome, void> {
  return typeof x === 'object' && x !== null && typeof (x as { next?: unknown }).next === 'function';
}

function crash(step: number, where: string, e: unknown): Failure {
  const msg = e instanceof Error ? e.message : String(e);
  return { oracle: 'crash', signature: `crash:${where}`, message: `the implementation threw during ${where}: ${msg}`, step };
}

/** The reference history of the buffer a failure is about. */
export function historyOf(result: RunResult): readonly LedgerEvent[] {
  const h = result.failure?.violation?.handle;
  return h === undefined ? [] : result.ledger.history(h);
}
