// The finite alphabet `verify` explores: every op it may append to a
// sequence, given the bounds and the state reached. Values are taken by
// equivalence class, not enumerated: a buffer is negative, empty, one byte
// short of the SYN kept, exactly its size, or larger; a flag is each value
// the profile accepts and one on each side of the range.

import { DEFAULT_PACKET, type PacketDescriptor } from '../../model/packet.ts';
import type { Op, SocketOp, SysctlName } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';
import type { SpecWorld } from '../../model/spec/world.ts';
import { names, parseKind, selector, valueOf, type AlphabetKind, type KindName } from './selectors.ts';

export type { AlphabetKind } from './selectors.ts';

/** What the alphabet needs of a state: the size of the SYN the spec says
 * each descriptor in bounds keeps (undefined: none), and whether one of
 * them is free. */
export interface KeptSizes {
  sizes: readonly (number | undefined)[];
  /** socket() would return a descriptor in bounds. */
  free: boolean;
}

export function keptSizes(spec: SpecWorld, bounds: VerifyBounds): KeptSizes {
  const sizes: (number | undefined)[] = [];
  let free = false;
  for (let fd = 0; fd < bounds.fds; fd++) {
    sizes.push(spec.socketOf(fd)?.kept?.bytes.length);
    if (spec.fds[fd] === undefined) free = true;
  }
  return { sizes, free };
}

export interface VerifyBounds {
  /** Sequences of at most this many ops (default 8). */
  depth: number;
  /** Peers 1..peers send packets (default 1). */
  peers: number;
  /** Descriptors 0..fds-1 are operated on (default 2). */
  fds: number;
  /** The first `shapes` packet shapes of SHAPES are sent as plain SYNs (default 1). */
  shapes: number;
  /** SO_REUSEPORT groups and what moves between their members: `reuseport`
   * on each descriptor, every SYN also steered to group indexes 1..fds-1,
   * each peer's SYN-ACK retransmission timer, and tcp_migrate_req 0|1
   * (default off). */
  groups: boolean;
  /** Socket families: AF_INET and IPV6_V6ONLY sockets besides the
   * dual-stack default, and SYNs of both IP versions (the IPv6 shape is
   * added when the shapes leave it out) (default off). */
  families: boolean;
  /** Only ops of these kinds, of those the other bounds offer (default:
   * every kind they offer); a sysctl's name stands for its settings alone,
   * and `kind=value` for one backlog, mode, how or setting (selectors.ts). */
  kinds?: readonly AlphabetKind[];
}

export const DEFAULT_BOUNDS: VerifyBounds = { depth: 8, peers: 1, fds: 2, shapes: 1, groups: false, families: false };

/** Packet shapes, in the order --shapes takes them: the default loopback
 * SYN, an Ethernet IPv6 one (the MAC header matters to today's mode 2), one
 * with IP options on a device with no MAC header, and an IPv6 one carrying
 * every extension header (hop-by-hop, segment routing, destination
 * options), which a copy that assumes a fixed IPv6 header gets wrong. Each
 * differs from the others in some header length, which canonical.ts relies
 * on to name a packet by its lengths. */
export const SHAPES: readonly PacketDescriptor[] = [
  DEFAULT_PACKET,
  { ...DEFAULT_PACKET, family: 6, mac: 'ethernet' },
  { ...DEFAULT_PACKET, mac: 'none', ipOptions: true },
  { ...DEFAULT_PACKET, family: 6, hopByHop: 8, routing: true, destOpts: true },
];

/** The IPv6 shape `families` adds when the shapes leave it out. */
const IPV6_SHAPE = SHAPES[1];

/** The sockets `families` adds: AF_INET, and AF_INET6 with IPV6_V6ONLY. */
const FAMILY_SOCKETS: readonly SocketOp[] = [{ kind: 'socket', family: 4 }, { kind: 'socket', v6only: 1 }];

/** The SYN shapes offered: the first `shapes`, and the IPv6 one with `families`. */
export function shapesOffered(bounds: VerifyBounds): readonly PacketDescriptor[] {
  const out = SHAPES.slice(0, bounds.shapes);
  if (bounds.families && !out.includes(IPV6_SHAPE)) out.push(IPV6_SHAPE);
  return out;
}

/** The SYN of a Fast Open handshake: a cookie and a few bytes of data. */
export const FAST_OPEN_SHAPE: PacketDescriptor = { ...DEFAULT_PACKET, fastOpen: 'cookie', payload: 8 };

/** Larger than any SYN the shapes build. */
const LARGE_BUFFER = 4096;
const INT_SIZE = 4;

/** Peers are named in order of first appearance along a sequence: a
 * sequence that uses peer 3 before peer 2 is a renaming of one that does
 * not, so only the peers already used and the lowest unused one are
 * offered. `used` counts the peers already used (they are 1..used). */
export function peersOffered(bounds: VerifyBounds, used: number): number[] {
  const out: number[] = [];
  for (let p = 1; p <= Math.min(used + 1, bounds.peers); p++) out.push(p);
  return out;
}

/** How many distinct peers (1..n, in first-appearance order) `op` leaves used. */
export function peersUsedAfter(op: Op, used: number): number {
  return 'conn' in op ? Math.max(used, op.conn) : used;
}

/** Every op offered in a state, in a fixed order: the order decides which of
 * two equally short counterexamples is reported, so it never varies. The
 * ops the options add come after the default ones of their kind, so the
 * default alphabet's order is kept. */
export function alphabet(profile: Profile, bounds: VerifyBounds, kept: KeptSizes, peersUsed: number): Op[] {
  const ops: Op[] = [];
  // A socket past the descriptors in bounds could never be operated on:
  // it would only renumber what later calls return past them, so socket()
  // is offered while it would name one in bounds.
  if (kept.free) {
    ops.push({ kind: 'socket' });
    if (bounds.families) ops.push(...FAMILY_SOCKETS);
  }
  const flagValues: number[] = [];
  for (let v = 0; v <= profile.maxFlag + 1; v++) flagValues.push(v);
  flagValues.push(-1);
  for (let fd = 0; fd < bounds.fds; fd++) {
    ops.push({ kind: 'listen', fd, backlog: 0 }, { kind: 'listen', fd, backlog: 1 }, { kind: 'accept', fd });
    for (const value of flagValues) ops.push({ kind: 'setsockopt', fd, optname: profile.setOpt, value });
    for (const bufSize of readSizes(kept.sizes[fd])) ops.push({ kind: 'getsockopt', fd, optname: profile.readOpt, bufSize });
    if (profile.flagOpt !== undefined && profile.flagOpt !== profile.readOpt) {
      for (const bufSize of [-1, 0, INT_SIZE]) ops.push({ kind: 'getsockopt', fd, optname: profile.flagOpt, bufSize });
    }
    ops.push({ kind: 'close', fd }, { kind: 'disconnect', fd }, { kind: 'connect', fd }, { kind: 'dup', fd }, { kind: 'bind', fd });
    // SHUT_RD, SHUT_WR, SHUT_RDWR, and one past the range.
    for (const how of [0, 1, 2, 3]) ops.push({ kind: 'shutdown', fd, how });
    if (bounds.groups) ops.push({ kind: 'reuseport', fd });
  }
  // `to` is taken modulo the group's size, and only descriptors in bounds
  // listen, so 0..fds-1 reach every member of a group (0 is the unsteered
  // SYN); only a listener kept past them by a dup of a closed descriptor
  // makes a larger group, whose last members are then reached only through
  // the order of the others.
  const steering = bounds.groups ? Array.from({ length: bounds.fds - 1 }, (_, i) => i + 1) : [];
  const shapes = shapesOffered(bounds);
  for (const conn of peersOffered(bounds, peersUsed)) {
    for (const packet of shapes) {
      ops.push({ kind: 'syn', conn, packet });
      for (const to of steering) ops.push({ kind: 'syn', conn, packet, to });
    }
    // ackRetransmit and cookieAck reach the same code as ack in the
    // modelled stack and in the spec: one of the three stands for all.
    ops.push({ kind: 'fastOpenSyn', conn, packet: FAST_OPEN_SHAPE });
    for (const to of steering) ops.push({ kind: 'fastOpenSyn', conn, packet: FAST_OPEN_SHAPE, to });
    ops.push({ kind: 'ack', conn }, { kind: 'rst', conn }, { kind: 'synackTimeout', conn });
    if (bounds.groups) ops.push({ kind: 'synackRetransmit', conn });
  }
  for (const value of [0, 1, 2]) ops.push({ kind: 'sysctl', name: 'tcp_syncookies', value });
  for (const value of [0, 1]) ops.push({ kind: 'sysctl', name: 'tcp_fastopen', value });
  if (bounds.groups) for (const value of [0, 1]) ops.push({ kind: 'sysctl', name: 'tcp_migrate_req', value });
  ops.push({ kind: 'expireAll' });
  return bounds.kinds === undefined ? ops : ops.filter(selectorOf(bounds.kinds));
}

/** The selector of each `kinds` list met, made once: the alphabet is asked
 * for at every state. */
const selectors = new WeakMap<readonly AlphabetKind[], (op: Op) => boolean>();

function selectorOf(kinds: readonly AlphabetKind[]): (op: Op) => boolean {
  let s = selectors.get(kinds);
  if (s === undefined) {
    s = selector(kinds);
    selectors.set(kinds, s);
  }
  return s;
}

/** The values of `name`'s ops the bounds offer (empty: it takes none). */
export function valuesOffered(profile: Profile, bounds: VerifyBounds, name: KindName): number[] {
  const out: number[] = [];
  for (const op of alphabet(profile, { ...bounds, kinds: undefined }, { sizes: [], free: true }, 0)) {
    const v = valueOf(op);
    if (names(name, op) && v !== undefined && !out.includes(v)) out.push(v);
  }
  return out;
}

/** The kinds of op the bounds offer, whatever the state: what `kinds` may
 * name. */
export function kindsOffered(profile: Profile, bounds: VerifyBounds): KindName[] {
  const kinds: KindName[] = [];
  for (const op of alphabet(profile, { ...bounds, kinds: undefined }, { sizes: [], free: true }, 0)) {
    if (!kinds.includes(op.kind)) kinds.push(op.kind);
    if (op.kind === 'sysctl' && !kinds.includes(op.name)) kinds.push(op.name);
  }
  return kinds;
}

/** Buffer sizes by class: negative, 0, and, when the spec says the socket
 * keeps a SYN of n bytes, n - 1, n and larger; otherwise larger only. */
function readSizes(n: number | undefined): number[] {
  return n === undefined ? [-1, 0, LARGE_BUFFER] : [-1, 0, n - 1, n, LARGE_BUFFER];
}

/** The alphabet as the certificate lists it: kinds and value classes, and
 * what the options add. */
export function describeAlphabet(profile: Profile, bounds: VerifyBounds): string {
  const steered = bounds.groups && bounds.fds > 1 ? ` (to 0..${bounds.fds - 1})` : '';
  const shapes = shapesOffered(bounds).length;
  const offered = new Set(kindsOffered(profile, bounds));
  const chosen = bounds.kinds?.map(parseKind);
  const wanted = (kind: KindName): boolean => offered.has(kind) && (chosen === undefined || chosen.some((k) => k.name === kind));
  // The values of a kind `kinds` keeps: all, or those it names.
  const values = (kind: KindName, all: readonly number[]): string => {
    const named = chosen === undefined || chosen.some((k) => k.name === kind && k.value === undefined) ? all : all.filter((v) => chosen.some((k) => k.name === kind && k.value === v));
    return named.join(kind === 'setsockopt' ? ',' : '|');
  };
  const flags = [...Array.from({ length: profile.maxFlag + 2 }, (_, v) => v), -1];
  const sysctl = (name: SysctlName, all: number[]): string[] => {
    if (!offered.has(name)) return [];
    const whole = chosen === undefined || chosen.some((k) => k.name === 'sysctl');
    return whole ? [`${name} ${all.join('|')}`] : wanted(name) ? [`${name} ${values(name, all)}`] : [];
  };
  const sysctls = [...sysctl('tcp_syncookies', [0, 1, 2]), ...sysctl('tcp_fastopen', [0, 1]), ...sysctl('tcp_migrate_req', [0, 1])];
  const part = (kind: KindName, text: string): string[] => (wanted(kind) ? [text] : []);
  const fdParts = [
    ...part('listen', `listen(fd, ${values('listen', [0, 1])})`), ...part('accept', 'accept'),
    ...part('setsockopt', `setsockopt(${profile.setOpt}, ${values('setsockopt', flags)})`),
    ...part('getsockopt', `getsockopt(${profile.readOpt}, -1|0|needed-1|needed|${LARGE_BUFFER})`),
    ...(profile.flagOpt !== undefined && profile.flagOpt !== profile.readOpt ? part('getsockopt', `getsockopt(${profile.flagOpt}, -1|0|4)`) : []),
    ...part('close', 'close'), ...part('disconnect', 'disconnect'), ...part('connect', 'connect'), ...part('dup', 'dup'), ...part('bind', 'bind'),
    ...part('shutdown', `shutdown(${values('shutdown', [0, 1, 2, 3])})`), ...part('reuseport', 'reuseport'),
  ];
  const peerParts = [
    ...part('syn', `syn x${shapes} shape(s)${steered}`), ...part('fastOpenSyn', `fastOpenSyn${steered}`), ...part('ack', 'ack'),
    ...part('rst', 'rst'), ...part('synackTimeout', 'synackTimeout'), ...part('synackRetransmit', 'synackRetransmit'),
  ];
  const parts = [
    ...part('socket', bounds.families ? 'socket(inet6|inet|inet6 v6only)' : 'socket'),
    ...(fdParts.length > 0 ? [...fdParts, `on fds 0..${bounds.fds - 1};`] : []),
    ...(peerParts.length > 0 ? [...peerParts, `from peers 1..${bounds.peers};`] : []),
    ...(sysctls.length > 0 ? [`sysctl ${sysctls.join(', ')}`] : []),
    ...part('expireAll', 'expireAll'),
  ];
  return parts.join(' ');
}

/** A number for each SYN an op sends, by peer and shape: what the bounds
 * oracle remembers of a path, as the state hash takes it. */
export function sentCode(op: Op): number | undefined {
  if (op.kind === 'fastOpenSyn') return op.conn * 8 + 7;
  if (op.kind !== 'syn') return undefined;
  const shape = shapeOf(op.packet);
  // A shape from outside the alphabet (a hand-made path) is told apart by
  // its lengths in the hash of the state itself; here it needs a code only.
  return op.conn * 8 + (shape < 0 ? 6 : shape);
}

/** Which of SHAPES `p` is: the same object, as the alphabet made it, or,
 * for an op copied from another thread (a path sent to a verify worker),
 * the same fields. */
function shapeOf(p: PacketDescriptor): number {
  const same = SHAPES.indexOf(p);
  return same >= 0 ? same : SHAPES.findIndex((s) => samePacket(s, p));
}

function samePacket(a: PacketDescriptor, b: PacketDescriptor): boolean {
  const x = a as unknown as Record<string, unknown>;
  const y = b as unknown as Record<string, unknown>;
  for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) if (x[k] !== y[k]) return false;
  return true;
}

/** The codes of the SYNs `ops` send, sorted, each once. */
export function sentCodes(ops: readonly Op[], into: readonly number[] = []): number[] {
  const out = new Set(into);
  for (const op of ops) {
    const c = sentCode(op);
    if (c !== undefined) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}
