// Generating concurrent cases: a setup that brings the world to where races
// live (a listener keeping SYNs, accepted connections, a request waiting for
// its ACK), then two to four threads: user threads with system calls on the
// few descriptors that exist, softirq CPUs with packets for the few peers
// that exist.

import fc from 'fast-check';
import type { Op } from '../model/ops.ts';
import { DEFAULT_PACKET } from '../model/packet.ts';
import type { Profile } from '../model/profile.ts';
import type { ConcurrentCase, ThreadSpec } from '../properties/concurrent.ts';
import { BOUNDARY_SIZES, packetArb } from './arbitraries.ts';
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

export function concurrentArb(profile: Profile, schedulers: readonly SchedulerName[]): fc.Arbitrary<GeneratedConcurrent> {
  return fc.record({
    setup: setupArb(profile),
    threads: threadsArb(profile),
    scheduler: fc.constantFrom(...schedulers),
    seed: fc.noShrink(fc.integer()),
  }).map(({ setup, threads, scheduler, seed }) => ({ case: { setup, threads, schedule: [] }, scheduler, seed }));
}
