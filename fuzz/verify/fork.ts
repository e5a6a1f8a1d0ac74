// Branching from a state: a fresh session made a copy of another between
// two ops, so the ops after a state run once per branch instead of the
// whole path being replayed for each. Only the modelled stack can be
// copied; any other implementation is replayed from scratch.

import { kernelOf } from '../../model/impl/stack/adapter.ts';
import type { Implementation } from '../../model/impl/types.ts';
import type { Op } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';
import { Session } from '../../properties/lockstep.ts';

export function forkable(session: Session): boolean {
  return kernelOf.has(session.instance);
}

/** A session in the state `from` is in, whose oracles know of the SYNs
 * `ops` send (the path to the state and the ops to run from it). */
export function fork(impl: Implementation, profile: Profile, ops: readonly Op[], from: Session): Session {
  const s = new Session(impl, profile, ops);
  s.spec = from.spec.clone();
  s.ledger.copyStateFrom(from.ledger);
  kernelOf.get(s.instance)!.copyStateFrom(kernelOf.get(from.instance)!);
  const reads = s.readsBySocket();
  reads.clear();
  for (const [k, v] of from.readsBySocket()) reads.set(k, v);
  const fds = s.implDescriptors();
  fds.clear();
  for (const fd of from.implDescriptors()) fds.add(fd);
  return s;
}
