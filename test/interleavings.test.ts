// Interleavings: bounded exhaustive scopes pass for linux and rfc-v1-fixed;
// every scheduler still finds the 2015 patch's race within its budget; the
// reported case is 1-minimal, replays exactly, and the repair holds on it.
import { describe, expect, it } from 'vitest';
import { checkDeterminism, EVERY_ORDER, searchConcurrent, sequentialFailure } from '../fuzz/concurrent-search.ts';
import { explore } from '../fuzz/explore.ts';
import type { SchedulerName } from '../properties/findings.ts';
import { SCOPES, scopeByName } from '../fuzz/scopes.ts';
import { isConcurrentValueMinimal, isOneMinimal, normalize, shrinkConcurrent } from '../fuzz/shrink-concurrent.ts';
import { contextSwitches } from '../properties/findings.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import { DEFAULT_PACKET } from '../model/packet.ts';
import { LINUX, RFC_V1, profileByName } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import { runConcurrent, type ConcurrentCase, replay } from '../properties/concurrent.ts';
import { linearize, type HistoryOp } from '../properties/linearizable.ts';
import { renderConcurrentFinding } from '../reports/text.ts';

const RACE = REPAIRS['unlocked-getsockopt-races'].signature;
const rfcV1 = bundledByName('rfc-v1')!;
const fixed = bundledByName('rfc-v1-fixed')!;

describe('bounded exhaustive exploration (up to 2 preemptions)', () => {
  for (const name of ['linux', 'rfc-v1-fixed']) {
    const impl = bundledByName(name)!;
    const profile = profileByName(impl.profile)!;
    for (const scope of SCOPES) {
      it(`${name}: ${scope.name} passes in every interleaving`, () => {
        const r = explore(impl, profile, scope.build(profile), { preemptions: 2, reduction: true });
        expect(r.failure?.failure?.message).toBeUndefined();
        expect(r.exhausted).toBe(true);
        expect(r.schedules).toBeGreaterThan(0);
      });
    }
  }

  it('rfc-v1: two readers of one socket race, and the exploration says where', () => {
    const scope = scopeByName('two-readers')!;
    const r = explore(rfcV1, RFC_V1, scope.build(RFC_V1), { preemptions: 1, reduction: true, stopAtFailure: true });
    expect(r.failure?.failure?.signature).toBe(RACE);
  });

  it('the reduction skips only reorderings of independent steps: same verdicts, fewer states', () => {
    for (const impl of [rfcV1, fixed]) {
      for (const scope of SCOPES) {
        const c = scope.build(RFC_V1);
        const full = explore(impl, RFC_V1, c, { preemptions: 2, reduction: false });
        const reduced = explore(impl, RFC_V1, c, { preemptions: 2, reduction: true });
        expect(reduced.failure?.failure?.signature, scope.name).toBe(full.failure?.failure?.signature);
        expect(reduced.states).toBeLessThanOrEqual(full.states);
      }
    }
    const c = scopeByName('readers-on-two-sockets')!.build(LINUX);
    const linux = bundledByName('linux')!;
    const full = explore(linux, LINUX, c, { preemptions: 2, reduction: false });
    const reduced = explore(linux, LINUX, c, { preemptions: 2, reduction: true });
    expect(reduced.states * 10).toBeLessThan(full.states);
  });
});

describe('rfc-v1: the unlocked getsockopt race is found by every scheduler', () => {
  const BUDGET = 2000;
  for (const scheduler of ['random', 'pct'] as SchedulerName[]) {
    it(`${scheduler} finds ${RACE} within ${BUDGET} cases; the case is 1-minimal, replays, and the repair holds`, () => {
      const { findings, runs } = searchConcurrent(rfcV1, RFC_V1, { seed: 7, runs: BUDGET, schedulers: [scheduler], only: RACE });
      expect(findings.map((f) => f.signature), `not found in ${runs} cases`).toEqual([RACE]);
      const f = findings[0];
      console.log(`${scheduler}: found after ${f.runsToFind} cases\n${renderConcurrentFinding(f, RFC_V1)}`);
      const fails = (c: ConcurrentCase): boolean => {
        const r = runConcurrent(rfcV1, RFC_V1, c);
        return r.failure?.signature === RACE && sequentialFailure(rfcV1, RFC_V1, c, r) === undefined;
      };
      expect(fails(f.case)).toBe(true);
      expect(isOneMinimal(rfcV1, RFC_V1, f.case, fails)).toBe(true);
      expect(isConcurrentValueMinimal(f.case, fails)).toBe(true);
      expect(f.case.threads).toHaveLength(2);
      expect(contextSwitches(f.case.schedule).length).toBeGreaterThan(0);
      expect(checkDeterminism(rfcV1, RFC_V1, f.case)).toBeUndefined();
      expect(runConcurrent(fixed, RFC_V1, f.case).failure).toBeUndefined();
    });
  }
});

describe('shrinking a race', () => {
  const fails = (c: ConcurrentCase): boolean => {
    const r = runConcurrent(rfcV1, RFC_V1, c);
    return r.failure?.signature === RACE && sequentialFailure(rfcV1, RFC_V1, c, r) === undefined;
  };
  // No payload: a SYN's data is a finding of its own on the 2015 patch.
  const packet = { ...DEFAULT_PACKET, family: 6 as const, mac: 'none' as const, timestamps: false };
  // T2 closes a descriptor that was never open, then reads with a zero-length
  // buffer and is preempted before putting the SYN back; T1's read then finds
  // none. Without the close's slot, the slot left over runs T2's read to its
  // end and there is no race; with the slot, the case is the race alone.
  // Fast Open on gives the listener, and so the child, tcp_sock_destruct():
  // without it the SYN left unread leaks at teardown, a worse finding.
  const padded: ConcurrentCase = {
    setup: [
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'listen', fd: 0, backlog: 3 }, { kind: 'setsockopt', fd: 0, optname: 26, value: 1 },
      { kind: 'syn', conn: 3, packet }, { kind: 'ack', conn: 3 }, { kind: 'accept', fd: 0 },
    ],
    threads: [
      { kind: 'user', ops: [{ kind: 'getsockopt', fd: 1, optname: 26, bufSize: 4096 }] },
      { kind: 'user', ops: [{ kind: 'close', fd: 5 }, { kind: 'getsockopt', fd: 1, optname: 26, bufSize: 0 }] },
    ],
    schedule: [1, 1, 1, 1, 1, 1, 0],
  };

  it('an op goes with the slots it took: removing both still races, so the padded case is not 1-minimal', () => {
    expect(fails(padded)).toBe(true);
    expect(isOneMinimal(rfcV1, RFC_V1, normalize(rfcV1, RFC_V1, padded), fails)).toBe(false);
    const shrunk = shrinkConcurrent(rfcV1, RFC_V1, padded, fails);
    expect(shrunk.threads.map((t) => t.ops.map((op) => op.kind))).toEqual([['getsockopt'], ['getsockopt']]);
    expect(isOneMinimal(rfcV1, RFC_V1, shrunk, fails)).toBe(true);
  });

  it('values shrink too, on a schedule that still replays the race: peer 1, a plain SYN, backlog 0, the smallest buffer that races', () => {
    const shrunk = shrinkConcurrent(rfcV1, RFC_V1, padded, fails);
    expect(fails(shrunk)).toBe(true);
    expect(isConcurrentValueMinimal(shrunk, fails)).toBe(true);
    expect(shrunk.setup).toEqual([
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'listen', fd: 0, backlog: 0 }, { kind: 'setsockopt', fd: 0, optname: 26, value: 1 },
      { kind: 'syn', conn: 1, packet: DEFAULT_PACKET }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
    ]);
    const sizes = shrunk.threads.map((t) => (t.ops[0].kind === 'getsockopt' ? t.ops[0].bufSize : undefined));
    expect(sizes).toEqual([0, 0]);
  });
});

describe('random and PCT interleavings of generated cases', () => {
  for (const name of ['linux', 'rfc-v1-fixed']) {
    it(`${name}: no race in 1500 generated cases`, () => {
      const impl = bundledByName(name)!;
      const { findings } = searchConcurrent(impl, profileByName(impl.profile)!, { seed: 11, runs: 1500, schedulers: ['random', 'pct'] });
      expect(findings.map((f) => f.signature)).toEqual([]);
    });
  }
});

describe('linearizability', () => {
  const spec = () => {
    const w = createSpec(LINUX);
    for (const op of [
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: 27, value: 1 },
      { kind: 'syn', conn: 1, packet: DEFAULT_PACKET }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
    ] as const) w.apply(op);
    return w;
  };
  const read = (id: number, thread: number, invoke: number, response: number, optlen: number): HistoryOp => {
    const bytes = optlen > 0 ? spec().socketOf(1)!.kept!.bytes : undefined;
    return {
      id, thread, invoke, response, op: { kind: 'getsockopt', fd: 1, optname: 28, bufSize: 100 },
      outcome: bytes ? { ret: 0, optlen, bytes } : { ret: 0, optlen: 0 },
    };
  };

  it('accepts two overlapping reads where either got the SYN, in either order of returning', () => {
    expect(linearize(spec(), [[read(0, 0, 0, 5, 60)], [read(1, 1, 1, 3, 0)]]).ok).toBe(true);
    expect(linearize(spec(), [[read(0, 0, 0, 5, 0)], [read(1, 1, 1, 3, 60)]]).ok).toBe(true);
  });

  it('rejects an order real time rules out: the second read started after the first returned empty-handed', () => {
    expect(linearize(spec(), [[read(0, 0, 0, 2, 0)], [read(1, 1, 3, 4, 60)]]).ok).toBe(false);
  });

  it('rejects two reads that both got the SYN', () => {
    expect(linearize(spec(), [[read(0, 0, 0, 5, 60)], [read(1, 1, 1, 3, 60)]]).ok).toBe(false);
  });

  it('handles 4 threads of 6 operations by memoising on the spec state', () => {
    const threads: HistoryOp[][] = [];
    let id = 0;
    for (let t = 0; t < 4; t++) {
      const ops: HistoryOp[] = [];
      for (let i = 0; i < 6; i++) {
        ops.push({ id: id++, thread: t, invoke: i * 10, response: i * 10 + 9, op: { kind: 'getsockopt', fd: 0, optname: 27, bufSize: 4 }, outcome: { ret: 0, optlen: 4, bytes: new Uint8Array([1, 0, 0, 0]) } });
      }
      threads.push(ops);
    }
    const r = linearize(spec(), threads);
    expect(r.ok).toBe(true);
    // Without memoisation the orders number 24!/(6!^4); with it, a few hundred states.
    expect(r.explored).toBeLessThan(2000);
  });
});

describe('determinism', () => {
  it('a generated failure replays from its JSON, step for step', () => {
    const scope = scopeByName('two-readers')!;
    const r = explore(rfcV1, RFC_V1, scope.build(RFC_V1), { preemptions: 1, reduction: false, stopAtFailure: true });
    const c: ConcurrentCase = { ...scope.build(RFC_V1), schedule: r.failure!.schedule };
    expect(checkDeterminism(rfcV1, RFC_V1, c)).toBeUndefined();
    const again = runConcurrent(rfcV1, RFC_V1, JSON.parse(JSON.stringify(c)) as ConcurrentCase);
    expect(again.trace).toEqual(r.failure!.trace);
  });
});

describe('a failure that some one-at-a-time order shows is not reported as a race', () => {
  // Found by a campaign: four threads, 630 merges of their ops, failing
  // only because the child's flag is copied at accept(); the irrelevant
  // fourth thread is what took it past the search's quick check.
  const fourThreads = JSON.parse('{"setup":[{"kind":"listen","fd":0,"backlog":1},{"kind":"syn","conn":5,"packet":{"family":4,"mac":"loopback","ipOptions":false,"mss":true,"sackPermitted":true,"timestamps":true,"windowScale":true,"fastOpen":"none","payload":0}}],"threads":[{"kind":"user","ops":[{"kind":"setsockopt","fd":0,"optname":26,"value":1},{"kind":"close","fd":0}]},{"kind":"user","ops":[{"kind":"getsockopt","fd":0,"optname":26,"bufSize":0},{"kind":"accept","fd":0}]},{"kind":"softirq","ops":[{"kind":"ack","conn":5}]},{"kind":"softirq","ops":[{"kind":"ack","conn":1},{"kind":"rst","conn":1}]}],"schedule":[1,1,1,1,2,2,0]}') as ConcurrentCase;

  it('every merge is tried once before a race is reported', () => {
    const r = runConcurrent(rfcV1, RFC_V1, fourThreads);
    expect(r.failure?.signature).toBe('state:concurrent:flag');
    expect(sequentialFailure(rfcV1, RFC_V1, fourThreads, r, EVERY_ORDER)).toBe('state:accept:flag');
  });

  it('a search mutating it reports no race', () => {
    const { findings, runs } = searchConcurrent(rfcV1, RFC_V1, {
      seed: 1, runs: 300, schedulers: ['random', 'pct'], only: 'state:concurrent:flag', guide: { corpus: [fourThreads], weights: [1] },
    });
    expect(runs).toBe(300);
    expect(findings).toEqual([]);
  });
});

describe('linux: the CPU that built a child queues it', () => {
  // Found by a campaign: CPU 1 builds peer 5's child and is preempted before
  // queueing it; CPU 2's copy of the ACK finds the child in the established
  // hash and does nothing, then builds and queues peer 3's child, which
  // accept() gets first. The spec once let CPU 2's ACK queue CPU 1's child.
  const c = JSON.parse('{"setup":[{"kind":"listen","fd":0,"backlog":1},{"kind":"setsockopt","fd":0,"optname":27,"value":1},{"kind":"syn","conn":5,"packet":{"family":4,"mac":"loopback","ipOptions":false,"mss":true,"sackPermitted":true,"timestamps":true,"windowScale":true,"fastOpen":"none","payload":0}}],"threads":[{"kind":"user","ops":[{"kind":"accept","fd":0}]},{"kind":"softirq","ops":[{"kind":"syn","conn":3,"packet":{"family":4,"mac":"loopback","ipOptions":false,"mss":true,"sackPermitted":true,"timestamps":true,"windowScale":true,"fastOpen":"none","payload":0}},{"kind":"ackRetransmit","conn":5}]},{"kind":"softirq","ops":[{"kind":"ackRetransmit","conn":5},{"kind":"cookieAck","conn":3}]}],"schedule":[1,1,1,1,1,1,2]}') as ConcurrentCase;
  it('the history is explained, and accept() gets peer 3', () => {
    const r = runConcurrent(bundledByName('linux')!, LINUX, c);
    expect(r.failure?.message).toBeUndefined();
    expect(r.history.find((h) => h.op.kind === 'accept')?.outcome).toEqual({ ret: 1 });
    expect(r.order?.map((h) => h.op.kind)).toContain('cookieAck');
  });
});

describe('a close that moves a group member\'s children, while an accept holds its file', () => {
  // Found by a sweep of 200,000 concurrent cases: the last close of a
  // listener with migration on is split in two, and an accept() that took
  // the file through a dup before the close keeps the socket, its queue and
  // what migration would move, until it returns.
  const CASES: ConcurrentCase[] = [
    {"setup":[{"kind":"sysctl","name":"tcp_migrate_req","value":1},{"kind":"reuseport","fd":0},{"kind":"listen","fd":0,"backlog":0},{"kind":"socket"},{"kind":"syn","conn":1,"packet":{"family":4,"mac":"loopback","ipOptions":false,"mss":true,"sackPermitted":true,"timestamps":true,"windowScale":true,"fastOpen":"none","payload":0}},{"kind":"dup","fd":0}],"threads":[{"kind":"user","ops":[{"kind":"close","fd":0},{"kind":"close","fd":2}]},{"kind":"user","ops":[{"kind":"accept","fd":2}]},{"kind":"softirq","ops":[{"kind":"ack","conn":1}]}],"schedule":[1,0,0,0,2]} as ConcurrentCase,
    {"setup":[{"kind":"sysctl","name":"tcp_migrate_req","value":1},{"kind":"reuseport","fd":0},{"kind":"listen","fd":0,"backlog":1},{"kind":"setsockopt","fd":0,"optname":27,"value":1},{"kind":"socket"},{"kind":"reuseport","fd":1},{"kind":"bind","fd":1},{"kind":"listen","fd":1,"backlog":0},{"kind":"syn","conn":1,"packet":{"family":4,"mac":"loopback","ipOptions":false,"mss":true,"sackPermitted":true,"timestamps":true,"windowScale":true,"fastOpen":"none","payload":0}},{"kind":"ack","conn":1},{"kind":"syn","conn":2,"packet":{"family":4,"mac":"loopback","ipOptions":false,"mss":true,"sackPermitted":true,"timestamps":true,"windowScale":true,"fastOpen":"none","payload":0}},{"kind":"dup","fd":0}],"threads":[{"kind":"user","ops":[{"kind":"close","fd":0},{"kind":"close","fd":2}]},{"kind":"user","ops":[{"kind":"accept","fd":2},{"kind":"accept","fd":1}]},{"kind":"softirq","ops":[{"kind":"ack","conn":2}]}],"schedule":[1,0,0,0,2]} as ConcurrentCase
  ];
  it('is explained: the socket goes when the accept returns, as the kernel has it', () => {
    for (const c of CASES) {
      const r = runConcurrent(bundledByName('linux')!, LINUX, c, replay(c.schedule));
      expect(r.failure, r.failure?.message).toBeUndefined();
    }
  });
});
