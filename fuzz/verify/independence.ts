// Which ops commute, by what they read and write: a sharper relation than
// the exhaustive scheduler's default (fuzz/explore.ts), which claims only
// that socket options on two different descriptors commute. Here two ops
// commute when neither writes what the other reads or writes, field by
// field of one socket, so reading a socket's flag commutes with reading
// or taking its SYN, and options on different sockets commute as before.
//
// The footprints describe the modelled stack (model/impl/stack/) and the
// features plugged into it, which touch per-socket fields only in these
// ops; any other op may touch anything. Every op also reads the descriptor
// table, which only ops marked as touching everything write.

import type { Op } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';

export interface Footprint {
  reads: readonly string[];
  writes: readonly string[];
}

const EVERYTHING = '*';
const ALL: Footprint = { reads: [EVERYTHING], writes: [EVERYTHING] };

export function footprintOf(profile: Profile, op: Op | undefined): Footprint {
  if (op === undefined) return { reads: [], writes: [] };
  if (op.kind === 'setsockopt') {
    // An option the feature does not know changes nothing.
    if (op.optname !== profile.setOpt) return { reads: [`fd${op.fd}`], writes: [] };
    return { reads: [`fd${op.fd}`, `fd${op.fd}.state`], writes: [`fd${op.fd}.flag`] };
  }
  if (op.kind === 'getsockopt') {
    if (op.optname === profile.readOpt) {
      return { reads: [`fd${op.fd}`, `fd${op.fd}.state`, `fd${op.fd}.flag`], writes: [`fd${op.fd}.syn`] };
    }
    return { reads: [`fd${op.fd}`, `fd${op.fd}.flag`], writes: [] };
  }
  return ALL;
}

function touches(a: readonly string[], b: readonly string[]): boolean {
  for (const x of a) {
    if (x === EVERYTHING && b.length > 0) return true;
    for (const y of b) if (y === EVERYTHING || y === x) return true;
  }
  return false;
}

/** Neither op writes what the other touches. */
export function commute(profile: Profile): (a: Op | undefined, b: Op | undefined) => boolean {
  return (a, b) => {
    const fa = footprintOf(profile, a);
    const fb = footprintOf(profile, b);
    return !touches(fa.writes, fb.reads) && !touches(fa.writes, fb.writes) && !touches(fb.writes, fa.reads);
  };
}
