// The interface every implementation meets, bundled or third-party.
//
// An implementation runs one op at a time for a given thread. It may run it
// atomically (return an Outcome) or as a generator that yields at every point
// where another CPU or thread could run, each yield naming the source line it
// stands for; a yield of a `Blocked` value means "I wait for a lock someone
// else holds". The harness drives the generators; a single-thread run simply
// drives each to completion.

import type { Ledger } from '../ledger.ts';
import type { Op, Outcome } from '../ops.ts';
import type { Profile, ProfileName } from '../profile.ts';

/** A source label: where in the modelled code a step is. */
export type Site = string;

/** Yielded by a thread that must wait for `lock`. */
export interface Blocked {
  readonly blocked: string;
}

export type Yield = Site | Blocked;
export type OpRun = Generator<Yield, Outcome, void>;

/** What an implementation shows of one open descriptor, compared with the
 * spec after every step: the save-SYN flag, and whose SYN the socket holds. */
export interface FdView {
  fd: number;
  flag: number;
  kept: number | null;
}

export interface ImplEnv {
  profile: Profile;
  /** Buffers (skbs, kmalloc'd copies) go through the ledger so refcount
   * errors become findings. Optional for third parties: an implementation
   * that does not use it forgoes the ledger oracles, nothing else. */
  ledger: Ledger;
}

export interface ImplInstance {
  /** Run `op` on behalf of `thread` (0 for single-thread runs). */
  run(op: Op, thread: number): OpRun | Outcome;
  /** Open descriptors with their flag and kept SYN, each once, if the
   * implementation can tell; enables the state oracle. */
  view?(): FdView[];
  /** Everything the instance's later results depend on, as data: two
   * instances whose states are equal must answer every later op alike.
   * Optional; with it, `savedsyn verify` merges the states sequences reach
   * instead of exploring every path, and so goes deeper in the same time.
   * Read between ops as data, in the order it iterates: own enumerable
   * properties, array elements, Map entries, Set values, typed arrays'
   * bytes; functions are passed over (keep no state in closures) and
   * shared objects are told from equal copies. What it leaves out is
   * assumed not to matter: a state that omits something the next op reads
   * can hide a defect. */
  state?(): unknown;
}

export interface Implementation {
  name: string;
  profile: ProfileName;
  description: string;
  create(env: ImplEnv): ImplInstance;
}

export function isBlocked(y: Yield): y is Blocked {
  return typeof y !== 'string';
}
