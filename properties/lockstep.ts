// Single-thread lockstep: each op runs on the spec and on the implementation,
// and every oracle judges the step before the next one runs. After the last
// op, teardown closes every descriptor and lets every timer fire; then every
// buffer must be free. The Session class is shared with the concurrent
// runner, which uses it for setup and teardown.

import { Ledger, type LedgerEvent, type Violation } from '../model/ledger.ts';
import { checkedOutcome, checkedView, checkedYield, createInstance, InterfaceError } from '../model/impl/contract.ts';
import type { FdView, Implementation, ImplInstance, OpRun, Yield } from '../model/impl/types.ts';
import type { Op, Outcome } from '../model/ops.ts';
import type { Profile } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import type { SpecWorld } from '../model/spec/world.ts';
import { guarded, HangError } from './impl-calls.ts';
import {
  judgeLedger, judgeLockstep, judgeRead, judgeState, packetsOf, type StepContext, type Verdict,
} from './oracles.ts';

export interface StepRecord {
  index: number;
  op: Op;
  /** 0 for sequential steps; the 1-based thread of a concurrent op. */
  thread: number;
  teardown: boolean;
  expected: Outcome | undefined;
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
  /** Collects what the run covered: `t:` spec transitions (the socket's
   * state, the op, the spec's outcome), `s:` implementation sites and, in
   * concurrent runs, `i:` pairs of sites where one thread preempted another. */
  coverage?: Set<string>;
}

/** A bound on preemption points per op: an implementation that loops forever
 * is reported, not waited for. */
export const MAX_YIELDS_PER_OP = 10_000;

/** One run of one case: the spec, the implementation and the oracles. */
export class Session {
  spec: SpecWorld;
  readonly ledger = new Ledger();
  readonly steps: StepRecord[] = [];
  readonly instance: ImplInstance;
  private readonly ctx: StepContext;
  private seenViolations = 0;
  /** Which thread each running op belongs to: calls are told apart by it. */
  private readonly threadOf = new WeakMap<OpRun, number>();

  constructor(readonly impl: Implementation, readonly profile: Profile, allOps: readonly Op[], readonly opts: RunOptions = {}) {
    this.spec = createSpec(profile);
    this.ctx = {
      op: { kind: 'expireAll' }, readOpt: profile.readOpt, readerSocket: undefined, readerConn: undefined,
      packets: packetsOf(allOps), delivered: new Map(),
    };
    this.instance = guarded('create', () => createInstance(impl, { profile, ledger: this.ledger }));
  }

  /** One op on the spec and the implementation, judged by every oracle. */
  sequential(op: Op, teardown: boolean): Failure | undefined {
    const index = this.steps.length;
    this.ledger.step = index;
    const reader = 'fd' in op ? this.spec.socketOf(op.fd) : undefined;
    this.ctx.op = op;
    this.ctx.readerSocket = reader?.id;
    this.ctx.readerConn = reader?.conn;
    const cov = this.opts.coverage;
    if (cov) cov.add(`t:${reader ? `${reader.tcpState}/${reader.sockState}` : '-'}:${op.kind}:${'optname' in op ? op.optname : ''}`);
    const expected = this.spec.apply(op);
    if (cov) cov.add(`t:${op.kind}:${expected.errno ?? (expected.bytes ? 'bytes' : 'ok')}`);
    const record: StepRecord = { index, op, thread: 0, teardown, expected, actual: undefined, sites: [] };
    this.steps.push(record);
    let actual: Outcome;
    try {
      actual = this.drive(op, this.opts.recordSites || cov ? record.sites : undefined);
      if (cov) for (const site of record.sites) cov.add(`s:${site}`);
    } catch (e) {
      if (e instanceof InterfaceError) throw e;
      return crash(index, op.kind, e);
    }
    record.actual = actual;
    const verdict = judgeRead(this.ctx, actual) ?? judgeLockstep(op, expected, actual);
    if (verdict) return { ...verdict, step: index };
    return this.ledgerFailure(index) ?? this.stateFailure(op, index);
  }

  /** The bounds oracle alone: in a concurrent run, which socket a descriptor
   * names depends on the order, so identity and one-shot are left to
   * linearizability. */
  boundsFailure(op: Op, actual: Outcome, index: number): Failure | undefined {
    const ctx: StepContext = { ...this.ctx, op, readerSocket: undefined, readerConn: undefined };
    const v = judgeRead(ctx, actual);
    return v ? { ...v, step: index } : undefined;
  }

  /** The first ledger violation not yet reported. */
  ledgerFailure(index: number): Failure | undefined {
    const violations = this.ledger.allViolations();
    if (violations.length <= this.seenViolations) return undefined;
    const v = violations[this.seenViolations];
    this.seenViolations = violations.length;
    return { ...judgeLedger(v), step: index, violation: v };
  }

  stateFailure(op: Op, index: number): Failure | undefined {
    if (!this.instance.view) return undefined;
    const s = judgeState(op, this.spec.view(), this.view()!);
    return s ? { ...s, step: index } : undefined;
  }

  /** Close every descriptor, expire every timer, then require every buffer free. */
  teardownAndQuiesce(): Failure | undefined {
    for (const op of teardownOps(this.spec.openFds())) {
      const f = this.sequential(op, true);
      if (f) return f;
    }
    const index = this.steps.length;
    this.ledger.step = index;
    const leak = this.ledger.checkQuiescent()[0];
    return leak ? { ...judgeLedger(leak), step: index, violation: leak } : undefined;
  }

  /** How many SYNs each spec socket has read so far: oracle state that
   * decides later verdicts (one-shot), so a state hash must include it and
   * a copy of the session must copy it. */
  readsBySocket(): Map<number, number> {
    return this.ctx.delivered;
  }

  /** The implementation's descriptors, when it shows them. */
  view(): FdView[] | undefined {
    return this.instance.view ? checkedView(this.impl, guarded('view', () => this.instance.view!())) : undefined;
  }

  /** The op started on the implementation: a generator, or an Outcome at once. */
  start(op: Op, thread: number): OpRun | Outcome {
    const started: unknown = guarded(op.kind, () => this.instance.run(op, thread), thread, op);
    if (!isRun(started as OpRun)) return checkedOutcome(this.impl, op, this.profile, started);
    this.threadOf.set(started as OpRun, thread);
    return started as OpRun;
  }

  /** One step of a started op: a yield, or its Outcome. */
  next(op: Op, run: OpRun): IteratorResult<Yield, Outcome> {
    const r = guarded(op.kind, () => run.next(), this.threadOf.get(run));
    return r.done ? { done: true, value: checkedOutcome(this.impl, op, this.profile, r.value) } : { done: false, value: checkedYield(this.impl, r.value) };
  }

  /** An op run to completion on its own thread. */
  private drive(op: Op, sites: string[] | undefined): Outcome {
    const run = this.start(op, 0);
    if (!isRun(run)) return run;
    for (let n = 0; n < MAX_YIELDS_PER_OP; n++) {
      const r = this.next(op, run);
      if (r.done) return r.value;
      const y: Yield = r.value;
      if (typeof y !== 'string') throw new Error(`blocked on ${y.blocked} with no other thread to release it`);
      sites?.push(y);
    }
    throw new Error(`no result after ${MAX_YIELDS_PER_OP} preemption points`);
  }

  result(failure: Failure | undefined): RunResult {
    return { failure, steps: this.steps, ledger: this.ledger };
  }
}

export function runLockstep(impl: Implementation, profile: Profile, ops: readonly Op[], opts: RunOptions = {}): RunResult {
  const s = new Session(impl, profile, ops, opts);
  for (const op of ops) {
    const f = s.sequential(op, false);
    if (f) return s.result(f);
  }
  return s.result(s.teardownAndQuiesce());
}

/** Close every descriptor (highest first, so accepted sockets go before
 * their listener), then let every timer fire. */
export function teardownOps(openFds: number[]): Op[] {
  return [...openFds].reverse().map((fd): Op => ({ kind: 'close', fd })).concat([{ kind: 'expireAll' }]);
}

export function isRun(x: OpRun | Outcome): x is OpRun {
  return typeof x === 'object' && x !== null && typeof (x as { next?: unknown }).next === 'function';
}

export function crash(step: number, where: string, e: unknown): Failure {
  if (e instanceof HangError) {
    return { oracle: 'hang', signature: `hang:${where}`, message: `the implementation did not return from ${where} within ${e.bound} ms`, step };
  }
  const msg = e instanceof Error ? e.message : String(e);
  return { oracle: 'crash', signature: `crash:${where}`, message: `the implementation threw during ${where}: ${msg}`, step };
}

/** The reference history of the buffer a failure is about. */
export function historyOf(result: RunResult): readonly LedgerEvent[] {
  const h = result.failure?.violation?.handle;
  return h === undefined ? [] : result.ledger.history(h);
}
