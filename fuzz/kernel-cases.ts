// Sequences the live kernel can run, aimed at the saved SYN: most set a
// listener up with TCP_SAVE_SYN on, send SYNs of every shape the model can
// build (IPv4 with and without IP options, IPv6; each TCP option set; Fast
// Open with a cookie and data; through a tap, a tun and lo), complete and
// accept them, and read the SYN back from the descriptor accept() returned.
// Descriptors are resolved by running the spec alongside, so ops name
// sockets that exist. The rest are the single-thread generator's cases,
// with what the kernel cannot be asked taken out.

import fc from 'fast-check';
import { isFastOpenShape, MAX_FLOOD, unrealisable } from '../model/kernel/lane.ts';
import { TCP_SAVE_SYN, TCP_SAVED_SYN, type Op } from '../model/ops.ts';
import { buildSyn, headerLength, type PacketDescriptor } from '../model/packet.ts';
import { LINUX } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import { BOUNDARY_SIZES, opArb, opsArb, withExtHeaders } from './arbitraries.ts';

/** Peers a case refers to without ever sending their SYN. */
const UNKNOWN_PEER_BASE = 900;
const FLOOD_BASE = 1000;

/** Every SYN gets a peer of its own (a second SYN from the same port would
 * be a retransmission to the kernel, where the model may start afresh), and
 * its kind follows its shape: to the kernel, data or a Fast Open option make
 * a Fast Open SYN. */
/** Ops the lane runs but generated kernel cases leave out: a SYN-ACK
 * timer takes 1.5 s and fires for every pending request, not only the
 * peer's; and migration picks its listener by the kernel's hash, which the
 * model's follows only where one member is left (the lane's own cases). */
export function leftOut(op: Op): boolean {
  return op.kind === 'synackRetransmit' || (op.kind === 'sysctl' && op.name === 'tcp_migrate_req');
}

export function toKernelCase(ops: readonly Op[]): Op[] {
  const peer = new Map<number, number>();
  let next = 1;
  let floods = 0;
  const out: Op[] = [];
  for (const op of ops) {
    let o: Op = op;
    if (o.kind === 'syn' || o.kind === 'fastOpenSyn') {
      peer.set(o.conn, next);
      o = { kind: isFastOpenShape(o.packet) ? 'fastOpenSyn' : 'syn', conn: next++, packet: o.packet, ...(o.to === undefined ? {} : { to: o.to }) };
    } else if (o.kind === 'ack' || o.kind === 'ackRetransmit' || o.kind === 'cookieAck' || o.kind === 'rst' || o.kind === 'synackRetransmit') {
      o = { ...o, conn: peer.get(o.conn) ?? UNKNOWN_PEER_BASE + o.conn };
    } else if (o.kind === 'flood') {
      o = { ...o, first: FLOOD_BASE + MAX_FLOOD * floods++ };
    }
    if (unrealisable(o) !== undefined || leftOut(o)) continue;
    out.push(o);
  }
  return out;
}

/** Whether the kernel reads `ops` as the model does: every op realisable,
 * and no two SYNs (a flood's included) from one peer, which the kernel
 * would take for a retransmission. toKernelCase makes such sequences;
 * shrinking, which renames peers and simplifies packets, can leave them. */
export function isKernelCase(ops: readonly Op[]): boolean {
  const peers = new Set<number>();
  const fresh = (conn: number): boolean => {
    if (peers.has(conn)) return false;
    peers.add(conn);
    return true;
  };
  return ops.every((op) => {
    if (unrealisable(op) !== undefined || leftOut(op)) return false;
    if (op.kind === 'syn' || op.kind === 'fastOpenSyn') return fresh(op.conn);
    if (op.kind === 'flood') return Array.from({ length: op.count }, (_, k) => op.first + k).every(fresh);
    return true;
  });
}

// --- sequences aimed at the saved SYN ------------------------------------

const boolArb = (trueWeight: number): fc.Arbitrary<boolean> =>
  fc.oneof({ weight: trueWeight, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) });

/** Every shape buildSyn makes; plain SYNs carry neither data nor a Fast
 * Open option, Fast Open SYNs at least one of them. */
const shapeArb = fc.record({
  family: fc.constantFrom<4 | 6>(4, 6),
  mac: fc.constantFrom('loopback' as const, 'ethernet' as const, 'none' as const),
  ipOptions: boolArb(1),
  mss: boolArb(3),
  sackPermitted: boolArb(3),
  timestamps: boolArb(3),
  windowScale: boolArb(3),
});
const plainSynArb: fc.Arbitrary<PacketDescriptor> = withExtHeaders(shapeArb.map((s) => ({ ...s, fastOpen: 'none', payload: 0 })));
const fastOpenSynArb: fc.Arbitrary<PacketDescriptor> = fc.record({
  shape: shapeArb,
  fastOpen: fc.constantFrom('none' as const, 'request' as const, 'cookie' as const, 'cookie' as const),
  payload: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 100 }), fc.constant(1400)),
}).map(({ shape, fastOpen, payload }) => ({ ...shape, fastOpen, payload: fastOpen === 'none' && payload === 0 ? 1 : payload }));

type Answer = 'ack' | 'ackRetransmit' | 'cookieAck' | 'rst';

/** One connection's life: its SYN, the peer's answer to the SYN-ACK,
 * accept(), one or two reads with sizes around the SYN's own, and an end. */
const lifeArb = fc.record({
  packet: fc.oneof(plainSynArb, fastOpenSynArb),
  answer: fc.oneof(
    { weight: 12, arbitrary: fc.constant<Answer | null>('ack') },
    { weight: 1, arbitrary: fc.constantFrom<Answer | null>('ackRetransmit', 'cookieAck', 'rst', null) },
  ),
  twice: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 5, arbitrary: fc.constant(false) }),
  accept: boolArb(12),
  read: boolArb(12),
  size: fc.oneof(
    { weight: 6, arbitrary: fc.constant<number | 'exact' | 'short'>(4096) },
    { weight: 2, arbitrary: fc.constantFrom<number | 'exact' | 'short'>('exact', 'short') },
    { weight: 2, arbitrary: fc.constantFrom<number | 'exact' | 'short'>(...BOUNDARY_SIZES) },
  ),
  again: fc.nat(3),
  end: fc.constantFrom<'close' | 'disconnect' | 'shutdown' | 'dup' | null>(null, null, 'close', 'close', 'disconnect', 'shutdown', 'dup'),
  how: fc.integer({ min: 0, max: 2 }),
});

type Life = typeof lifeArb extends fc.Arbitrary<infer T> ? T : never;

/** Before descriptors are resolved, the one this life's accept() returned. */
const OWN = -1;

/** A life's steps, in order. */
function lifeSteps(life: Life, conn: number): Op[] {
  const { packet } = life;
  const steps: Op[] = [{ kind: isFastOpenShape(packet) ? 'fastOpenSyn' : 'syn', conn, packet }];
  if (life.answer) {
    steps.push({ kind: life.answer, conn });
    if (life.twice) steps.push({ kind: 'ackRetransmit', conn });
  }
  if (!life.accept) return steps;
  steps.push({ kind: 'accept', fd: 0 });
  if (!life.read) return steps;
  const built = buildSyn(conn, packet);
  const need = headerLength(built, true);
  const size = life.size === 'exact' ? need : life.size === 'short' ? need - 1 : life.size;
  steps.push({ kind: 'getsockopt', fd: OWN, optname: TCP_SAVED_SYN, bufSize: size });
  // The retry a short buffer calls for, or the one-shot check.
  if (life.again > (size < need ? 0 : 1)) steps.push({ kind: 'getsockopt', fd: OWN, optname: TCP_SAVED_SYN, bufSize: 4096 });
  if (life.end === 'close') steps.push({ kind: 'close', fd: OWN });
  if (life.end === 'disconnect') steps.push({ kind: 'disconnect', fd: OWN });
  if (life.end === 'shutdown') steps.push({ kind: 'shutdown', fd: OWN, how: life.how });
  if (life.end === 'dup') steps.push({ kind: 'dup', fd: OWN });
  return steps;
}

/** Ops around the lives; their descriptors are picked among open ones. */
const noiseArb: fc.Arbitrary<Op> = opArb(LINUX).filter((op) => op.kind !== 'syn' && op.kind !== 'fastOpenSyn' && unrealisable(op) === undefined && !leftOut(op));

/** Sequences aimed at the saved SYN (see the top of this file). */
export const aimedOpsArb = (maxLength = 25): fc.Arbitrary<Op[]> => fc.record({
  fastOpen: fc.boolean(),
  syncookies: fc.oneof({ weight: 14, arbitrary: fc.constant<number | null>(null) }, { weight: 1, arbitrary: fc.constantFrom<number | null>(0, 2) }),
  backlog: fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 1, arbitrary: fc.constant(0) }),
  flag: fc.oneof({ weight: 19, arbitrary: fc.constantFrom(1, 2) }, { weight: 1, arbitrary: fc.constantFrom(0, 3) }),
  flagFirst: fc.boolean(),
  // One case in five: the service socket closed, a v6only listener as fd 0
  // and an AF_INET one as fd 1 on the port, this one in its own mode.
  families: fc.option(fc.constantFrom(1, 2), { freq: 4 }),
  lives: fc.array(lifeArb, { minLength: 1, maxLength: 4 }),
  noise: fc.array(noiseArb, { maxLength: 4 }),
  picks: fc.array(fc.nat(), { minLength: maxLength, maxLength }),
}).map(({ fastOpen, syncookies, backlog, flag, flagFirst, families, lives, noise, picks }) => {
  const prefix: Op[] = [];
  if (fastOpen) prefix.push({ kind: 'sysctl', name: 'tcp_fastopen', value: 1 });
  if (syncookies !== null) prefix.push({ kind: 'sysctl', name: 'tcp_syncookies', value: syncookies });
  const listen: Op = { kind: 'listen', fd: 0, backlog };
  const save: Op = { kind: 'setsockopt', fd: 0, optname: TCP_SAVE_SYN, value: flag };
  if (families !== null) prefix.push({ kind: 'close', fd: 0 }, { kind: 'socket', v6only: 1 }, { kind: 'bind', fd: 0 });
  prefix.push(...(flagFirst ? [save, listen] : [listen, save]));
  if (families === null) return resolve(prefix, lives.map((l, i) => lifeSteps(l, i + 1)), noise, picks, maxLength);
  prefix.push({ kind: 'socket', family: 4 }, { kind: 'bind', fd: 1 }, { kind: 'setsockopt', fd: 1, optname: TCP_SAVE_SYN, value: families }, { kind: 'listen', fd: 1, backlog });
  // An IPv4 peer's child is accepted from the AF_INET listener.
  const steps = lives.map((l, i) => lifeSteps(l, i + 1).map((op): Op => (op.kind === 'accept' && l.packet.family === 4 ? { ...op, fd: 1 } : op)));
  return resolve(prefix, steps, noise, picks, maxLength);
});

/** Interleave the lives and the noise, keeping each one's order, and give
 * every op a descriptor that exists when it runs: a life's own after its
 * accept(), otherwise an open one. */
function resolve(prefix: Op[], lives: Op[][], noise: Op[], picks: number[], maxLength: number): Op[] {
  const spec = createSpec(LINUX);
  const out: Op[] = [];
  const emit = (op: Op): number => {
    out.push(op);
    return spec.apply(op).ret;
  };
  prefix.forEach(emit);
  const queues = [...lives.map((l, life) => l.map((op) => ({ op, life }))), ...noise.map((op) => [{ op, life: -1 }])];
  const own = new Map<number, number>();
  let lastAccepted: number | undefined;
  let deferrals = 0;
  for (let i = 0; queues.length > 0 && out.length < maxLength; i++) {
    const pick = picks[i % picks.length];
    const q = queues[pick % queues.length];
    const { op, life } = q[0];
    let o = op;
    if ('fd' in o && o.fd === OWN) o = { ...o, fd: own.get(life) ?? lastAccepted ?? 1 };
    else if ('fd' in o && life < 0) {
      const open = spec.openFds();
      // Noise ends the listener only now and then; otherwise it waits for
      // another socket to act on.
      const targets = silences(o) && pick % 8 !== 0 ? open.filter((fd) => fd !== 0) : open;
      if (targets.length === 0 && deferrals++ < 4 * maxLength) continue;
      // Now and then a descriptor that is not open, for EBADF.
      o = { ...o, fd: pick % 16 === 0 || targets.length === 0 ? pick % 5 : targets[(pick >> 4) % targets.length] };
    }
    q.shift();
    if (q.length === 0) queues.splice(queues.indexOf(q), 1);
    const ret = emit(o);
    if (o.kind === 'accept' && ret >= 0) {
      lastAccepted = ret;
      if (life >= 0) own.set(life, ret);
    }
  }
  return out;
}

/** Ops that, on the listener, end what a life needs: the socket, its
 * listening, or its saving SYNs. */
function silences(op: Op): boolean {
  if (op.kind === 'close' || op.kind === 'disconnect' || op.kind === 'connect') return true;
  if (op.kind === 'shutdown' && op.how !== 1) return true;
  return op.kind === 'setsockopt' && op.optname === TCP_SAVE_SYN && op.value !== 1 && op.value !== 2;
}

/** Generated sequences for the live kernel: three in four aimed at the
 * saved SYN, the rest the general generator's, realised. */
export function kernelOpsArb(maxLength = 25): fc.Arbitrary<Op[]> {
  return fc.oneof(
    { weight: 3, arbitrary: aimedOpsArb(maxLength) },
    { weight: 1, arbitrary: opsArb(LINUX, maxLength).map(toKernelCase).filter((ops) => ops.length > 0) },
  );
}
