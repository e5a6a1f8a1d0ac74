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
// table, which only ops marked as touching everything write. A socket is
// named by the lowest descriptor that refers to it in the state the pair
// starts from, so two descriptors dup() made are one socket.

import type { Op } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';

export interface Footprint {
  reads: readonly string[];
  writes: readonly string[];
}

const EVERYTHING = '*';
const ALL: Footprint = { reads: [EVERYTHING], writes: [EVERYTHING] };

/** `socket(fd)` names the socket a descriptor refers to: descriptors made
 * by dup() share one socket, so footprints name sockets, not descriptors
 * (by default every descriptor its own). */
export function footprintOf(profile: Profile, op: Op | undefined, socket: (fd: number) => number = (fd) => fd): Footprint {
  if (op === undefined) return { reads: [], writes: [] };
  if (op.kind === 'setsockopt') {
    const sk = `sk${socket(op.fd)}`;
    // An option the feature does not know changes nothing.
    if (op.optname !== profile.setOpt) return { reads: [sk], writes: [] };
    return { reads: [sk, `${sk}.state`], writes: [`${sk}.flag`] };
  }
  if (op.kind === 'getsockopt') {
    const sk = `sk${socket(op.fd)}`;
    if (op.optname === profile.readOpt) return { reads: [sk, `${sk}.state`, `${sk}.flag`], writes: [`${sk}.syn`] };
    return { reads: [sk, `${sk}.flag`], writes: [] };
  }
  // A sysctl writes its value, which only ops marked as touching
  // everything read (listen, close, packets, timers).
  if (op.kind === 'sysctl') return { reads: [], writes: [`sysctl.${op.name}`] };
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
export function commute(profile: Profile, socket?: (fd: number) => number): (a: Op | undefined, b: Op | undefined) => boolean {
  return (a, b) => {
    const fa = footprintOf(profile, a, socket);
    const fb = footprintOf(profile, b, socket);
    return !touches(fa.writes, fb.reads) && !touches(fa.writes, fb.writes) && !touches(fb.writes, fa.reads);
  };
}
