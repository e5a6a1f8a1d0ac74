// fast-check arbitraries for ops and single-thread cases. Numbers are drawn
// from small ranges on purpose: descriptors are allocated lowest-first and
// peers are few, so a random fd or peer usually names something that exists.

import fc from 'fast-check';
import type { Op } from '../model/ops.ts';
import { DEFAULT_PACKET, type HopByHopLen, type PacketDescriptor } from '../model/packet.ts';
import type { Profile } from '../model/profile.ts';

/** Buffer sizes that sit on every boundary the feature has: 0, 1, the header
 * sizes of IPv4/IPv6 with and without a MAC header or Fast Open option, one
 * either side of each, large, and negative. */
export const BOUNDARY_SIZES: readonly number[] = [
  0, 1, 3, 4, 59, 60, 61, 63, 64, 65, 71, 72, 73, 74, 75, 79, 80, 81, 87, 88, 93, 94, 95, 101, 102, 103, 104, 4096, -1, -2147483648,
];

type ExtHeaders = Pick<PacketDescriptor, 'hopByHop' | 'routing' | 'destOpts'>;

/** IPv6 extension headers: none two times in three, else any of the
 * measured ones, alone or together. */
export const extHeadersArb: fc.Arbitrary<ExtHeaders> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<ExtHeaders>({}) },
  {
    weight: 1,
    arbitrary: fc.record({ hopByHop: fc.constantFrom<HopByHopLen>(0, 8, 16), routing: fc.boolean(), destOpts: fc.boolean() })
      .map((e): ExtHeaders => (e.hopByHop === 0 && !e.routing && !e.destOpts ? {} : e)),
  },
);

/** An IPv6 descriptor with extension headers drawn for it; IPv4 ones as drawn. */
export function withExtHeaders(arb: fc.Arbitrary<PacketDescriptor>): fc.Arbitrary<PacketDescriptor> {
  return fc.tuple(arb, extHeadersArb).map(([p, e]) => (p.family === 6 ? { ...p, ...e } : p));
}

export const packetArb: fc.Arbitrary<PacketDescriptor> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(DEFAULT_PACKET) },
  {
    weight: 2,
    arbitrary: withExtHeaders(fc.record({
      family: fc.constantFrom<4 | 6>(4, 6),
      mac: fc.constantFrom('loopback' as const, 'ethernet' as const, 'none' as const),
      ipOptions: fc.boolean(),
      mss: fc.boolean(),
      sackPermitted: fc.boolean(),
      timestamps: fc.boolean(),
      windowScale: fc.boolean(),
      fastOpen: fc.constantFrom('none' as const, 'request' as const, 'cookie' as const),
      payload: fc.constantFrom(0, 0, 1, 20),
    })),
  },
);

const fastOpenPacketArb: fc.Arbitrary<PacketDescriptor> = fc.record({
  family: fc.constantFrom<4 | 6>(4, 6),
  mac: fc.constantFrom('loopback' as const, 'none' as const),
  ipOptions: fc.constant(false),
  mss: fc.constant(true),
  sackPermitted: fc.constant(true),
  timestamps: fc.constant(true),
  windowScale: fc.constant(true),
  fastOpen: fc.constantFrom('request' as const, 'cookie' as const),
  payload: fc.integer({ min: 1, max: 100 }),
});

/** socket(): dual-stack AF_INET6 most often, else AF_INET or v6only. */
export const socketArb: fc.Arbitrary<Op> = fc.constantFrom<Op>(
  { kind: 'socket' }, { kind: 'socket' }, { kind: 'socket', family: 4 }, { kind: 'socket', v6only: 1 },
);

/** shutdown()'s how: SHUT_RD, SHUT_WR, SHUT_RDWR, now and then neither. */
export const howArb = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.constantFrom(3, -1) });

const fdArb = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 2 }) }, { weight: 1, arbitrary: fc.integer({ min: 3, max: 4 }) });
const connArb = fc.integer({ min: 0, max: 3 });
/** A SYN's index in the SO_REUSEPORT group: one past a group of two now and then. */
export const toArb = fc.integer({ min: 0, max: 2 });

export function opArb(profile: Profile): fc.Arbitrary<Op> {
  const otherOpts = [profile.readOpt, profile.flagOpt, profile.setOpt, 99].filter((o): o is number => o !== undefined);
  const setOpt = fc.oneof({ weight: 9, arbitrary: fc.constant(profile.setOpt) }, { weight: 1, arbitrary: fc.constantFrom(...otherOpts) });
  const getOpt = fc.oneof(
    { weight: 8, arbitrary: fc.constant(profile.readOpt) },
    { weight: 2, arbitrary: fc.constantFrom(...otherOpts) },
  );
  const flagValue = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: profile.maxFlag }) },
    { weight: 1, arbitrary: fc.constantFrom(profile.maxFlag + 1, -1, 100) },
  );
  const bufSize = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...BOUNDARY_SIZES) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 200 }) });
  return fc.oneof(
    { weight: 1, arbitrary: socketArb },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('listen' as const), fd: fdArb, backlog: fc.integer({ min: 0, max: 4 }) }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('accept' as const), fd: fdArb }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('setsockopt' as const), fd: fdArb, optname: setOpt, value: flagValue }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('getsockopt' as const), fd: fdArb, optname: getOpt, bufSize }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('close' as const), fd: fdArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), fd: fdArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('connect' as const), fd: fdArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('dup' as const), fd: fdArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('shutdown' as const), fd: fdArb, how: howArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bind' as const), fd: fdArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reuseport' as const), fd: fdArb }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('syn' as const), conn: connArb, packet: packetArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('syn' as const), conn: connArb, packet: packetArb, to: toArb }) },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('ack' as const), conn: connArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('ackRetransmit' as const), conn: connArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('cookieAck' as const), conn: connArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('rst' as const), conn: connArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('synackTimeout' as const), conn: connArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('synackRetransmit' as const), conn: connArb }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('fastOpenSyn' as const), conn: connArb, packet: fastOpenPacketArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('flood' as const), first: fc.constantFrom(100, 200), count: fc.integer({ min: 1, max: 18 }) }) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        fc.record({ kind: fc.constant('sysctl' as const), name: fc.constant('tcp_syncookies' as const), value: fc.integer({ min: 0, max: 2 }) }),
        fc.record({ kind: fc.constant('sysctl' as const), name: fc.constant('tcp_fastopen' as const), value: fc.integer({ min: 0, max: 1 }) }),
        fc.record({ kind: fc.constant('sysctl' as const), name: fc.constant('tcp_migrate_req' as const), value: fc.integer({ min: 0, max: 1 }) }),
      ),
    },
  );
}

/** One connection's life as a user would drive it: a SYN, maybe the ACK,
 * maybe accept(), maybe a dup() of the accepted descriptor, and a read of
 * the SYN, then an end: a close, a shutdown, or a disconnect (AF_UNSPEC
 * connect) that keeps the descriptor, which the user may read again, listen
 * on or connect again, as a server reusing it would. With a dup, the second
 * read and the read after the end go through the other descriptor: one
 * socket seen through two. */
function lifecycleArb(profile: Profile): fc.Arbitrary<Op[]> {
  const synArb = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('syn' as const), conn: connArb, packet: packetArb }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('fastOpenSyn' as const), conn: connArb, packet: fastOpenPacketArb }) },
  );
  return fc.record({
    syn: synArb,
    ack: fc.constantFrom<'ack' | 'ackRetransmit' | 'cookieAck' | null>('ack', 'ack', 'ack', 'cookieAck', 'ackRetransmit', null),
    accept: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    // OWN_FD: the descriptor this life's accept() most likely returned.
    readFd: fc.option(fc.oneof({ weight: 3, arbitrary: fc.constant(OWN_FD) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) }), { freq: 6 }),
    bufSize: fc.oneof({ weight: 3, arbitrary: fc.constant(4096) }, { weight: 2, arbitrary: fc.constantFrom(...BOUNDARY_SIZES) }),
    again: fc.boolean(),
    dup: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }),
    // A disconnect as often as a close: a copy kept past it is only seen when
    // the socket that still holds one is disconnected, not closed. Or the
    // peer resets it: a Fast Open request reset after accept() is kept.
    end: fc.constantFrom<'close' | 'disconnect' | 'shutdown' | 'rst' | null>('close', 'close', 'disconnect', 'disconnect', 'shutdown', 'rst', null),
    how: howArb,
    after: fc.constantFrom<'read' | 'listen' | 'connect' | null>('read', 'listen', 'connect', null),
  }).map(({ syn, ack, accept, readFd, bufSize, again, dup, end, how, after }) => {
    const ops: Op[] = [syn];
    if (ack) ops.push({ kind: ack, conn: syn.conn });
    if (accept) ops.push({ kind: 'accept', fd: 0 });
    const twin = dup && accept;
    if (twin) ops.push({ kind: 'dup', fd: OWN_FD });
    const other = twin ? DUP_FD : readFd;
    if (readFd !== null) {
      ops.push({ kind: 'getsockopt', fd: readFd, optname: profile.readOpt, bufSize });
      // A second read: the retry after a short buffer, or the one-shot check.
      if (again && other !== null) ops.push({ kind: 'getsockopt', fd: other, optname: profile.readOpt, bufSize: 4096 });
    }
    // The end comes to the socket this life read, or else to the one it
    // accepted: a socket never read is the one still holding its copy.
    const fd = readFd ?? (accept ? OWN_FD : null);
    if (fd === null || end === null) return ops;
    if (end === 'rst') {
      ops.push({ kind: 'rst', conn: syn.conn });
      return ops;
    }
    ops.push(end === 'shutdown' ? { kind: 'shutdown', fd, how } : { kind: end, fd });
    const then = twin ? DUP_FD : fd;
    if (end !== 'close' && after !== null || twin && after === 'read') {
      ops.push(after === 'read'
        ? { kind: 'getsockopt', fd: then, optname: profile.readOpt, bufSize: 4096 }
        : after === 'listen' ? { kind: 'listen', fd: then, backlog: 1 } : { kind: 'connect', fd: then });
    }
    return ops;
  });
}

const OWN_FD = -1000;
/** The life number of a successor's ops. */
const SUCCESSOR = -2;
/** The descriptor this life's dup() most likely returned. */
const DUP_FD = -1001;

/** A new listener on the port: the old one closed (or shut, or
 * disconnected) while requests and children may be in flight, then a
 * fresh socket bound to the port, its mode set, listening. After a close
 * the new socket gets the old one's descriptor, 0, where the lives accept. */
function successorArb(profile: Profile): fc.Arbitrary<Op[]> {
  // Or the same listener again: SHUT_RD, then listen() anew, while its
  // accepted Fast Open children still hold requests of the last listen.
  const relisten = fc.integer({ min: 1, max: 4 }).map((backlog): Op[] => [
    { kind: 'shutdown', fd: 0, how: 0 }, { kind: 'listen', fd: 0, backlog },
  ]);
  return fc.oneof({ weight: 4, arbitrary: newListenerArb(profile) }, { weight: 1, arbitrary: relisten });
}

function newListenerArb(profile: Profile): fc.Arbitrary<Op[]> {
  return fc.record({
    end: fc.constantFrom<'close' | 'shutdown' | 'disconnect'>('close', 'close', 'close', 'shutdown', 'disconnect'),
    socket: socketArb,
    flag: fc.integer({ min: 0, max: profile.maxFlag }),
    backlog: fc.integer({ min: 1, max: 4 }),
  }).map(({ end, socket, flag, backlog }) => [
    end === 'shutdown' ? { kind: 'shutdown', fd: 0, how: 0 } : { kind: end, fd: 0 },
    socket,
    { kind: 'bind', fd: NEW_FD },
    { kind: 'setsockopt', fd: NEW_FD, optname: profile.setOpt, value: flag },
    { kind: 'listen', fd: NEW_FD, backlog },
  ] satisfies Op[]);
}

/** A SO_REUSEPORT group of two on the port: the service socket, and a
 * fresh one (fd 1) in a mode of its own; where each life's SYN goes and
 * where it is accepted; and maybe one of the two closed or shut while
 * requests and children are in flight, with migration on or off. */
function groupArb(profile: Profile) {
  return fc.record({
    flag: fc.integer({ min: 0, max: profile.maxFlag }),
    backlog: fc.integer({ min: 1, max: 4 }),
    steer: fc.array(fc.tuple(toArb, fc.integer({ min: 0, max: 2 })), { minLength: 3, maxLength: 3 }),
    // A third member now and then: only then does the slot a leaver gives
    // up go to another than the one beside it.
    third: fc.option(fc.integer({ min: 0, max: profile.maxFlag }), { freq: 3 }),
    leave: fc.option(fc.record({
      kind: fc.constantFrom('close' as const, 'close' as const, 'shutdown' as const),
      fd: fc.integer({ min: 0, max: 2 }),
    }), { freq: 4 }),
    // Migration on more often than off: it is where a SYN changes hands.
    migrate: fc.option(fc.constantFrom(1, 1, 0), { freq: 3 }),
    timers: fc.boolean(),
  }).map(({ flag, backlog, steer, third, leave, migrate, timers }) => {
    const members = third === null ? 2 : 3;
    const member = (fd: number, mode: number): Op[] => [
      { kind: 'socket' }, { kind: 'reuseport', fd }, { kind: 'bind', fd },
      { kind: 'listen', fd, backlog }, { kind: 'setsockopt', fd, optname: profile.setOpt, value: mode },
    ];
    const leaver = leave === null ? null : leave.fd % members;
    return {
      members,
      sibling: [
        ...(migrate === null ? [] : [{ kind: 'sysctl', name: 'tcp_migrate_req', value: migrate } satisfies Op]),
        ...member(1, flag), ...(third === null ? [] : member(2, third)),
      ],
      steer: steer.map(([to, side]) => [to, side % members] as const),
      timers,
      leave: leave === null || leaver === null ? null
        : leave.kind === 'shutdown' ? { kind: 'shutdown', fd: leaver, how: 0 } satisfies Op : { kind: 'close', fd: leaver } satisfies Op,
    };
  });
}

/** The descriptor a successor's socket() most likely returned. */
const NEW_FD = -1002;
/** The life number, and the likely descriptor, of a listener of the other family. */
const BESIDE = -3;
const BESIDE_FD = -1003;

/** A listener of the other family beside the one on the port: an AF_INET
 * socket (refused beside a dual-stack listener, welcome beside a v6only
 * one) or a v6only one, bound, its mode set, listening, accepting once.
 * Half the time the service socket is made v6only first (`v6only`), so
 * that the two listen side by side. */
function besideArb(profile: Profile): fc.Arbitrary<{ v6only: boolean; ops: Op[] }> {
  return fc.record({
    v6only: fc.boolean(),
    socket: fc.constantFrom<Op>({ kind: 'socket', family: 4 }, { kind: 'socket', family: 4 }, { kind: 'socket', v6only: 1 }),
    flag: fc.integer({ min: 0, max: profile.maxFlag }),
    accept: fc.boolean(),
  }).map(({ v6only, socket, flag, accept }) => ({ v6only, ops: [
    v6only ? { kind: 'socket', family: 4 } : socket,
    socket,
    { kind: 'bind', fd: BESIDE_FD },
    { kind: 'setsockopt', fd: BESIDE_FD, optname: profile.setOpt, value: flag },
    { kind: 'listen', fd: BESIDE_FD, backlog: 4 },
    ...(accept ? [{ kind: 'accept', fd: BESIDE_FD } satisfies Op] : []),
  ] satisfies Op[] }));
}

/** A case shaped like real use: a listener set up (or not), a few
 * connections' lives interleaved with each other and with random ops, and
 * now and then a new listener taking over the port. */
function structuredArb(profile: Profile, maxLength: number): fc.Arbitrary<Op[]> {
  return fc.record({
    sysctls: fc.array(opArb(profile).filter((o) => o.kind === 'sysctl'), { maxLength: 1 }),
    listen: fc.option(fc.integer({ min: 0, max: 4 }), { freq: 6 }),
    flag: fc.option(fc.integer({ min: 0, max: profile.maxFlag }), { freq: 6 }),
    flagFirst: fc.boolean(),
    lives: fc.array(lifecycleArb(profile), { minLength: 1, maxLength: 3 }),
    successor: fc.option(successorArb(profile), { freq: 5 }),
    // A second listener on the port: a member of an SO_REUSEPORT group
    // (three cases in four, where migration lives), else now and then one
    // of the other family (one in five of the rest).
    group: fc.option(groupArb(profile), { freq: 4 }),
    beside: fc.oneof({ weight: 4, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: besideArb(profile) }),
    noise: fc.array(opArb(profile), { maxLength: 8 }),
    picks: fc.array(fc.nat(), { minLength: maxLength, maxLength }),
    // Fast Open on from the start, and which lives open with data: where a
    // child waits for its final ACK while its listener goes or listens anew.
    // Half the time its queue holds one, so that what it counts shows.
    // A Fast Open life's accept() comes before its final ACK, as a server's
    // does, half the time; the ACK then comes late.
    fastOpen: fc.option(fc.record({
      lives: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      acceptFirst: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      queueOfOne: fc.boolean(),
    }), { freq: 4 }),
  }).map(({ sysctls, listen, flag, flagFirst, lives, successor, group, beside: besideDrawn, noise, picks, fastOpen }) => {
    if (fastOpen !== null) {
      sysctls = [{ kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, ...sysctls];
      if (fastOpen.queueOfOne && listen !== null) listen = 1;
      lives = lives.map((l, i) => {
        if (!fastOpen.lives[i] || l[0].kind !== 'syn') return l;
        const life: Op[] = [{ kind: 'fastOpenSyn', conn: l[0].conn, packet: { ...l[0].packet, payload: 10, fastOpen: 'request' } }, ...l.slice(1)];
        // The final ACK then comes last of all, after the reads and the end.
        if (fastOpen.acceptFirst[i] && life[1]?.kind === 'ack' && life[2]?.kind === 'accept') life.push(...life.splice(1, 1));
        return life;
      });
    }
    // Both would be descriptor 1: the group's member wins.
    const beside = group === null ? besideDrawn : null;
    const prefix: Op[] = [...sysctls];
    if (beside?.v6only) prefix.push({ kind: 'close', fd: 0 }, { kind: 'socket', v6only: 1 }, { kind: 'bind', fd: 0 });
    const listenOp: Op[] = listen === null ? [] : [{ kind: 'listen', fd: 0, backlog: listen }];
    const flagOp: Op[] = flag === null ? [] : [{ kind: 'setsockopt', fd: 0, optname: profile.setOpt, value: flag }];
    if (group !== null) prefix.push({ kind: 'reuseport', fd: 0 });
    prefix.push(...(flagFirst ? [...flagOp, ...listenOp] : [...listenOp, ...flagOp]));
    // Beside a v6only service socket the AF_INET listener is set up before
    // any peer, as descriptor 1; only its accept is interleaved.
    const besideQueue = beside === null ? [] : beside.v6only ? beside.ops.slice(4) : beside.ops;
    if (beside?.v6only) prefix.push(...beside.ops.slice(0, 4).map((op) => ('fd' in op ? { ...op, fd: 1 } : op)));
    // A second listener in the group, fd 1: each life's SYN steered to one
    // of the two, its accept on one of them; and then one of the two may go.
    if (group !== null) {
      prefix.push(...group.sibling);
      lives = lives.map((l, i) => l.map((op): Op => {
        const [to, side] = group.steer[i];
        if (op.kind === 'syn' || op.kind === 'fastOpenSyn') return { ...op, to };
        return op.kind === 'accept' && op.fd === 0 ? { ...op, fd: side } : op;
      }));
    }
    // Interleave the lives and the noise, keeping each one's own order. A
    // life reads the descriptor its own accept() most likely got: the next
    // one up, as descriptors are handed out lowest first; a life that did not
    // accept reads the latest socket that was.
    const queues = [...lives.map((l, life) => l.map((op) => ({ op, life }))), ...noise.map((op) => [{ op, life: -1 }])];
    if (successor !== null) queues.push(successor.map((op) => ({ op, life: SUCCESSOR })));
    if (besideQueue.length > 0) queues.push(besideQueue.map((op) => ({ op, life: BESIDE })));
    // A member leaves, and maybe then the SYN-ACK timers of the lives'
    // requests fire: with migration, the requests move to another member.
    if (group?.leave) {
      const timers: Op[] = group.timers ? lives.flatMap((l) => l.filter((o) => o.kind === 'syn').map((o): Op => ({ kind: 'synackRetransmit', conn: o.conn }))) : [];
      queues.push([group.leave, ...timers].map((op) => ({ op, life: -1 })));
    }
    let newFd = 0;
    let besideFd = beside?.v6only ? 1 : 0;
    const ownFd = new Map<number, number>();
    const dupFd = new Map<number, number>();
    // Descriptors handed out after the service socket (and the listener
    // beside it, or the group's second member): accepts and dups.
    let accepted = group === null ? besideFd : group.members - 1;
    const out = [...prefix];
    let i = 0;
    while (queues.length > 0 && out.length < maxLength) {
      const q = queues[picks[i++ % picks.length] % queues.length];
      const { op, life } = q.shift()!;
      const resolved = !('fd' in op) ? op
        : op.fd === OWN_FD ? { ...op, fd: ownFd.get(life) ?? accepted }
          : op.fd === DUP_FD ? { ...op, fd: dupFd.get(life) ?? accepted }
            : op.fd === NEW_FD ? { ...op, fd: newFd }
              : op.fd === BESIDE_FD ? { ...op, fd: besideFd } : op;
      // After a close of 0 the new socket takes 0; otherwise the next one up.
      if (op.kind === 'socket' && life === SUCCESSOR) newFd = out.some((o) => o.kind === 'close' && o.fd === 0) ? 0 : ++accepted;
      if (op.kind === 'socket' && life === BESIDE) besideFd = ++accepted;
      if (op.kind === 'accept') {
        accepted++;
        if (life >= 0) ownFd.set(life, accepted);
      }
      if (op.kind === 'dup' && life >= 0) dupFd.set(life, ++accepted);
      out.push(resolved);
      if (q.length === 0) queues.splice(queues.indexOf(q), 1);
    }
    // A setup prefix (a v6only service socket and a listener beside it, or
    // a group's members) can itself outgrow a small maxLength.
    return out.length > 0 ? out.slice(0, maxLength) : [{ kind: 'expireAll' }];
  });
}

export function opsArb(profile: Profile, maxLength = 30): fc.Arbitrary<Op[]> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.array(opArb(profile), { minLength: 1, maxLength }) },
    { weight: 3, arbitrary: structuredArb(profile, maxLength) },
  );
}
