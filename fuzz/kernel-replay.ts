// A token whose case names the live kernel, run on it again: in a fresh
// private namespace, with the settling a confirmation uses, against the
// linux spec. The verdict is the one report model's, so `savedsyn replay`
// prints and writes it as it does any other.

import { KernelLaneError, unrealisable } from '../model/kernel/lane.ts';
import { kernelLane } from '../model/kernel/native.ts';
import type { Op } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import { UserError } from '../model/user-error.ts';
import { differentialRun, runDifferential } from '../properties/differential.ts';
import type { RunResult } from '../properties/lockstep.ts';
import type { ReplayCase } from '../reports/token.ts';
import { confirmSettleMs } from './kernel-search.ts';

export function replayOnKernel(c: ReplayCase): RunResult {
  if (c.kind !== 'sequential' || c.profile !== LINUX.name) {
    throw new UserError(`the token names the live kernel, which runs single-thread ${LINUX.name} cases only; this one is ${c.kind}, profile ${c.profile}`);
  }
  const bad = c.ops.findIndex((op) => unrealisable(op) !== undefined);
  if (bad >= 0) throw new UserError(`the token's op ${bad} (${c.ops[bad].kind}) cannot run on the live kernel: ${unrealisable(c.ops[bad])}`);
  const twoFamilies = peerInTwoFamilies(c.ops);
  if (twoFamilies !== undefined) throw new UserError(`the token's op ${twoFamilies.step} sends peer ${twoFamilies.peer}'s SYN over the other IP version: the model takes a peer for one connection whatever its version, the kernel sees two addresses and two connections`);
  const crowded = retransmitAmongOthers(c.ops);
  if (crowded !== undefined) throw new UserError(`the token's op ${crowded.step} (synackRetransmit) cannot run on the live kernel while peer ${crowded.peer}'s request is pending too: the lane waits out the kernel's SYN-ACK timer, which fires for every pending request, and the spec's for peer ${crowded.own} only`);
  const lane = kernelLane();
  if (!lane.ok) throw new UserError(`the token's case runs on the live kernel, and its lane cannot run here: ${lane.reason}`);
  try {
    return differentialRun(c.ops, runDifferential(c.ops, { settleMs: confirmSettleMs(c.ops) }));
  } catch (e) {
    if (e instanceof KernelLaneError) throw new UserError(`the live-kernel lane failed on the token's case: ${e.message}`);
    throw e;
  }
}

/** The first synackRetransmit (for peer `own`) made while another peer's
 * request is pending, in the spec's reading of the case. */
function retransmitAmongOthers(ops: readonly Op[]): { step: number; own: number; peer: number } | undefined {
  const spec = createSpec(LINUX);
  for (let step = 0; step < ops.length; step++) {
    const op = ops[step];
    if (op.kind === 'synackRetransmit') {
      for (const c of spec.conns.values()) if (c.state === 'request' && c.id !== op.conn) return { step, own: op.conn, peer: c.id };
    }
    spec.apply(op);
  }
  return undefined;
}

/** The first SYN of a peer over the other IP version than its first. */
export function peerInTwoFamilies(ops: readonly Op[]): { step: number; peer: number } | undefined {
  const family = new Map<number, number>();
  for (let step = 0; step < ops.length; step++) {
    const op = ops[step];
    // A flood's SYNs are the default packet's: IPv4.
    const sent: Array<[number, number]> = op.kind === 'syn' || op.kind === 'fastOpenSyn' ? [[op.conn, op.packet.family]]
      : op.kind === 'flood' ? Array.from({ length: op.count }, (_, k): [number, number] => [op.first + k, 4]) : [];
    for (const [peer, f] of sent) {
      const first = family.get(peer);
      if (first === undefined) family.set(peer, f);
      else if (first !== f) return { step, peer };
    }
  }
  return undefined;
}
