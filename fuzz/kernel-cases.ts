// Sequences the live kernel can run: the single-thread generator's cases,
// with what the kernel cannot be asked for taken out and every SYN given a
// peer of its own (a second SYN from the same port would be a new client
// there, a retransmission in the model).

import fc from 'fast-check';
import { unrealisable } from '../model/kernel/lane.ts';
import type { Op } from '../model/ops.ts';
import { DEFAULT_PACKET, type PacketDescriptor } from '../model/packet.ts';
import { LINUX } from '../model/profile.ts';
import { opsArb } from './arbitraries.ts';

/** Peers a case refers to without ever sending their SYN. */
const UNKNOWN_PEER_BASE = 900;

export function toKernelCase(ops: readonly Op[]): Op[] {
  const peer = new Map<number, number>();
  let next = 1;
  let floods = 0;
  const out: Op[] = [];
  for (const op of ops) {
    let o: Op = op;
    if (o.kind === 'syn' || o.kind === 'fastOpenSyn') {
      const { family, ipOptions, payload } = o.packet;
      const packet: PacketDescriptor = {
        ...DEFAULT_PACKET, family, ipOptions: family === 4 && ipOptions, payload: o.kind === 'fastOpenSyn' ? Math.max(1, payload) : 0,
      };
      peer.set(o.conn, next);
      o = { ...o, conn: next++, packet };
    } else if (o.kind === 'ack' || o.kind === 'ackRetransmit' || o.kind === 'cookieAck' || o.kind === 'rst') {
      o = { ...o, conn: peer.get(o.conn) ?? UNKNOWN_PEER_BASE + o.conn };
    } else if (o.kind === 'flood') {
      o = { ...o, first: 1000 + 100 * floods++ };
    }
    if (unrealisable(o) !== undefined) continue;
    out.push(o);
    // A Fast Open client sends its data as soon as the handshake allows:
    // where the listener refuses the data in the SYN, that completes the
    // handshake at once, so the model is told of that ACK too.
    if (o.kind === 'fastOpenSyn') out.push({ kind: 'ack', conn: o.conn });
  }
  return out;
}

export function kernelOpsArb(maxLength = 25): fc.Arbitrary<Op[]> {
  return opsArb(LINUX, maxLength).map(toKernelCase).filter((ops) => ops.length > 0);
}
