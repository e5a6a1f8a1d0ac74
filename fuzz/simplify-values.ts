// Removing ops leaves the values fast-check happened to land on: a Fast
// Open SYN where a plain one fails the same way, descriptor 2 where 1 would
// do, a 72-byte buffer where 60 is the boundary that matters. A report reads
// best when every value is the simplest that still fails, so each value gets
// candidates one step simpler, simplest first, and a case is value-minimal
// when none of them fails. Every step lowers a well-founded rank, so the
// shrink ends.

import type { Op, SteeredSyn } from '../model/ops.ts';
import { DEFAULT_PACKET, type PacketDescriptor } from '../model/packet.ts';
import { BOUNDARY_SIZES } from './arbitraries.ts';

/** 0, 1, -1, 2, -2, …: non-negative before negative at equal magnitude. */
export function intRank(v: number): number {
  return v > 0 ? 2 * v - 1 : -2 * v;
}

/** Simpler integers than `v`, simplest first: 0, the small ones and the
 * boundaries given, half of `v`, and `v` one step towards 0, so a value
 * none of these fails for is at a local minimum. */
export function simplerInts(v: number, boundaries: readonly number[] = []): number[] {
  const towards = v > 0 ? v - 1 : v < 0 ? (v === -1 ? 1 : v + 1) : v;
  const all = [0, 1, -1, ...boundaries, Math.trunc(v / 2), towards];
  const seen = new Set<number>();
  // A count or a size that was not negative stays so: -1 is simpler by rank
  // but reads as another case, not a simpler one.
  return all.filter((x) => Number.isInteger(x) && intRank(x) < intRank(v) && (v < 0 || x >= 0) && !seen.has(x) && (seen.add(x), true))
    .sort((a, b) => intRank(a) - intRank(b));
}

/** Peers count from 1; peer 0 is as complex as a peer past every other. */
function connRank(c: number): number {
  return c >= 1 ? c - 1 : Number.MAX_SAFE_INTEGER;
}

const SMALL_SIZES = [1, 4];

/** The optional fields, IPv6 extension headers, whose default is absence. */
const EXT_KEYS = ['hopByHop', 'routing', 'destOpts'] as const;
const hasExt = (p: PacketDescriptor, k: (typeof EXT_KEYS)[number]): boolean => p[k] !== undefined;

/** `p` without the optional field `k`: absent, not set to a default value,
 * so a shrunk descriptor prints as one written before the field existed. */
function without(p: PacketDescriptor, k: (typeof EXT_KEYS)[number]): PacketDescriptor {
  const { [k]: _gone, ...rest } = p;
  return rest;
}

function withPacket(p: PacketDescriptor): PacketDescriptor {
  // The default's own object is what the generators use and what a report
  // prints without options.
  const same = (Object.keys(DEFAULT_PACKET) as (keyof PacketDescriptor)[]).every((k) => p[k] === DEFAULT_PACKET[k])
    && EXT_KEYS.every((k) => !hasExt(p, k));
  return same ? DEFAULT_PACKET : p;
}

/** Simpler packets: the default, then one field at a time back to it. */
function simplerPackets(p: PacketDescriptor): PacketDescriptor[] {
  if (p === DEFAULT_PACKET) return [];
  const out: PacketDescriptor[] = [];
  const keys = Object.keys(DEFAULT_PACKET) as (keyof PacketDescriptor)[];
  const differing = keys.filter((k) => p[k] !== DEFAULT_PACKET[k]);
  const ext = EXT_KEYS.filter((k) => hasExt(p, k));
  if (differing.length + ext.length === 0) return [DEFAULT_PACKET];
  if (differing.length + ext.length > 1) out.push(DEFAULT_PACKET);
  // A 16-byte hop-by-hop header shrinks to the 8-byte one before it goes.
  if (p.hopByHop === 16) out.push({ ...p, hopByHop: 8 });
  for (const k of ext) out.push(withPacket(without(p, k)));
  for (const k of differing) {
    if (k === 'payload') {
      for (const n of simplerInts(p.payload).filter((x) => x >= 0)) out.push(withPacket({ ...p, payload: n }));
    } else {
      out.push(withPacket({ ...p, [k]: DEFAULT_PACKET[k] }));
    }
  }
  return out;
}

/** A SYN without a group index (index 0, and the one listener), then a
 * smaller index. */
function simplerSteering(op: SteeredSyn): Op[] {
  if (op.to === undefined) return [];
  const { to, ...plain } = op;
  return [plain, ...simplerInts(to).filter((x) => x >= 0).map((t): Op => ({ ...op, to: t }))];
}

/** Every op one value step simpler than `op`, simplest first. */
function simplerOps(op: Op): Op[] {
  switch (op.kind) {
    case 'socket':
      // Toward the dual-stack socket, written without the fields.
      return op.family !== undefined || op.v6only !== undefined ? [{ kind: 'socket' }] : [];
    case 'listen':
      return simplerInts(op.backlog).map((backlog) => ({ ...op, backlog }));
    case 'setsockopt':
      return simplerInts(op.value).map((value) => ({ ...op, value }));
    case 'getsockopt':
      return simplerInts(op.bufSize, [...SMALL_SIZES, ...BOUNDARY_SIZES]).map((bufSize) => ({ ...op, bufSize }));
    case 'sysctl':
      return simplerInts(op.value).map((value) => ({ ...op, value }));
    case 'flood':
      return simplerInts(op.count).filter((n) => n >= 1).map((count) => ({ ...op, count }));
    case 'fastOpenSyn':
      return [
        { kind: 'syn', conn: op.conn, packet: withPacket({ ...op.packet, fastOpen: 'none' }) },
        { kind: 'syn', conn: op.conn, packet: op.packet },
        ...simplerSteering(op),
        ...simplerPackets(op.packet).map((packet): Op => ({ ...op, packet })),
      ];
    case 'syn':
      return [...simplerSteering(op), ...simplerPackets(op.packet).map((packet) => ({ ...op, packet }))];
    default:
      return [];
  }
}

function floodRanges(ops: readonly Op[]): Array<[number, number]> {
  return ops.flatMap((op): Array<[number, number]> => (op.kind === 'flood' ? [[op.first, op.first + op.count - 1]] : []));
}

/** Renaming descriptor `d` to a lower one, everywhere: first to one no op
 * names, then to one that is named, so that calls through a dup() (or any
 * second descriptor) go through the first and the op that made the second
 * can go. */
function fdRenames(ops: readonly Op[]): Op[][] {
  const used = new Set<number>();
  for (const op of ops) if ('fd' in op) used.add(op.fd);
  const out: Op[][] = [];
  const merges: Op[][] = [];
  for (const d of [...used].sort((a, b) => b - a)) {
    for (let e = 0; e < d; e++) {
      (used.has(e) ? merges : out).push(ops.map((op) => ('fd' in op && op.fd === d ? { ...op, fd: e } : op)));
    }
  }
  return [...out, ...merges];
}

/** Renaming peer `p` to a simpler one no op names and no flood covers, everywhere. */
function connRenames(ops: readonly Op[]): Op[][] {
  const used = new Set<number>();
  for (const op of ops) if ('conn' in op) used.add(op.conn);
  const floods = floodRanges(ops);
  const flooded = (c: number): boolean => floods.some(([a, b]) => c >= a && c <= b);
  const out: Op[][] = [];
  for (const p of [...used].sort((a, b) => connRank(b) - connRank(a))) {
    if (flooded(p)) continue;
    const limit = p >= 1 ? p - 1 : used.size + 1;
    for (let q = 1; q <= limit; q++) {
      if (used.has(q) || flooded(q)) continue;
      out.push(ops.map((op) => ('conn' in op && op.conn === p ? { ...op, conn: q } : op)));
    }
  }
  return out;
}

/** Every case one value step simpler than `ops`: one op's value, or one
 * descriptor (into another, too) or peer renamed in every op that names it. */
export function valueSteps(ops: readonly Op[]): Op[][] {
  const out: Op[][] = [];
  ops.forEach((op, i) => {
    for (const simpler of simplerOps(op)) {
      const next = ops.slice();
      next[i] = simpler;
      out.push(next);
    }
  });
  return [...out, ...fdRenames(ops), ...connRenames(ops)];
}

/** Take value steps while the case still fails, until none does. */
export function shrinkValues(ops: readonly Op[], fails: (ops: Op[]) => boolean): { ops: Op[]; changed: boolean } {
  let cur = [...ops];
  let changed = false;
  for (let again = true; again;) {
    again = false;
    for (const cand of valueSteps(cur)) {
      if (fails(cand)) {
        cur = cand;
        changed = again = true;
        break;
      }
    }
  }
  return { ops: cur, changed };
}

export function isValueMinimal(ops: readonly Op[], fails: (ops: Op[]) => boolean): boolean {
  return valueSteps(ops).every((c) => !fails(c));
}
