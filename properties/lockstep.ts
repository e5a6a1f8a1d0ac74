// Single-thread lockstep: each op runs on the spec and on the implementation,
// and every oracle judges the step before the next one runs. After the last
// op, teardown closes every descriptor and lets every timer fire; then every
// buffer must be free. The Session class is shared with the concurrent
// runner, which uses it for setup and teardown.

import { Ledger, type LedgerEvent, type Violation } from '../model/ledger.ts';
import { judgeMemory } from './memory.ts';
import { checkedOutcome, checkedView, checkedYield, createInstance, InterfaceError, stateThrew, viewThrew } from '../model/impl/contract.ts';
import type { FdView, Implementation, ImplInstance, OpRun, Yield } from '../model/impl/types.ts';
import { makesDescriptor, type Op, type Outcome } from '../model/ops.ts';
import type { Profile } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import { BUNDLED } from '../model/impl/registry.ts';
import { kernelOf } from '../model/impl/stack/adapter.ts';
import type { SpecSocket, SpecWorld } from '../model/spec/world.ts';
import type { BuiltPacket } from '../model/packet.ts';
import { callsCounted, enterCall, guarded, HangError, leaveCall, NoResult } from './impl-calls.ts';
import { describeThrown, isA } from '../model/impl/thrown.ts';
import {
  judgeLedger, judgeLockstep, judgeRead, judgeStateOf, mostSevere, packetsOf, type StepContext, type Verdict,
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
  /** The most severe violation: it names the finding. */
  failure: Failure | undefined;
  /** Every violation the run showed, in the order they happened: the
   * first divergence from the spec, then whatever the implementation did
   * to its buffers after it, through teardown. */
  violations: Failure[];
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

/** What a session may start from instead of a fresh spec and the packets
 * of its ops: a copy of another session's (fuzz/verify/fork.ts). */
export interface SessionStart {
  spec: SpecWorld;
  packets: ReadonlyMap<number, readonly BuiltPacket[]>;
}

/** A bound on preemption points per op: an implementation that loops forever
 * is reported, not waited for. */
export const MAX_YIELDS_PER_OP = 10_000;

/** One run of one case: the spec, the implementation and the oracles.
 *
 * A run does not stop at the first violation. What the implementation does
 * to its buffers after it diverged from the spec is still its own doing: a
 * read that frees without clearing the pointer first shows as a wrong
 * state, and only at teardown as the double free it is. So after the first
 * violation the spec is no longer compared, but every op still runs, the
 * ledger and the bounds oracle still judge, and teardown closes every
 * descriptor either side holds; the most severe violation names the run.
 * Only a crash, a hang or a deadlock ends a run early. */
export class Session {
  spec: SpecWorld;
  readonly ledger = new Ledger();
  readonly steps: StepRecord[] = [];
  readonly instance: ImplInstance;
  /** Every violation so far, in order. */
  readonly found: Failure[] = [];
  /** Set by a crash, a hang or a deadlock: nothing more can run. */
  stopped = false;
  /** The memory oracle weighs what is held against the spec's requests and
   * sockets, which only a single-thread run tracks op by op. */
  judgesMemory = true;
  private readonly ctx: StepContext;
  private seenViolations = 0;
  /** Descriptors the implementation handed out and has not closed, as its
   * results tell: teardown after a divergence closes these too. */
  private readonly implFds = new Set<number>();
  /** The ops whose SYNs ctx.packets must hold, until something asks for
   * them: a case that never reads a SYN nor holds a buffer never builds
   * the table. */
  private packetsPending: readonly Op[] | undefined;
  /** An implementation savedsyn does not bundle: its ops are frozen
   * before it sees them, and its outcomes copied as they are checked. */
  private readonly untrusted: boolean;
  /** Reused by the memory oracle, which asks after every step. */
  private readonly keptBuf: number[] = [];
  private readonly liveBuf: number[] = [];

  /** `allOps` are the ops whose SYNs the oracles know of; `from`, when
   * given, stands for them and for the initial spec. `allOps` is read when
   * an oracle first needs a SYN, so it must not change while the session
   * is in use. */
  constructor(readonly impl: Implementation, readonly profile: Profile, allOps: readonly Op[], readonly opts: RunOptions = {}, from?: SessionStart) {
    this.spec = from?.spec ?? createSpec(profile);
    this.ctx = {
      op: EXPIRE_ALL, readOpt: profile.readOpt, readerSocket: undefined, readerConn: undefined,
      packets: from?.packets ?? NO_PACKETS, delivered: new Map(),
    };
    this.packetsPending = from === undefined ? allOps : undefined;
    this.untrusted = !BUNDLED.includes(impl);
    // A module's instance is read once; one built on the modelled stack is
    // kept as it is, since verify finds its kernel by it.
    this.instance = guarded('create', () => createInstance(impl, { profile, ledger: this.ledger }, (i) => this.untrusted && !kernelOf.has(i as ImplInstance)));
    for (const fd of this.spec.openFds()) this.implFds.add(fd);
  }

  /** Start again from nothing run, at `from`: what the constructor does,
   * on objects already made. The ledger and the implementation's state
   * are the caller's to set (fuzz/verify/fork.ts copies them). */
  restart(from: SessionStart): void {
    this.spec = from.spec;
    if (this.steps.length !== 0) this.steps.length = 0;
    if (this.found.length !== 0) this.found.length = 0;
    this.stopped = false;
    this.judgesMemory = true;
    this.seenViolations = 0;
    this.ctx.op = EXPIRE_ALL;
    this.ctx.readerSocket = undefined;
    this.ctx.readerConn = undefined;
    this.ctx.packets = from.packets;
    this.packetsPending = undefined;
    this.ctx.delivered.clear();
    this.implFds.clear();
    for (const fd of this.spec.openFds()) this.implFds.add(fd);
  }

  /** Start again from the state the session is in, as restart does from
   * another: the run's records begin anew, and the oracles know of the
   * SYNs `packets` holds. For a session whose last op failed nothing
   * (fuzz/verify/bfs.ts runs the next op on it instead of on a copy). */
  again(packets: ReadonlyMap<number, readonly BuiltPacket[]>): void {
    if (this.steps.length !== 0) this.steps.length = 0;
    if (this.found.length !== 0) this.found.length = 0;
    this.stopped = false;
    this.judgesMemory = true;
    this.ctx.packets = packets;
    this.packetsPending = undefined;
  }

  /** Past the first violation: the spec no longer predicts the run. */
  get diverged(): boolean {
    return this.found.length > 0;
  }

  /** One op on the spec and the implementation, judged by every oracle.
   * Returns the first violation the step showed, if any (all are kept). */
  sequential(op: Op, teardown: boolean): Failure | undefined {
    const index = this.steps.length;
    this.ledger.step = index;
    // A property load, not `'fd' in op`: ops come in a score of shapes, and
    // `in` on so many is a runtime call. An fd that is undefined names no
    // socket either way.
    const fd = (op as { fd?: number }).fd;
    const reader = fd === undefined ? undefined : this.spec.socketOf(fd);
    this.ctx.op = op;
    this.ctx.readerSocket = reader?.id;
    this.ctx.readerConn = reader?.conn;
    const cov = this.opts.coverage;
    if (cov) cov.add(coverageKeys.before(reader, op));
    // Past a divergence the spec and the implementation hold different
    // states, so what the spec would return predicts nothing: a report
    // shows no expectation there rather than a made-up one.
    const expected = this.diverged ? undefined : this.spec.apply(op);
    if (cov && expected !== undefined) cov.add(coverageKeys.after(op, expected));
    const recording = this.opts.recordSites === true || cov !== undefined;
    const record: StepRecord = { index, op, thread: 0, teardown, expected, actual: undefined, sites: recording ? [] : NO_SITES };
    this.steps.push(record);
    let actual: Outcome;
    try {
      actual = this.drive(op, recording ? record.sites : undefined);
      if (cov) for (const site of record.sites) cov.add(coverageKeys.site(site));
    } catch (e) {
      if (isA(e, InterfaceError)) throw e;
      this.ledgerFailures(index);
      return this.fatal(crash(index, op.kind, e));
    }
    record.actual = actual;
    this.returned(op, actual);
    // Diverged before this op (the op itself notes nothing while it runs).
    if (expected === undefined) {
      const bounds = this.boundsFailure(op, actual, index);
      const ledger = this.ledgerFailures(index);
      return bounds ?? ledger[0];
    }
    const verdict = this.judgeRead(this.ctx, actual) ?? judgeLockstep(op, expected, actual, this.profile.readOpt);
    if (verdict) return this.note({ ...verdict, step: index });
    return this.ledgerFailures(index)[0] ?? this.memoryFailure(op, index) ?? this.stateFailure(op, index);
  }

  /** What the feature holds after the op, against the profile's bound. */
  memoryFailure(op: Op, index: number): Failure | undefined {
    if (!this.judgesMemory) return undefined;
    // Nothing held is within any bound: most ops of most cases.
    const held = this.ledger.held();
    if (held.length === 0) return undefined;
    // Unsorted: the oracle counts and sums them, which order cannot change.
    this.spec.heldByPromise(this.keptBuf, this.liveBuf);
    const v = judgeMemory(op, this.profile, held, this.packets(), this.keptBuf, this.liveBuf);
    return v ? this.note({ ...v, step: index }) : undefined;
  }

  /** judgeRead, with the SYNs sent built first when the op read bytes
   * (judgeRead looks at nothing else). */
  private judgeRead(ctx: StepContext, actual: Outcome): Verdict | undefined {
    if (actual.bytes === undefined || actual.bytes.length === 0) return undefined;
    ctx.packets = this.packets();
    return judgeRead(ctx, actual);
  }

  /** What an op's result tells about the implementation's descriptors. */
  returned(op: Op, actual: Outcome): void {
    if (makesDescriptor(op) && actual.ret >= 0 && actual.errno === undefined) this.implFds.add(actual.ret);
    if (op.kind === 'close' && actual.ret === 0 && actual.errno === undefined) this.implFds.delete(op.fd);
  }

  /** The bounds oracle alone: in a concurrent run, which socket a descriptor
   * names depends on the order, so identity and one-shot are left to
   * linearizability; after a divergence, the spec's sockets are no guide. */
  boundsFailure(op: Op, actual: Outcome, index: number): Failure | undefined {
    const ctx: StepContext = { ...this.ctx, op, readerSocket: undefined, readerConn: undefined };
    const v = this.judgeRead(ctx, actual);
    return v ? this.note({ ...v, step: index }) : undefined;
  }

  /** Every ledger violation not yet reported, noted. */
  ledgerFailures(index: number): readonly Failure[] {
    const violations = this.ledger.allViolations();
    if (this.seenViolations === violations.length) return NO_FAILURES;
    const out: Failure[] = [];
    for (; this.seenViolations < violations.length; this.seenViolations++) {
      const v = violations[this.seenViolations];
      out.push(this.note({ ...judgeLedger(v), step: v.kind === 'leak' ? Math.min(v.step, index) : index, violation: v }));
    }
    return out;
  }

  stateFailure(op: Op, index: number): Failure | undefined {
    if (!this.instance.view) return undefined;
    const s = judgeStateOf(op, this.spec, this.view()!);
    return s ? this.note({ ...s, step: index }) : undefined;
  }

  /** Keep a violation. */
  note(f: Failure): Failure {
    this.found.push(f);
    return f;
  }

  /** A violation after which nothing can run. */
  fatal(f: Failure): Failure {
    this.stopped = true;
    return this.note(f);
  }

  /** Close every descriptor, expire every timer, then require every buffer
   * free. After a divergence, the descriptors either side holds. */
  teardownAndQuiesce(): void {
    if (this.stopped) return;
    // The spec's descriptors, ascending, then (after a divergence) those
    // only the implementation holds, merged in: closed highest first.
    const fds = this.spec.openFds();
    if (this.diverged) {
      for (const fd of this.implFds) if (this.spec.socketOf(fd) === undefined) fds.push(fd);
      fds.sort(ascending);
    }
    for (let i = fds.length - 1; i >= 0; i--) {
      this.sequential({ kind: 'close', fd: fds[i] }, true);
      if (this.stopped) return;
    }
    this.sequential({ kind: 'expireAll' }, true);
    if (this.stopped) return;
    const index = this.steps.length;
    this.ledger.step = index;
    this.ledger.checkQuiescent();
    this.ledgerFailures(index);
  }

  /** How many SYNs each spec socket has read so far: oracle state that
   * decides later verdicts (one-shot), so a state hash must include it and
   * a copy of the session must copy it. */
  readsBySocket(): Map<number, number> {
    return this.ctx.delivered;
  }

  /** Every SYN the oracles know of, by connection: read-only, so a copy
   * of the session may share it. */
  packets(): ReadonlyMap<number, readonly BuiltPacket[]> {
    if (this.packetsPending !== undefined) {
      this.ctx.packets = packetsOf(this.packetsPending);
      this.packetsPending = undefined;
    }
    return this.ctx.packets;
  }

  /** The descriptors the implementation's results say it holds: a copy of
   * the session must copy them, for a teardown after a divergence. */
  implDescriptors(): Set<number> {
    return this.implFds;
  }

  /** The implementation's descriptors, when it shows them. */
  view(): FdView[] | undefined {
    if (!this.instance.view) return undefined;
    let shown: unknown;
    try {
      shown = callsCounted() ? guarded('view', () => this.instance.view!()) : this.instance.view();
    } catch (e) {
      // A view is read between ops, not an op: a throw there is no finding
      // about the kernel code, but a module that cannot be checked.
      if (isA(e, InterfaceError)) throw e;
      throw viewThrew(this.impl, e);
    }
    return checkedView(this.impl, shown);
  }

  /** What a module's state() returns, given to `read` within the same
   * call: reading it runs the module's code too (getters). For an
   * implementation with state() only. */
  readState(read: (state: unknown) => void): void {
    const call = (): void => read(this.instance.state!());
    try {
      if (callsCounted()) guarded('state', call);
      else call();
    } catch (e) {
      if (isA(e, InterfaceError)) throw e;
      throw stateThrew(this.impl, e);
    }
  }

  /** The op started on the implementation: a generator, or an Outcome at once. */
  start(op: Op, thread: number): OpRun | Outcome {
    // The op is the case's, and often shared (an alphabet's, a corpus
    // entry's): an implementation that wrote to it would change the case
    // under the oracles and the replay token. Frozen, such a write throws
    // where the module makes it, and is reported there as a crash. The
    // bundled implementations write to no op, and are spared the cost.
    if (this.untrusted && !Object.isFrozen(op)) Object.freeze(op);
    // Counted as `guarded` counts, without a closure: this and `next` run
    // once per preemption point.
    const w = enterCall(op.kind, thread, op);
    let started: unknown;
    try {
      started = this.instance.run(op, thread);
    } finally {
      leaveCall(w);
    }
    if (!isRun(started as OpRun)) return checkedOutcome(this.impl, op, this.profile, started, this.untrusted);
    return started as OpRun;
  }

  /** One step of a started op, on `thread` (calls are told apart by it):
   * a yield, or its Outcome. */
  next(op: Op, run: OpRun, thread = 0): IteratorResult<Yield, Outcome> {
    const r = this.resume(op, run, thread);
    return r.done ? { done: true, value: checkedOutcome(this.impl, op, this.profile, r.value, this.untrusted) } : { done: false, value: checkedYield(this.impl, r.value) };
  }

  /** The started op's next step, unchecked. */
  private resume(op: Op, run: OpRun, thread: number): IteratorResult<unknown, unknown> {
    const w = enterCall(op.kind, thread, undefined);
    try {
      return run.next();
    } finally {
      leaveCall(w);
    }
  }

  /** An op run to completion on its own thread. */
  private drive(op: Op, sites: string[] | undefined): Outcome {
    const started = this.start(op, 0);
    if (!isRun(started)) return started;
    for (let n = 0; n < MAX_YIELDS_PER_OP; n++) {
      const r = this.resume(op, started, 0);
      if (r.done) return checkedOutcome(this.impl, op, this.profile, r.value, this.untrusted);
      const y = r.value;
      if (typeof y !== 'string') {
        const blocked = checkedYield(this.impl, y) as { blocked: string };
        throw new Error(`blocked on ${blocked.blocked} with no other thread to release it`);
      }
      sites?.push(y);
    }
    throw new NoResult(MAX_YIELDS_PER_OP);
  }

  /** The run so far, named by its most severe violation. */
  result(): RunResult {
    return { failure: mostSevere(this.found), violations: this.found, steps: this.steps, ledger: this.ledger };
  }
}

const EXPIRE_ALL: Op = { kind: 'expireAll' };
const NO_PACKETS: ReadonlyMap<number, readonly BuiltPacket[]> = new Map();
const NO_FAILURES: readonly Failure[] = Object.freeze([]);
/** The sites of a step whose sites nobody records: shared, and never written. */
const NO_SITES = Object.freeze([]) as unknown as string[];

/** Coverage keys, made once per distinct key: a campaign adds one for
 * every transition and every preemption point, and the same few hundred
 * strings each time. */
const coverageKeys = {
  sites: new Map<string, string>(),
  befores: new Map<string, Map<string, Map<string, Map<number | '', string>>>>(),
  afters: new Map<string, Map<string, string>>(),
  site(site: string): string {
    let key = this.sites.get(site);
    if (key === undefined) {
      key = `s:${site}`;
      this.sites.set(site, key);
    }
    return key;
  },
  /** `t:<state>:<op>:<optname>`: the reader's state before the op. */
  before(reader: SpecSocket | undefined, op: Op): string {
    const state = reader ? reader.tcpState : '-';
    const sock = reader ? reader.sockState : '';
    const opt = 'optname' in op ? op.optname : '';
    let bySock = this.befores.get(state);
    if (bySock === undefined) this.befores.set(state, bySock = new Map());
    let byKind = bySock.get(sock);
    if (byKind === undefined) bySock.set(sock, byKind = new Map());
    let byOpt = byKind.get(op.kind);
    if (byOpt === undefined) byKind.set(op.kind, byOpt = new Map());
    let key = byOpt.get(opt);
    if (key === undefined) {
      key = `t:${reader ? `${reader.tcpState}/${reader.sockState}` : '-'}:${op.kind}:${opt}`;
      byOpt.set(opt, key);
    }
    return key;
  },
  /** `t:<op>:<result>`: the spec's outcome. */
  after(op: Op, expected: Outcome): string {
    const result = expected.errno ?? (expected.bytes ? 'bytes' : 'ok');
    let byResult = this.afters.get(op.kind);
    if (byResult === undefined) this.afters.set(op.kind, byResult = new Map());
    let key = byResult.get(result);
    if (key === undefined) {
      key = `t:${op.kind}:${result}`;
      byResult.set(result, key);
    }
    return key;
  },
};

export function runLockstep(impl: Implementation, profile: Profile, ops: readonly Op[], opts: RunOptions = {}): RunResult {
  const s = new Session(impl, profile, ops, opts);
  for (let i = 0; i < ops.length; i++) {
    s.sequential(ops[i], false);
    if (s.stopped) return s.result();
  }
  s.teardownAndQuiesce();
  return s.result();
}

/** Close every descriptor (highest first, so accepted sockets go before
 * their listener), then let every timer fire. */
export function teardownOps(openFds: number[]): Op[] {
  const out: Op[] = [];
  for (let i = openFds.length - 1; i >= 0; i--) out.push({ kind: 'close', fd: openFds[i] });
  out.push({ kind: 'expireAll' });
  return out;
}

const ascending = (a: number, b: number): number => a - b;

export function isRun(x: OpRun | Outcome): x is OpRun {
  return typeof x === 'object' && x !== null && typeof (x as { next?: unknown }).next === 'function';
}

export function crash(step: number, where: string, e: unknown): Failure {
  if (isA(e, HangError)) {
    return { oracle: 'hang', signature: `hang:${where}`, message: `the implementation did not return from ${where} within ${(e as HangError).bound} ms`, step };
  }
  if (isA(e, NoResult)) {
    return { oracle: 'crash', signature: `crash:${where}`, message: `the implementation passed ${(e as NoResult).points} preemption points in ${where} without returning a result: its generator yields forever`, step };
  }
  return { oracle: 'crash', signature: `crash:${where}`, message: `the implementation threw during ${where}: ${describeThrown(e)}`, step };
}

/** The reference history of the buffer a failure is about. */
export function historyOf(result: RunResult): readonly LedgerEvent[] {
  const h = result.failure?.violation?.handle;
  return h === undefined ? [] : result.ledger.history(h);
}
