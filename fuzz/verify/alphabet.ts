// The finite alphabet `verify` explores: every op it may append to a
// sequence, given the bounds and the state reached. Values are taken by
// equivalence class, not enumerated: a buffer is negative, empty, one byte
// short of the SYN kept, exactly its size, or larger; a flag is each value
// the profile accepts and one on each side of the range.

import { DEFAULT_PACKET, type PacketDescriptor } from '../../model/packet.ts';
import type { Op } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';
import type { SpecWorld } from '../../model/spec/world.ts';

/** What the alphabet needs of a state: the size of the SYN the spec says
 * each descriptor in bounds keeps (undefined: none). */
export type KeptSizes = readonly (number | undefined)[];

export function keptSizes(spec: SpecWorld, bounds: VerifyBounds): KeptSizes {
  const out: (number | undefined)[] = [];
  for (let fd = 0; fd < bounds.fds; fd++) out.push(spec.socketOf(fd)?.kept?.bytes.length);
  return out;
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
}

export const DEFAULT_BOUNDS: VerifyBounds = { depth: 8, peers: 1, fds: 2, shapes: 1 };

/** Packet shapes, in the order --shapes takes them: the default loopback
 * SYN, an Ethernet IPv6 one (the MAC header matters to today's mode 2), and
 * one with IP options on a device with no MAC header. Each differs from the
 * others in some header length, which canonical.ts relies on to name a
 * packet by its lengths. */
export const SHAPES: readonly PacketDescriptor[] = [
  DEFAULT_PACKET,
  { ...DEFAULT_PACKET, family: 6, mac: 'ethernet' },
  { ...DEFAULT_PACKET, mac: 'none', ipOptions: true },
];

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
 * two equally short counterexamples is reported, so it never varies. */
export function alphabet(profile: Profile, bounds: VerifyBounds, kept: KeptSizes, peersUsed: number): Op[] {
  const ops: Op[] = [{ kind: 'socket' }];
  const flagValues: number[] = [];
  for (let v = 0; v <= profile.maxFlag + 1; v++) flagValues.push(v);
  flagValues.push(-1);
  for (let fd = 0; fd < bounds.fds; fd++) {
    ops.push({ kind: 'listen', fd, backlog: 0 }, { kind: 'listen', fd, backlog: 1 }, { kind: 'accept', fd });
    for (const value of flagValues) ops.push({ kind: 'setsockopt', fd, optname: profile.setOpt, value });
    for (const bufSize of readSizes(kept[fd])) ops.push({ kind: 'getsockopt', fd, optname: profile.readOpt, bufSize });
    if (profile.flagOpt !== undefined && profile.flagOpt !== profile.readOpt) {
      for (const bufSize of [-1, 0, INT_SIZE]) ops.push({ kind: 'getsockopt', fd, optname: profile.flagOpt, bufSize });
    }
    ops.push({ kind: 'close', fd }, { kind: 'disconnect', fd }, { kind: 'connect', fd }, { kind: 'dup', fd }, { kind: 'bind', fd });
    // SHUT_RD, SHUT_WR, SHUT_RDWR, and one past the range.
    for (const how of [0, 1, 2, 3]) ops.push({ kind: 'shutdown', fd, how });
  }
  for (const conn of peersOffered(bounds, peersUsed)) {
    for (const packet of SHAPES.slice(0, bounds.shapes)) ops.push({ kind: 'syn', conn, packet });
    // ackRetransmit and cookieAck reach the same code as ack in the
    // modelled stack and in the spec: one of the three stands for all.
    ops.push(
      { kind: 'fastOpenSyn', conn, packet: FAST_OPEN_SHAPE }, { kind: 'ack', conn }, { kind: 'rst', conn },
      { kind: 'synackTimeout', conn },
    );
  }
  for (const value of [0, 1, 2]) ops.push({ kind: 'sysctl', name: 'tcp_syncookies', value });
  for (const value of [0, 1]) ops.push({ kind: 'sysctl', name: 'tcp_fastopen', value });
  ops.push({ kind: 'expireAll' });
  return ops;
}

/** Buffer sizes by class: negative, 0, and, when the spec says the socket
 * keeps a SYN of n bytes, n - 1, n and larger; otherwise larger only. */
function readSizes(n: number | undefined): number[] {
  return n === undefined ? [-1, 0, LARGE_BUFFER] : [-1, 0, n - 1, n, LARGE_BUFFER];
}

/** The alphabet as the certificate lists it: kinds and value classes. */
export function describeAlphabet(profile: Profile, bounds: VerifyBounds): string {
  const flags = [...Array.from({ length: profile.maxFlag + 2 }, (_, v) => v), -1].join(',');
  const parts = [
    'socket', `listen(fd, 0|1)`, 'accept', `setsockopt(${profile.setOpt}, ${flags})`,
    `getsockopt(${profile.readOpt}, -1|0|needed-1|needed|${LARGE_BUFFER})`,
    ...(profile.flagOpt !== undefined && profile.flagOpt !== profile.readOpt ? [`getsockopt(${profile.flagOpt}, -1|0|4)`] : []),
    'close', 'disconnect', 'connect', 'dup', 'bind', 'shutdown(0|1|2|3)', `on fds 0..${bounds.fds - 1};`,
    `syn x${bounds.shapes} shape(s)`, 'fastOpenSyn', 'ack', 'rst', 'synackTimeout', `from peers 1..${bounds.peers};`,
    'sysctl tcp_syncookies 0|1|2, tcp_fastopen 0|1', 'expireAll',
  ];
  return parts.join(' ');
}

/** A number for each SYN an op sends, by peer and shape: what the bounds
 * oracle remembers of a path, as the state hash takes it. */
export function sentCode(op: Op): number | undefined {
  if (op.kind === 'fastOpenSyn') return op.conn * 8 + 7;
  if (op.kind !== 'syn') return undefined;
  const shape = SHAPES.indexOf(op.packet);
  // A shape from outside the alphabet (a hand-made path) is told apart by
  // its lengths in the hash of the state itself; here it needs a code only.
  return op.conn * 8 + (shape < 0 ? 6 : shape);
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
