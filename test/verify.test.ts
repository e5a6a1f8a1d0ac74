// savedsyn verify: exhaustive to a depth, with canonical states, the
// shortest counterexample of each signature, replayable, and a certificate
// whose counts do not drift.

import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, main } from '../cli/main.ts';
import { describe, expect, it } from 'vitest';
import { verify } from '../api/verify.ts';
import { DEFAULT_BOUNDS, keptSizes, sentCodes, type AlphabetKind, type VerifyBounds } from '../fuzz/verify/alphabet.ts';
import { Bfs, type Node } from '../fuzz/verify/bfs.ts';
import { commute } from '../fuzz/verify/independence.ts';
import { explorePairs } from '../fuzz/verify/pairs.ts';
import { linuxFeature } from '../model/impl/linux.ts';
import { kernelOf, stackImplementation } from '../model/impl/stack/adapter.ts';
import type { Implementation } from '../model/impl/types.ts';
import type { Profile } from '../model/profile.ts';
import { contextSwitches } from '../properties/findings.ts';
import { replay as replayChooser, runConcurrent, type ConcurrentCase, type Judgements } from '../properties/concurrent.ts';
import { stateFingerprint } from '../fuzz/verify/canonical.ts';
import { Fingerprint } from '../fuzz/verify/fingerprint.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { TCP_SAVE_SYN, type Op } from '../model/ops.ts';
import { LINUX, RFC_V1 } from '../model/profile.ts';
import { runLockstep, Session } from '../properties/lockstep.ts';
import { decodeToken } from '../reports/token.ts';
import { MUTANTS, mutant } from './mutant-defs.ts';
import { SAVEDSYN } from './built.ts';

const COMMITTED = new URL('../reports/rfc-v1/', import.meta.url);

/** The committed single-thread findings: signature and case length. */
function committedSequential(): Array<{ signature: string; length: number }> {
  const out: Array<{ signature: string; length: number }> = [];
  for (const f of readdirSync(COMMITTED).filter((x) => x.endsWith('.json'))) {
    const r = JSON.parse(readFileSync(new URL(f, COMMITTED), 'utf8')) as { signature: string; token: string };
    const c = decodeToken(r.token);
    if (c.kind === 'sequential') out.push({ signature: r.signature, length: c.ops.length });
  }
  return out;
}

function fingerprintAfter(ops: Op[]): number {
  const impl = bundledByName('linux')!;
  const s = new Session(impl, LINUX, ops);
  for (const op of ops) expect(s.sequential(op, false)).toBeUndefined();
  const peers = ops.reduce((n, op) => ('conn' in op ? Math.max(n, op.conn) : n), 0);
  return stateFingerprint(new Fingerprint(), s, ops, peers, sentCodes(ops));
}

describe('canonical states', () => {
  it('a socket opened and closed leaves the initial state, whatever it allocated', () => {
    expect(fingerprintAfter([{ kind: 'socket' }, { kind: 'close', fd: 1 }])).toBe(fingerprintAfter([]));
  });

  it('two orders of independent ops reach one state; a different state differs', () => {
    const a: Op = { kind: 'listen', fd: 0, backlog: 0 };
    const b: Op = { kind: 'sysctl', name: 'tcp_syncookies', value: 2 };
    expect(fingerprintAfter([a, b])).toBe(fingerprintAfter([b, a]));
    expect(fingerprintAfter([a])).not.toBe(fingerprintAfter([b]));
    expect(fingerprintAfter([{ kind: 'listen', fd: 0, backlog: 1 }])).not.toBe(fingerprintAfter([a]));
  });

  it('which of two IPv6 groups started listening first is state: it decides which group an IPv6 SYN meets', () => {
    const v6only: Op[] = [{ kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 0 }];
    const dual: Op[] = [{ kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 0 }];
    const socket: Op = { kind: 'socket', v6only: 1 };
    expect(fingerprintAfter([socket, ...v6only, ...dual])).not.toBe(fingerprintAfter([socket, ...dual, ...v6only]));
  });

  it('buffers are renamed: a SYN refused and one kept later match one kept at once', () => {
    const setup: Op[] = [{ kind: 'listen', fd: 0, backlog: 0 }, { kind: 'setsockopt', fd: 0, optname: LINUX.setOpt, value: 1 }];
    const syn: Op = { kind: 'syn', conn: 1, packet: { family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'none', payload: 0 } };
    const reset: Op = { kind: 'rst', conn: 1 };
    // The first SYN's buffers are freed by the reset; the second SYN's copy
    // has other handle numbers but the same place in the state.
    expect(fingerprintAfter([...setup, syn, reset, syn])).toBe(fingerprintAfter([...setup, syn]));
  });
});

/** Each plain field (a number, a boolean, a string, an unset number) of
 * `objects`, changed in turn: the fingerprint must tell every change
 * apart from the state as it was, unless the field is in `renamed` (an
 * allocation number, renamed by first appearance). */
function fieldsNotHashed(objects: readonly object[], renamed: readonly string[], print: () => number): string[] {
  const before = print();
  const missed = new Set<string>();
  for (const o of objects) {
    const rec = o as Record<string, unknown>;
    for (const k of Object.keys(rec)) {
      const v = rec[k];
      if (renamed.includes(k) || (v !== undefined && typeof v === 'object')) continue;
      const tries: unknown[] = typeof v === 'boolean' ? [!v]
        : typeof v === 'number' ? [v + 1, v - 1, v + 100]
        : typeof v === 'string' ? ['another', 'tcp_sock_destruct', 'inet_sock_destruct', 'inet', 'inet6']
        : [0, 1];
      let seen = false;
      for (const t of tries) {
        if (t === v) continue;
        rec[k] = t;
        if (print() !== before) seen = true;
        rec[k] = v;
      }
      if (!seen) missed.add(k);
    }
  }
  expect(print()).toBe(before);
  return [...missed].sort();
}

describe('canonical states hash every field', () => {
  // A state with a listener, a request, an accepted child, a queued child
  // and a Fast Open listener: every kind of object, most fields set.
  const syn = (conn: number): Op => ({ kind: 'syn', conn, packet: { family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'none', payload: 0 } });
  const ops: Op[] = [
    { kind: 'sysctl', name: 'tcp_fastopen', value: 2 },
    { kind: 'listen', fd: 0, backlog: 2 }, { kind: 'setsockopt', fd: 0, optname: LINUX.setOpt, value: 1 },
    syn(1), { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, syn(2), { kind: 'ack', conn: 2 }, syn(3),
  ];
  const s = new Session(bundledByName('linux')!, LINUX, ops);
  for (const op of ops) s.sequential(op, false);
  const print = (): number => stateFingerprint(new Fingerprint(), s, ops, 3, sentCodes(ops));

  it('the spec\'s sockets', () => {
    expect(s.spec.sockets.length).toBeGreaterThanOrEqual(3);
    // listenedAt is a count, hashed as an order where the order decides
    // anything (two IPv6 groups), which this state has not.
    expect(fieldsNotHashed(s.spec.sockets, ['id', 'listenedAt'], print)).toEqual([]);
  });

  it('the stack\'s sockets and requests', () => {
    const k = kernelOf.get(s.instance)!;
    const reqs = [...k.requests.values(), ...k.socks.flatMap((sk) => sk.acceptQueue.map((e) => e.req))];
    expect(reqs.length).toBeGreaterThanOrEqual(2);
    expect(fieldsNotHashed(k.socks, ['id', 'listenedAt'], print)).toEqual([]);
    expect(fieldsNotHashed(reqs, ['id'], print)).toEqual([]);
  });
});

describe('verify on the bundled implementations', () => {
  // The certificate's counts at a small depth: a change here is a change in
  // what the alphabet offers, in the implementations or in the hash, and
  // must be understood before these numbers are updated.
  const EXPECTED: Record<string, { states: number; transitions: number; perDepth: number[] }> = {
    'rfc-v1': { states: 621, transitions: 5617, perDepth: [1, 14, 98, 508] },
    'rfc-v1-fixed': { states: 542, transitions: 5020, perDepth: [1, 13, 87, 441] },
    linux: { states: 826, transitions: 8023, perDepth: [1, 16, 122, 687] },
  };
  for (const [name, want] of Object.entries(EXPECTED)) {
    it(`${name}: depth 3, stable state count`, async () => {
      const r = await verify(name, { depth: 3, pairDepth: -1, workers: 0 });
      expect(r.depthCompleted).toBe(3);
      expect({ states: r.states, transitions: r.transitions, perDepth: r.statesPerDepth }).toEqual(want);
      expect(r.certificate).toContain(`distinct states  ${want.states}`);
      expect(r.certificate).toContain('depth completed  3 of 3');
      if (name !== 'rfc-v1') {
        expect(r.findings).toEqual([]);
        expect(r.certificate).toMatch(/^savedsyn verify: no counterexample in any sequence of at most 3 ops/);
      }
    });
  }

  it('branches by copies, going on from a copy an op left unchanged, and finds exactly what replaying every path finds', () => {
    // rfc-v1 fails at depths 1 and 4, two mutants leak or free twice at 3
    // and 4: failures after a copy was gone on from must keep their steps.
    const byName = (name: string) => mutant(MUTANTS.find((m) => m.name === name)!);
    const cases: Array<[Implementation, Profile, boolean]> = [
      [bundledByName('rfc-v1')!, RFC_V1, true], [bundledByName('linux')!, LINUX, false],
      [byName('the request never frees its copy'), LINUX, true], [byName('the destructor frees the copy twice'), LINUX, true],
    ];
    for (const [impl, profile, fails] of cases) {
      const run = (branching: 'fork' | 'replay') => {
        const r = new Bfs(impl, profile, { ...DEFAULT_BOUNDS, depth: 4 }, -1, branching).run();
        return { ...r, failures: r.failures.map((f) => ({ signature: f.signature, ops: f.ops, step: f.step, transition: f.transition })) };
      };
      const forked = run('fork');
      expect(forked.failures.length > 0, impl.description).toBe(fails);
      expect(forked, impl.description).toEqual(run('replay'));
    }
  });

  it('finds each committed rfc-v1 finding, no longer than the committed case, with a token that replays it', () => {
    const committed = committedSequential();
    expect(committed.length).toBeGreaterThanOrEqual(3);
    const bfs = new Bfs(bundledByName('rfc-v1')!, RFC_V1, { ...DEFAULT_BOUNDS, depth: Math.max(...committed.map((c) => c.length)) });
    const r = bfs.run({ stopWhen: (found) => committed.every((c) => found.has(c.signature)) });
    for (const c of committed) {
      const f = r.failures.find((x) => x.signature === c.signature);
      expect(f, c.signature).toBeDefined();
      expect(f!.ops.length, c.signature).toBeLessThanOrEqual(c.length);
      expect(runLockstep(bundledByName('rfc-v1')!, RFC_V1, f!.ops).failure?.signature).toBe(c.signature);
    }
  });

  it('finds each committed rfc-v1 race, five and six ops deep, with the default pair depth: from the first state to show the socket as its options see it', async () => {
    const committed = readdirSync(COMMITTED).filter((x) => x.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(new URL(f, COMMITTED), 'utf8')) as { signature: string; token: string })
      .map((r) => ({ signature: r.signature, c: decodeToken(r.token) }))
      .flatMap((r) => (r.c.kind === 'concurrent' ? [{ signature: r.signature, size: r.c.case.setup.length + r.c.case.threads.reduce((n, t) => n + t.ops.length, 0) }] : []));
    expect(committed.length).toBeGreaterThanOrEqual(2);
    const r = await verify('rfc-v1', {
      depth: 6, workers: 0, kinds: ['listen=0', 'setsockopt=1', 'syn', 'ack', 'accept', 'getsockopt', 'tcp_fastopen=1'],
    });
    // Every pair from the states up to depth 3 only: the races lie deeper.
    expect(r.pairs).toMatchObject({ from: 0, depth: 3 });
    expect(r.pairs!.optionStates).toBeGreaterThan(0);
    // A signature a single thread shows is reported there alone.
    const single = new Set(r.findings.map((f) => f.signature));
    expect(single.size).toBeGreaterThan(0);
    expect(r.races.filter((x) => single.has(x.signature))).toEqual([]);
    for (const c of committed) {
      const race = r.races.find((x) => x.signature === c.signature);
      expect(race, `${c.signature} among ${r.races.map((x) => x.signature).join(', ')}`).toBeDefined();
      expect(race!.case.setup.length + race!.case.threads.reduce((n, t) => n + t.ops.length, 0)).toBeLessThanOrEqual(c.size);
      const replayed = decodeToken(race!.token);
      if (replayed.kind !== 'concurrent') throw new Error('a race replays as a concurrent case');
      expect(runConcurrent(bundledByName('rfc-v1')!, RFC_V1, replayed.case).failure?.signature).toBe(c.signature);
    }
  });

  it('a counterexample is the shortest: nothing shorter fails the same way', async () => {
    const r = await verify('rfc-v1', { depth: 1, pairDepth: -1 });
    expect(r.findings.map((f) => [f.signature, f.ops.length])).toEqual([['state:setsockopt:flag', 1]]);
    const c = decodeToken(r.findings[0].token);
    expect(c).toMatchObject({ kind: 'sequential', impl: 'rfc-v1', profile: 'rfc-v1' });
    // And the empty sequence, the only shorter one, passes.
    expect(runLockstep(bundledByName('rfc-v1')!, RFC_V1, []).failure).toBeUndefined();
  });

  it('branching by copying a session explores exactly what replaying the path does', () => {
    for (const name of ['rfc-v1', 'linux']) {
      const impl = bundledByName(name)!;
      const profile = impl.profile === 'linux' ? LINUX : RFC_V1;
      const [fork, replay] = (['fork', 'replay'] as const).map((b) => new Bfs(impl, profile, { ...DEFAULT_BOUNDS, depth: 3 }, -1, b).run());
      expect(fork).toEqual(replay);
    }
  });

  it('finds the same on two worker threads as on this one', async () => {
    const one = await verify('rfc-v1', { depth: 2, pairDepth: 0, workers: 0 });
    const two = await verify('rfc-v1', { depth: 2, pairDepth: 0, workers: 2 });
    expect(one.pairs?.pairs).toBeGreaterThan(0);
    expect(one.pairs?.optionStates).toBeGreaterThan(0);
    const strip = (r: typeof one): unknown => ({ ...r, seconds: 0, certificate: r.certificate.replace(/\n {2}time .*$/m, '') });
    expect(strip(two)).toEqual(strip(one));
    expect(one.states).toBe(113);
  });

  it('finds the same on worker threads as on this one when a peer sends SYNs of two shapes', async () => {
    // A path sent to a worker is a copy: its SYNs must still be told apart
    // by shape, or the oracles there know of another SYN than was sent.
    const bounds = { depth: 4, shapes: 2, pairDepth: -1, kinds: ['listen', 'setsockopt=1', 'syn', 'ack', 'accept'] as AlphabetKind[] };
    const strip = (r: Awaited<ReturnType<typeof verify>>): unknown => ({ ...r, seconds: 0, certificate: r.certificate.replace(/\n {2}time .*$/m, '') });
    const one = await verify('linux', { ...bounds, workers: 0 });
    expect(one.findings).toEqual([]);
    expect(strip(await verify('linux', { ...bounds, workers: 1 }))).toEqual(strip(one));
  });

  it('finds the same on two worker threads when a level is cut into many chunks', async () => {
    // Depth 4 holds 2,336 states: the last level is sent in three chunks,
    // whose answers may come back in any order.
    const one = await verify('rfc-v1', { depth: 5, pairDepth: -1, workers: 0 });
    const two = await verify('rfc-v1', { depth: 5, pairDepth: -1, workers: 2 });
    expect(one.statesPerDepth[4]).toBeGreaterThan(2048);
    const strip = (r: typeof one): unknown => ({ ...r, seconds: 0, certificate: r.certificate.replace(/\n {2}time .*$/m, '') });
    expect(strip(two)).toEqual(strip(one));
  });

  it('a time budget stops at a depth boundary and says so', async () => {
    const r = await verify('linux', { depth: 30, timeBudget: 1, pairDepth: -1 });
    expect(r.outOfTime).toBe(true);
    expect(r.depthCompleted).toBeLessThan(30);
    expect(r.certificate).toContain(`depth completed  ${r.depthCompleted} of 30 (stopped by the time budget)`);
  });
});

describe('branching by copying a state or by replaying its path', () => {
  // Replayed, an op runs on in the session the last op left unchanged, as
  // a copied one does: what either finds, and in what order, is the same.
  for (const name of ['rfc-v1', 'linux']) {
    it(`${name}: the same states, transitions and counterexamples either way`, () => {
      const impl = bundledByName(name)!;
      const profile = name === 'linux' ? LINUX : RFC_V1;
      const seen = (branching: 'fork' | 'replay'): unknown => {
        const r = new Bfs(impl, profile, { ...DEFAULT_BOUNDS, depth: 4 }, -1, branching).run();
        return { ...r, failures: r.failures.map((f) => ({ ...f })) };
      };
      const copied = seen('fork') as { failures: unknown[]; states: number };
      expect(seen('replay')).toEqual(copied);
      expect(copied.states).toBeGreaterThan(1000);
      if (name === 'rfc-v1') expect(copied.failures.length).toBeGreaterThan(0);
    });
  }
});

describe('verify finds planted defects with a shortest counterexample', () => {
  // A sample of the single-thread mutants, each at the depth its shortest
  // counterexample needs.
  const SAMPLE: Array<[string, number]> = [
    ['the request never frees its copy', 3],
    ['the destructor frees the copy twice', 4],
    ['the request keeps a reference it handed on', 4],
  ];
  for (const [name, depth] of SAMPLE) {
    it(name, () => {
      const m = MUTANTS.find((x) => x.name === name)!;
      const r = new Bfs(mutant(m), LINUX, { ...DEFAULT_BOUNDS, depth }).run({ stopWhen: (f) => f.size > 0 });
      expect(r.failures.length, `nothing found to depth ${depth}`).toBeGreaterThan(0);
      expect(r.failures[0].oracle).toBe(m.oracle);
      expect(r.failures[0].ops.length).toBe(depth);
      // One op shorter, nothing fails.
      const shorter = new Bfs(mutant(m), LINUX, { ...DEFAULT_BOUNDS, depth: depth - 1 }).run();
      expect(shorter.failures).toEqual([]);
    });
  }
});

/** The state after `ops`, as the explorer keeps it. */
function nodeAfter(impl: Implementation, profile: Profile, ops: Op[], bounds: VerifyBounds = DEFAULT_BOUNDS): Node {
  let node: Node | undefined;
  for (let n = 0; n <= ops.length; n++) {
    const s = new Session(impl, profile, ops.slice(0, n));
    for (const op of ops.slice(0, n)) expect(s.sequential(op, false)).toBeUndefined();
    const open = s.spec.openFds().filter((fd) => fd < bounds.fds);
    node = {
      parent: node, op: n === 0 ? undefined : ops[n - 1], depth: n, peersUsed: ops.slice(0, n).reduce((p, op) => ('conn' in op ? Math.max(p, op.conn) : p), 0),
      sent: sentCodes(ops.slice(0, n)), sending: ops.slice(0, n).filter((op) => op.kind === 'syn' || op.kind === 'fastOpenSyn'),
      kept: keptSizes(s.spec, bounds), open, listening: open.filter((fd) => s.spec.socketOf(fd)?.tcpState === 'LISTEN'),
    };
  }
  return node!;
}

const SYN = (conn: number): Op => ({ kind: 'syn', conn, packet: { family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'none', payload: 0 } });

describe('pairs of ops on two threads', () => {
  it('ops on different fields of one socket commute; ops on the same field do not', () => {
    const c = commute(LINUX);
    const readFlag: Op = { kind: 'getsockopt', fd: 1, optname: LINUX.flagOpt!, bufSize: 4 };
    const readSyn: Op = { kind: 'getsockopt', fd: 1, optname: LINUX.readOpt, bufSize: 4096 };
    const setFlag: Op = { kind: 'setsockopt', fd: 1, optname: LINUX.setOpt, value: 1 };
    expect(c(readFlag, readSyn)).toBe(true);
    expect(c(readFlag, readFlag)).toBe(true);
    expect(c(readSyn, readSyn)).toBe(false);
    expect(c(setFlag, readFlag)).toBe(false);
    expect(c(setFlag, { ...setFlag, fd: 0 })).toBe(true);
    expect(c(readSyn, { kind: 'close', fd: 0 })).toBe(false);
    expect(c({ kind: 'ack', conn: 1 }, readFlag)).toBe(false);
    // A sysctl is read by listen, close, packets and timers only.
    const cookies: Op = { kind: 'sysctl', name: 'tcp_syncookies', value: 2 };
    expect(c(cookies, setFlag)).toBe(true);
    expect(c(cookies, readSyn)).toBe(true);
    expect(c(cookies, { ...cookies, value: 0 })).toBe(false);
    expect(c(cookies, SYN(1))).toBe(false);
    expect(c(cookies, { kind: 'listen', fd: 0, backlog: 1 })).toBe(false);
  });

  it('descriptors dup() made are one socket to the independence relation', () => {
    const readSyn = (fd: number): Op => ({ kind: 'getsockopt', fd, optname: LINUX.readOpt, bufSize: 4096 });
    expect(commute(LINUX)(readSyn(0), readSyn(1))).toBe(true);
    // fd 1 is a dup of fd 0: two readers of one socket's SYN race.
    expect(commute(LINUX, () => 0)(readSyn(0), readSyn(1))).toBe(false);
  });

  it('finds the committed rfc-v1 race from the state it needs, no longer and with no more context switches', () => {
    const committed = readdirSync(COMMITTED).filter((x) => x.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(new URL(f, COMMITTED), 'utf8')) as { signature: string; token: string })
      .map((r) => ({ signature: r.signature, c: decodeToken(r.token) }))
      .find((r) => r.c.kind === 'concurrent')!;
    if (committed.c.kind !== 'concurrent') throw new Error('no committed race');
    const rfc = bundledByName('rfc-v1')!;
    const node = nodeAfter(rfc, RFC_V1, committed.c.case.setup);
    const r = explorePairs(rfc, RFC_V1, DEFAULT_BOUNDS, { depth: node.depth, from: 0, preemptions: 3 }, [node], { stopWhen: (f) => f.has(committed.signature) });
    const race = r.failures.find((f) => f.signature === committed.signature);
    expect(race, r.failures.map((f) => f.signature).join(', ')).toBeDefined();
    const size = (c: { setup: Op[]; threads: { ops: Op[] }[] }): number => c.setup.length + c.threads.reduce((n, t) => n + t.ops.length, 0);
    expect(size(race!.case)).toBeLessThanOrEqual(size(committed.c.case));
    // Context switches as the committed schedule runs (a replay keeps the
    // current thread where the schedule is silent).
    const committedRun = runConcurrent(rfc, RFC_V1, committed.c.case);
    expect(committedRun.failure?.signature).toBe(committed.signature);
    expect(race!.contextSwitches).toBeLessThanOrEqual(contextSwitches(committedRun.schedule).length);
    // Both one-at-a-time orders pass: it is a race.
    const [a, b] = race!.case.threads.map((t) => t.ops[0]);
    expect(runLockstep(rfc, RFC_V1, [...race!.case.setup, a, b]).failure).toBeUndefined();
    expect(runLockstep(rfc, RFC_V1, [...race!.case.setup, b, a]).failure).toBeUndefined();
  });

  it('finds the planted two-CPU own_req defect from the state after a SYN, with the queue observed', () => {
    const m = MUTANTS.find((x) => x.lane === 'concurrent')!;
    const impl = mutant(m);
    const node = nodeAfter(impl, LINUX, [{ kind: 'listen', fd: 0, backlog: 0 }, { kind: 'setsockopt', fd: 0, optname: LINUX.setOpt, value: 1 }, SYN(1)]);
    const r = explorePairs(impl, LINUX, DEFAULT_BOUNDS, { depth: 3, from: 0, preemptions: 3 }, [node], { stopWhen: (f) => f.size > 0 });
    expect(r.failures.map((f) => f.oracle)).toEqual([m.oracle]);
    expect(r.failures[0].case.threads.slice(0, 2).map((t) => t.ops)).toEqual([[{ kind: 'ack', conn: 1 }], [{ kind: 'ack', conn: 1 }]]);
  });

  it('a pair that makes a descriptor is followed by a read through it: a dup racing the last close is found', () => {
    const m = MUTANTS.find((x) => x.name === 'a dup racing the last close installs a released file')!;
    const impl = mutant(m);
    const bounds: VerifyBounds = { ...DEFAULT_BOUNDS, fds: 3, kinds: ['close', 'dup'] };
    const setup: Op[] = [
      { kind: 'listen', fd: 0, backlog: 0 }, { kind: 'setsockopt', fd: 0, optname: LINUX.setOpt, value: 1 }, SYN(1), { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
    ];
    const r = explorePairs(impl, LINUX, bounds, { depth: 5, from: 0, preemptions: 3 }, [nodeAfter(impl, LINUX, setup, bounds)], { stopWhen: (f) => f.size > 0 });
    expect(r.failures.map((f) => f.signature)).toEqual(['crash:getsockopt']);
    const threads = r.failures[0].case.threads;
    expect(threads.slice(0, 2).map((t) => t.ops[0].kind).sort()).toEqual(['close', 'dup']);
    // The read comes after both ops have returned.
    expect(threads[2].ops).toEqual([{ kind: 'getsockopt', fd: 2, optname: LINUX.readOpt, bufSize: 4096 }]);
    // Both ops returned; the read through the new descriptor then meets a
    // released file.
    const result = r.failures[0].result;
    expect(result.history.filter((h) => h.thread !== 2).map((h) => h.op.kind).sort()).toEqual(['close', 'dup']);
    expect(r.failures[0].message).toMatch(/getsockopt: NULL pointer dereference: the descriptor's file was released/);
  });

  it('pairs on two descriptors of one socket are raced; on two sockets, their options commute', () => {
    const impl = bundledByName('linux')!;
    const bounds: VerifyBounds = { ...DEFAULT_BOUNDS, kinds: ['getsockopt', 'setsockopt'] };
    const run = (ops: Op[]) => explorePairs(impl, LINUX, bounds, { depth: 1, from: 0, preemptions: 3 }, [nodeAfter(impl, LINUX, ops, bounds)]);
    const dup = run([{ kind: 'dup', fd: 0 }]);
    const two = run([{ kind: 'socket' }]);
    expect(dup.pairs + dup.commuting).toBe(two.pairs + two.commuting);
    expect(dup.pairs).toBeGreaterThan(two.pairs);
  });

  it('a judgement kept for one history of a case is not taken for another', () => {
    const rfc = bundledByName('rfc-v1')!;
    const c: ConcurrentCase = {
      setup: [{ kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'listen', fd: 0, backlog: 0 }, { kind: 'setsockopt', fd: 0, optname: RFC_V1.setOpt, value: 1 }, SYN(1), { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }],
      threads: [0, 1].map(() => ({ kind: 'user' as const, ops: [{ kind: 'getsockopt', fd: 1, optname: RFC_V1.readOpt, bufSize: -1 } as Op] })),
      schedule: [],
    };
    // The second reader runs inside the first's call both times, in the
    // same real-time order: before the first took the SYN (both E2BIG),
    // then after (-ENOENT, the race); then one reader after the other.
    const schedules = [[0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]];
    const judged: Judgements = new Map();
    const verdicts = schedules.map((sc) => runConcurrent(rfc, RFC_V1, c, replayChooser(sc), {}, judged).failure?.signature);
    expect(verdicts).toEqual(schedules.map((sc) => runConcurrent(rfc, RFC_V1, c, replayChooser(sc)).failure?.signature));
    expect(verdicts).toEqual([undefined, 'linearizability:getsockopt:ENOENT', undefined]);
    expect(judged.size).toBeGreaterThan(0);
  });

  it('a judgement kept for one real-time order is not taken for another with the same results', () => {
    // Reading the flag always gives 0: right only if the read is ordered
    // before the setsockopt, which real time allows when the two overlap
    // and forbids when the setsockopt returned first.
    const staleFlag = stackImplementation({
      name: 'stale-flag', profile: 'linux', description: 'reads the save-SYN flag as 0', feature: {
        ...linuxFeature,
        *getsockopt(k, t, sk, optname, user) {
          const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
          return optname === TCP_SAVE_SYN && out?.bytes !== undefined ? { ...out, bytes: new Uint8Array(out.bytes.length) } : out;
        },
      },
    });
    const c: ConcurrentCase = {
      setup: [],
      threads: [
        { kind: 'user', ops: [{ kind: 'setsockopt', fd: 0, optname: TCP_SAVE_SYN, value: 1 }] },
        { kind: 'user', ops: [{ kind: 'getsockopt', fd: 0, optname: TCP_SAVE_SYN, bufSize: 4 }] },
      ],
      schedule: [],
    };
    const oneThenOther = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1];
    const overlapping = [0, 1, 1, 1, 1, 0, 0, 0, 0];
    const fresh = [oneThenOther, overlapping].map((sc) => runConcurrent(staleFlag, LINUX, c, replayChooser(sc)));
    const [set, get] = [0, 1].map((t) => fresh.map((r) => r.history.find((h) => h.thread === t)!));
    expect(set[0].response).toBeLessThanOrEqual(get[0].invoke);
    expect(get[1].invoke).toBeLessThan(set[1].response);
    expect(set[1].invoke).toBeLessThan(get[1].response);
    // The same results either way: only the real-time order differs.
    expect(set[0].outcome).toEqual(set[1].outcome);
    expect(get[0].outcome).toEqual(get[1].outcome);
    expect(fresh.map((r) => r.failure?.signature)).toEqual(['linearizability:getsockopt:ok', undefined]);
    for (const schedules of [[oneThenOther, overlapping], [overlapping, oneThenOther]]) {
      const judged: Judgements = new Map();
      const verdicts = schedules.map((sc) => runConcurrent(staleFlag, LINUX, c, replayChooser(sc), {}, judged).failure?.signature);
      expect(verdicts).toEqual(schedules.map((sc) => (sc === oneThenOther ? 'linearizability:getsockopt:ok' : undefined)));
      expect(judged.size).toBe(2);
    }
  });

  it('pairs start only from the depths asked for', async () => {
    const all = await verify('linux', { depth: 2, pairDepth: 2, workers: 0, kinds: ['listen=0', 'setsockopt=1', 'syn', 'ack'] });
    const deep = await verify('linux', { depth: 2, pairDepth: 2, pairFrom: 2, workers: 0, kinds: ['listen=0', 'setsockopt=1', 'syn', 'ack'] });
    expect(deep.pairs!.from).toBe(2);
    expect(deep.pairs!.pairs).toBeGreaterThan(0);
    expect(deep.pairs!.pairs).toBeLessThan(all.pairs!.pairs);
    expect(deep.certificate).toContain('from every state at depth 2 to 2');
    await expect(verify('linux', { depth: 2, pairDepth: 1, pairFrom: 2, workers: 0 })).rejects.toThrow(/pairs would start at depth 2 \(--pair-from, pairFrom\), past the last depth they are run from, 1/);
  });

  it('the correct implementations show no race from the initial state and after a listen', () => {
    for (const name of ['linux', 'rfc-v1-fixed']) {
      const impl = bundledByName(name)!;
      const profile = impl.profile === 'linux' ? LINUX : RFC_V1;
      const nodes = [nodeAfter(impl, profile, []), nodeAfter(impl, profile, [{ kind: 'listen', fd: 0, backlog: 1 }])];
      const r = explorePairs(impl, profile, DEFAULT_BOUNDS, { depth: 1, from: 0, preemptions: 3 }, nodes);
      expect(r.failures.map((f) => f.signature)).toEqual([]);
      expect(r.pairs).toBeGreaterThan(0);
      expect(r.commuting).toBeGreaterThan(0);
    }
  });
});

describe('savedsyn verify', () => {
  it('prints the counterexamples and the certificate, writes the reports, exits 1', async () => {
    const out = mkdtempSync(join(tmpdir(), 'verify-'));
    const lines: string[] = [];
    const code = await main(['verify', '--impl', 'rfc-v1', '--depth', '1', '--pair-depth', '-1', '--workers', '0', '--out', out], (l) => lines.push(l));
    expect(code).toBe(1);
    const text = lines.join('\n');
    expect(text).toContain('state:setsockopt:flag');
    expect(text).toMatch(/replay: npx savedsyn replay ssyn2\./);
    expect(text).toContain('depth completed  1 of 1');
    for (const f of ['report.md', 'report.json', 'verify.json', 'certificate.txt']) expect(existsSync(join(out, f)), f).toBe(true);
    const token = /replay: npx savedsyn replay (\S+)/.exec(text)![1];
    const replayed: string[] = [];
    expect(await main(['replay', token, '--out', out, '--quiet', '--op-timeout', '0'], (l) => replayed.push(l))).toBe(1);
    expect(replayed[0]).toContain('fails: state:setsockopt:flag');
  });

  it('warns of far more workers than cores, once, and runs', () => {
    const many = Math.min(4 * availableParallelism() + 1, 256);
    const r = spawnSync(process.execPath, [SAVEDSYN, 'verify', '--impl', 'linux', '--depth', '1', '--pair-depth', '-1', '--workers', String(many), '--quiet', '--out', mkdtempSync(join(tmpdir(), 'verify-many-'))], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    if (many > 4 * availableParallelism()) expect(r.stderr.split('\n').filter((l) => l.startsWith('warning:'))).toEqual([expect.stringMatching(new RegExp(`^warning: ${many} workers on \\d+ cores: `))]);
    expect(r.stdout).toContain('distinct states  17 ');
  });

  it('refuses bad bounds with exit 2', async () => {
    for (const argv of [['verify'], ['verify', '--impl', 'linux', '--depth', 'x'], ['verify', '--impl', 'linux', '--pair-depth', '-2'], ['verify', '--impl', 'linux', '--seed', '1']]) {
      expect(await cli(argv), argv.join(' ')).toBe(2);
    }
  });
});
