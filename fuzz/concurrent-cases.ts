// Generating concurrent cases: a setup that brings the world to where races
// live (a listener keeping SYNs, accepted connections, a request waiting for
// its ACK), then two to four threads: user threads with system calls on the
// few descriptors that exist, softirq CPUs with packets for the few peers
// that exist.

import fc from 'fast-check';
import type { Op } from '../model/ops.ts';
import { DEFAULT_PACKET, type PacketDescriptor } from '../model/packet.ts';
import type { Profile } from '../model/profile.ts';
import type { ConcurrentCase, ThreadSpec } from '../properties/concurrent.ts';
import { BOUNDARY_SIZES, howArb, packetArb, toArb } from './arbitraries.ts';
import type { SchedulerName } from '../properties/findings.ts';

/** The peer whose SYN the setup leaves waiting for its ACK. */
export const PENDING_PEER = 5;

export function setupArb(profile: Profile): fc.Arbitrary<Op[]> {
  return fc.record({
    backlog: fc.integer({ min: 1, max: 4 }),
    flag: fc.oneof({ weight: 4, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: profile.maxFlag }) }),
    fastOpen: fc.boolean(),
    accepted: fc.array(packetArb, { maxLength: 2 }),
    pending: fc.boolean(),
  }).map(({ backlog, flag, fastOpen, accepted, pending }) => {
    const ops: Op[] = [];
    if (fastOpen) ops.push({ kind: 'sysctl', name: 'tcp_fastopen', value: 1 });
    ops.push({ kind: 'listen', fd: 0, backlog }, { kind: 'setsockopt', fd: 0, optname: profile.setOpt, value: flag });
    accepted.forEach((packet, i) => {
      ops.push({ kind: 'syn', conn: i + 1, packet }, { kind: 'ack', conn: i + 1 }, { kind: 'accept', fd: 0 });
    });
    if (pending) ops.push({ kind: 'syn', conn: PENDING_PEER, packet: DEFAULT_PACKET });
    return ops;
  });
}

export function userOpArb(profile: Profile): fc.Arbitrary<Op> {
  const fd = fc.integer({ min: 0, max: 2 });
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('getsockopt' as const), fd, optname: fc.constant(profile.readOpt), bufSize: fc.constantFrom(...BOUNDARY_SIZES) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('setsockopt' as const), fd, optname: fc.constant(profile.setOpt), value: fc.integer({ min: 0, max: profile.maxFlag }) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('accept' as const), fd: fc.constant(0) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const), fd }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), fd }) },
    // The paths beyond the feature's own share one slot: their races with
    // a read are shaped below (dupRaceArb, sameSocketArb).
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.record({ kind: fc.constant('dup' as const), fd }),
        fc.record({ kind: fc.constant('shutdown' as const), fd, how: howArb }),
        fc.record({ kind: fc.constant('bind' as const), fd }),
      ),
    },
  );
}

export function softirqOpArb(): fc.Arbitrary<Op> {
  const conn = fc.constantFrom(1, 2, 3, PENDING_PEER);
  return fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('syn' as const), conn: fc.constantFrom(3, 4), packet: packetArb }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('ack' as const), conn }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('ackRetransmit' as const), conn }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('rst' as const), conn }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('synackTimeout' as const), conn }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('synackRetransmit' as const), conn }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cookieAck' as const), conn }) },
  );
}

export function threadsArb(profile: Profile): fc.Arbitrary<ThreadSpec[]> {
  const user = fc.array(userOpArb(profile), { minLength: 1, maxLength: 3 }).map((ops): ThreadSpec => ({ kind: 'user', ops }));
  const softirq = fc.array(softirqOpArb(), { minLength: 1, maxLength: 2 }).map((ops): ThreadSpec => ({ kind: 'softirq', ops }));
  return fc.tuple(fc.array(user, { minLength: 1, maxLength: 2 }), fc.array(softirq, { maxLength: 2 }))
    .filter(([u, s]) => u.length + s.length >= 2)
    .map(([u, s]) => [...u, ...s]);
}

export interface GeneratedConcurrent {
  case: ConcurrentCase;
  scheduler: SchedulerName;
  seed: number;
}

/** Two CPUs take the same ACK (a retransmission, or the same segment
 * steered twice) for the request the setup left waiting: only one insertion
 * wins own_req, and what the loser does with the request's copy is a race
 * no random pick of peers lines up often. A user accepts the child and
 * reads it: a copy that went to the wrong child shows only there. */
function ackRaceArb(profile: Profile): fc.Arbitrary<{ setup: Op[]; threads: ThreadSpec[] }> {
  const ack = fc.record({ kind: fc.constantFrom('ack' as const, 'ack' as const, 'ackRetransmit' as const), conn: fc.constant(PENDING_PEER) });
  return fc.record({
    setup: setupArb(profile).map((ops) => (ops.some((o) => o.kind === 'syn' && o.conn === PENDING_PEER)
      ? ops
      : [...ops, { kind: 'syn', conn: PENDING_PEER, packet: DEFAULT_PACKET } satisfies Op])),
    acks: fc.tuple(ack, ack),
    read: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    bufSize: fc.oneof({ weight: 3, arbitrary: fc.constant(4096) }, { weight: 1, arbitrary: fc.constantFrom(...BOUNDARY_SIZES) }),
  }).map(({ setup, acks, read, bufSize }) => {
    // The child, once accepted, gets the lowest free descriptor: one past
    // the connections the setup accepted.
    const child = setup.filter((o) => o.kind === 'accept').length + 1;
    // A non-blocking accept() retried, as a server polls: one try mostly
    // runs before either ACK has made the child.
    const ops: Op[] = [{ kind: 'accept', fd: 0 }, { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 0 }];
    if (read) ops.push({ kind: 'getsockopt', fd: child, optname: profile.readOpt, bufSize });
    return { setup, threads: [{ kind: 'user', ops }, ...acks.map((a): ThreadSpec => ({ kind: 'softirq', ops: [a] }))] };
  });
}

/** A read of an accepted socket against another thread's close, disconnect
 * or read of the same socket, or an accept on the listener: the places
 * where a copy is freed while a reader may still hold it. */
function sameSocketArb(profile: Profile): fc.Arbitrary<{ setup: Op[]; threads: ThreadSpec[] }> {
  return fc.record({
    setup: setupArb(profile).filter((ops) => ops.some((o) => o.kind === 'accept')),
    bufSize: fc.constantFrom(4096, ...BOUNDARY_SIZES),
    other: fc.constantFrom('close' as const, 'disconnect' as const, 'getsockopt' as const, 'accept' as const, 'shutdown' as const),
    otherSize: fc.constantFrom(4096, ...BOUNDARY_SIZES),
    softirq: fc.option(fc.array(softirqOpArb(), { minLength: 1, maxLength: 2 }), { freq: 3 }),
  }).map(({ setup, bufSize, other, otherSize, softirq }) => {
    const fd = 1;
    const read: Op = { kind: 'getsockopt', fd, optname: profile.readOpt, bufSize };
    const against: Op = other === 'getsockopt'
      ? { kind: 'getsockopt', fd, optname: profile.readOpt, bufSize: otherSize }
      : other === 'accept' ? { kind: 'accept', fd: 0 }
        : other === 'shutdown' ? { kind: 'shutdown', fd, how: 2 } : { kind: other, fd };
    const threads: ThreadSpec[] = [{ kind: 'user', ops: [read] }, { kind: 'user', ops: [against] }];
    if (softirq !== null) threads.push({ kind: 'softirq', ops: softirq });
    return { setup, threads };
  });
}

/** Two descriptors for one accepted socket: a read through one against a
 * close, disconnect, shutdown or read through the other, the dup made in
 * the setup; or the dup itself, then a read through it, against a close of
 * the descriptor it duplicates. The socket, and its copy, must outlive the
 * close of either. */
function dupRaceArb(profile: Profile): fc.Arbitrary<{ setup: Op[]; threads: ThreadSpec[] }> {
  return fc.record({
    setup: setupArb(profile).filter((ops) => ops.some((o) => o.kind === 'accept')),
    bufSize: fc.constantFrom(4096, 4096, ...BOUNDARY_SIZES),
    other: fc.constantFrom('close' as const, 'disconnect' as const, 'getsockopt' as const, 'shutdown' as const),
    how: howArb,
    swap: fc.boolean(),
    after: fc.boolean(),
    inThread: fc.boolean(),
  }).map(({ setup, bufSize, other, how, swap, after, inThread }) => {
    // The dup gets the lowest free descriptor: one past those accepted.
    const twin = setup.filter((o) => o.kind === 'accept').length + 1;
    if (inThread) {
      const dup: Op[] = [{ kind: 'dup', fd: 1 }, { kind: 'getsockopt', fd: twin, optname: profile.readOpt, bufSize }];
      return { setup, threads: [{ kind: 'user', ops: dup }, { kind: 'user', ops: [{ kind: other === 'disconnect' ? 'disconnect' : 'close', fd: 1 }] }] };
    }
    const [mine, theirs] = swap ? [twin, 1] : [1, twin];
    const read: Op = { kind: 'getsockopt', fd: mine, optname: profile.readOpt, bufSize };
    const against: Op = other === 'getsockopt'
      ? { kind: 'getsockopt', fd: theirs, optname: profile.readOpt, bufSize: 4096 }
      : other === 'shutdown' ? { kind: 'shutdown', fd: theirs, how } : { kind: other, fd: theirs };
    // A second read shows whether the copy outlived the other thread's op.
    const reads: Op[] = after ? [read, { ...read, bufSize: 4096 }] : [read];
    return { setup: [...setup, { kind: 'dup', fd: 1 }], threads: [{ kind: 'user', ops: reads }, { kind: 'user', ops: [against] }] };
  });
}

/** A SO_REUSEPORT group of two (fd 0 and fd 1, each in its own mode), a
 * request pending on one of them and maybe a child queued there (now and
 * then a Fast Open child still waiting for its final ACK, which comes on
 * the CPU that migrates), and migration on or off; then that listener closed or shut (through a dup
 * of it, now and then, while an accept holds it) on one thread, the
 * pending peer's ACK on a CPU, and a user accepting on the other listener
 * and reading what it got. */
function groupRaceArb(profile: Profile): fc.Arbitrary<{ setup: Op[]; threads: ThreadSpec[] }> {
  const flag = fc.integer({ min: 0, max: profile.maxFlag });
  return fc.record({
    flags: fc.tuple(flag, flag),
    migrate: fc.constantFrom(1, 1, 0),
    victim: fc.integer({ min: 0, max: 1 }),
    queued: fc.constantFrom('none' as const, 'child' as const, 'child' as const, 'fastOpen' as const),
    pending: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    end: fc.constantFrom('close' as const, 'close' as const, 'shutdown' as const, 'dup' as const),
    // The ACK and the SYN-ACK timer on two CPUs: both may migrate the request.
    softirq: fc.constantFrom('ack' as const, 'ack' as const, 'synackRetransmit' as const, 'both' as const, 'both' as const, 'both' as const, 'synackTimeout' as const, 'none' as const),
    bufSize: fc.constantFrom(4096, 4096, ...BOUNDARY_SIZES),
    spare: toArb,
    // The listener already gone: the race is the two CPUs' migrations.
    stopFirst: fc.boolean(),
  }).map(({ flags, migrate, victim, queued, pending, end, softirq, bufSize, spare, stopFirst: early }) => {
    // The timer against the ACK is a race of their own: the close comes first.
    const stopFirst = (early || softirq === 'both') && softirq !== 'none';
    const other = 1 - victim;
    const setup: Op[] = [
      { kind: 'sysctl', name: 'tcp_migrate_req', value: migrate },
      { kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: profile.setOpt, value: flags[0] },
      { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 4 },
      { kind: 'setsockopt', fd: 1, optname: profile.setOpt, value: flags[1] },
    ];
    if (queued === 'fastOpen') setup.unshift({ kind: 'sysctl', name: 'tcp_fastopen', value: 1 });
    if (queued === 'child') setup.push({ kind: 'syn', conn: 1, packet: DEFAULT_PACKET, to: victim }, { kind: 'ack', conn: 1 });
    if (queued === 'fastOpen') setup.push({ kind: 'fastOpenSyn', conn: 1, packet: FAST_OPEN_PACKET, to: victim });
    if (pending) setup.push({ kind: 'syn', conn: PENDING_PEER, packet: DEFAULT_PACKET, to: victim });
    // The accept through the dup holds the listener's file: the close of
    // the last descriptor stops it only when that accept returns.
    const dup = end === 'dup';
    if (dup) setup.push({ kind: 'dup', fd: victim });
    const firstChild = dup ? 3 : 2;
    const reads: Op[] = [
      { kind: 'accept', fd: other }, { kind: 'getsockopt', fd: firstChild, optname: profile.readOpt, bufSize },
      { kind: 'accept', fd: other }, { kind: 'getsockopt', fd: firstChild + 1, optname: profile.readOpt, bufSize: 4096 },
    ];
    const stop: Op = end === 'shutdown' ? { kind: 'shutdown', fd: victim, how: 0 } : { kind: 'close', fd: victim };
    const threads: ThreadSpec[] = dup
      ? [{ kind: 'user', ops: [{ kind: 'close', fd: victim }, { kind: 'close', fd: 2 }] }, { kind: 'user', ops: [{ kind: 'accept', fd: 2 }, ...reads] }]
      : stopFirst ? [{ kind: 'user', ops: reads }] : [{ kind: 'user', ops: [stop] }, { kind: 'user', ops: reads }];
    if (stopFirst && !dup) setup.push(stop);
    if (softirq === 'both') threads.push({ kind: 'softirq', ops: [{ kind: 'synackRetransmit', conn: PENDING_PEER }] });
    if (softirq !== 'none') {
      const ops: Op[] = [{ kind: softirq === 'both' ? 'ack' : softirq, conn: PENDING_PEER }];
      if (queued === 'fastOpen') ops.push({ kind: 'ack', conn: 1 });
      // A SYN of a new peer steered into the group meanwhile.
      ops.push({ kind: 'syn', conn: 3, packet: DEFAULT_PACKET, to: spare });
      threads.push({ kind: 'softirq', ops });
    }
    return { setup, threads };
  });
}

const FAST_OPEN_PACKET: PacketDescriptor = { ...DEFAULT_PACKET, fastOpen: 'request', payload: 10 };

/** A new listener on the port while the old one's peers are in flight:
 * the service socket (in a mode, a request pending and maybe a child
 * queued) closed or shut on one thread; on another, a fresh socket (of
 * either family) bound to the port, in a mode of its own, listening,
 * accepting and reading; the pending peer's ACK and a new peer's SYN on a
 * CPU. */
function newListenerRaceArb(profile: Profile): fc.Arbitrary<{ setup: Op[]; threads: ThreadSpec[] }> {
  const flag = fc.integer({ min: 0, max: profile.maxFlag });
  return fc.record({
    flags: fc.tuple(flag, flag),
    queued: fc.boolean(),
    end: fc.constantFrom('close' as const, 'close' as const, 'shutdown' as const),
    socket: fc.constantFrom<Op>({ kind: 'socket' }, { kind: 'socket' }, { kind: 'socket', family: 4 }),
    family: fc.constantFrom<4 | 6>(4, 6),
    bufSize: fc.constantFrom(4096, 4096, ...BOUNDARY_SIZES),
  }).map(({ flags, queued, end, socket, family, bufSize }) => {
    const setup: Op[] = [{ kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: profile.setOpt, value: flags[0] }];
    if (queued) setup.push({ kind: 'syn', conn: 1, packet: DEFAULT_PACKET }, { kind: 'ack', conn: 1 });
    setup.push({ kind: 'syn', conn: PENDING_PEER, packet: DEFAULT_PACKET });
    // After a close the new socket most likely gets descriptor 0 again.
    const fd = end === 'close' ? 0 : 1;
    const stop: Op = end === 'shutdown' ? { kind: 'shutdown', fd: 0, how: 0 } : { kind: 'close', fd: 0 };
    return {
      setup,
      threads: [
        { kind: 'user', ops: [stop] },
        { kind: 'user', ops: [
          socket, { kind: 'bind', fd }, { kind: 'setsockopt', fd, optname: profile.setOpt, value: flags[1] }, { kind: 'listen', fd, backlog: 4 },
          { kind: 'accept', fd }, { kind: 'getsockopt', fd: fd + 1, optname: profile.readOpt, bufSize },
        ] },
        { kind: 'softirq', ops: [{ kind: 'ack', conn: PENDING_PEER }, { kind: 'syn', conn: 3, packet: { ...DEFAULT_PACKET, family } }, { kind: 'ack', conn: 3 }] },
      ],
    };
  });
}

export function concurrentArb(profile: Profile, schedulers: readonly SchedulerName[]): fc.Arbitrary<GeneratedConcurrent> {
  // Most cases are random threads over a random setup; the rest are shaped
  // like the races the feature has, which random threads rarely line up.
  const shaped = fc.oneof(
    { weight: 3, arbitrary: fc.record({ setup: setupArb(profile), threads: threadsArb(profile) }) },
    { weight: 1, arbitrary: ackRaceArb(profile) },
    { weight: 1, arbitrary: sameSocketArb(profile) },
    { weight: 1, arbitrary: dupRaceArb(profile) },
    { weight: 3, arbitrary: groupRaceArb(profile) },
    { weight: 1, arbitrary: newListenerRaceArb(profile) },
  );
  return fc.record({
    shape: shaped,
    scheduler: fc.constantFrom(...schedulers),
    seed: fc.noShrink(fc.integer()),
  }).map(({ shape: { setup, threads }, scheduler, seed }) => ({ case: { setup, threads, schedule: [] }, scheduler, seed }));
}
