// A token whose case names the live kernel, run on it again: in a fresh
// private namespace, with the settling a confirmation uses, against the
// linux spec. The verdict is the one report model's, so `savedsyn replay`
// prints and writes it as it does any other.

import { KernelLaneError, unrealisable } from '../model/kernel/lane.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { LINUX } from '../model/profile.ts';
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
  const lane = kernelLane();
  if (!lane.ok) throw new UserError(`the token's case runs on the live kernel, and its lane cannot run here: ${lane.reason}`);
  try {
    return differentialRun(c.ops, runDifferential(c.ops, { settleMs: confirmSettleMs(c.ops) }));
  } catch (e) {
    if (e instanceof KernelLaneError) throw new UserError(`the live-kernel lane failed on the token's case: ${e.message}`);
    throw e;
  }
}
