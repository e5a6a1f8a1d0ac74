// The memory oracle: what the feature holds, from the ledger's live buffers
// and their sizes, against the bound its profile states
// (Profile.heldBound). Per connection: no more than the bound for its SYN,
// once for each SYN of the peer the spec keeps or each connection of it
// still alive. In total: no more than the bound for each request (kept
// Fast Open ones too) and live socket of the spec, so a flood with cookies
// off holds at most what the SYN queue admits. Buffers whose holders are
// all destroyed are leaks, named by the leak oracle, not counted here.

import type { HeldBuffer } from '../model/ledger.ts';
import type { Op } from '../model/ops.ts';
import type { BuiltPacket } from '../model/packet.ts';
import type { Profile } from '../model/profile.ts';
import type { Verdict } from './oracles.ts';

/** What the feature holds: bytes by connection, and in all. */
export interface Held {
  byConn: Map<number, number>;
  total: number;
}

export function heldBytes(buffers: readonly HeldBuffer[]): Held {
  const byConn = new Map<number, number>();
  let total = 0;
  for (const b of buffers) {
    const size = b.size ?? 0;
    total += size;
    if (b.conn !== undefined) byConn.set(b.conn, (byConn.get(b.conn) ?? 0) + size);
  }
  return { byConn, total };
}

/** The bound for one connection: the largest over the SYNs it sent, since
 * which of them is held is the spec's business, not this oracle's. */
function boundOf(profile: Profile, packets: ReadonlyMap<number, readonly BuiltPacket[]>, conn: number): number {
  const list = packets.get(conn);
  let bound = 0;
  if (list !== undefined) for (let i = 0; i < list.length; i++) bound = Math.max(bound, profile.heldBound.perConnection(list[i]));
  return bound;
}

function count(list: readonly number[], conn: number): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) if (list[i] === conn) n++;
  return n;
}

/** Whether `conn` first shows at buffer `i`: connections are judged in the
 * order they first show, as a map built over the buffers would list them. */
function firstOfConn(buffers: readonly HeldBuffer[], i: number, conn: number): boolean {
  for (let j = 0; j < i; j++) if (buffers[j].conn === conn) return false;
  return true;
}

// Asked after every single-thread step that holds anything, so the passing
// path builds nothing: the sums are taken in place (a handful of buffers),
// and the verdict is the one heldBytes() would lead to.
export function judgeMemory(
  op: Op, profile: Profile, buffers: readonly HeldBuffer[], packets: ReadonlyMap<number, readonly BuiltPacket[]>,
  keptBySpec: readonly number[], liveConnections: readonly number[],
): Verdict | undefined {
  let total = 0;
  for (let i = 0; i < buffers.length; i++) {
    total += buffers[i].size ?? 0;
    const conn = buffers[i].conn;
    if (conn === undefined || !firstOfConn(buffers, i, conn)) continue;
    let bytes = 0;
    for (let j = i; j < buffers.length; j++) if (buffers[j].conn === conn) bytes += buffers[j].size ?? 0;
    // A peer that opens again while its old connection lives (a child, or a
    // reset Fast Open request the listener keeps) has a SYN held for each:
    // for the older one the spec may already count it read, while the
    // implementation's request still holds what the child shared.
    const times = Math.max(1, count(keptBySpec, conn), count(liveConnections, conn));
    const bound = times * boundOf(profile, packets, conn);
    if (bytes > bound) {
      return {
        oracle: 'memory', signature: `memory:${op.kind}:per-connection`,
        message: `after ${op.kind}, the feature holds ${bytes} bytes for peer ${conn}; the ${profile.name} bound is ${bound} (${profile.heldBound.reason})`,
      };
    }
  }
  let bound = 0;
  for (let i = 0; i < liveConnections.length; i++) bound += boundOf(profile, packets, liveConnections[i]);
  if (total > bound) {
    const held = heldBytes(buffers);
    const extra = [...held.byConn.keys()].filter((c) => !liveConnections.includes(c)).sort((a, b) => a - b);
    return {
      oracle: 'memory', signature: `memory:${op.kind}:total`,
      message: `after ${op.kind}, the feature holds ${total} bytes in all; the spec has ${liveConnections.length} request(s) and socket(s) of peers, bound ${bound}`
        + `${extra.length ? `; held for peers with neither: ${extra.join(', ')}` : ''}`,
    };
  }
  return undefined;
}
