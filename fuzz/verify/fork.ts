// Branching from a state: a fresh session made a copy of another between
// two ops, so the ops after a state run once per branch instead of the
// whole path being replayed for each. Only the modelled stack can be
// copied; any other implementation is replayed from scratch.

import { notReproducible } from '../../model/impl/determinism.ts';
import { kernelOf } from '../../model/impl/stack/adapter.ts';
import type { Implementation } from '../../model/impl/types.ts';
import type { Op } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';
import { Session } from '../../properties/lockstep.ts';
import { withPacketsOf } from '../../properties/oracles.ts';

export function forkable(session: Session): boolean {
  return kernelOf.has(session.instance);
}

/** A session in the state `from` is in, whose oracles know of the SYNs
 * `from`'s do and those `next` sends (the ops to run from the state).
 * `reuse`, a session made by an earlier fork from a session of the same
 * implementation and no longer needed, is made that copy instead of a new
 * session: a kernel, a ledger and a session are each made once per search
 * rather than once per branch. */
export function fork(impl: Implementation, profile: Profile, next: Op | readonly Op[], from: Session, reuse?: Session): Session {
  let packets = from.packets();
  for (const op of Array.isArray(next) ? next : [next]) packets = withPacketsOf(packets, op);
  const start = { spec: from.spec.clone(), packets };
  let s: Session;
  if (reuse !== undefined && reuse.impl === impl && reuse.profile === profile && reuse !== from) {
    s = reuse;
    s.restart(start);
  } else {
    s = new Session(impl, profile, [], {}, start);
  }
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

/** A session that has run `path`; its oracles know of the SYNs `sending`
 * send. */
export function replayed(impl: Implementation, profile: Profile, path: readonly Op[], sending: readonly Op[]): Session {
  const session = new Session(impl, profile, sending);
  for (const prior of path) {
    const f = session.sequential(prior, false);
    if (f) throw notReproducible(impl, `a sequence that passed fails with ${f.signature} when run again`);
  }
  return session;
}
