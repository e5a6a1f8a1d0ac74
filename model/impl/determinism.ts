// A failure that does not come back when its case is run again. Every
// search re-runs what it found (to shrink it, to record its sites), and
// the bundled implementations give the same results for the same ops, so
// for them this is a defect of savedsyn's. A module that keeps state
// across create() calls, or reads a clock or a random source, does it
// too: that module cannot be checked, which is the user's to fix.

import { UserError } from '../user-error.ts';
import { BUNDLED } from './registry.ts';
import type { Implementation } from './types.ts';

export class NotDeterministic extends UserError {}

/** The error for `what` not happening again with `impl`. */
export function notReproducible(impl: Implementation, what: string): Error {
  if (BUNDLED.includes(impl)) return new Error(`harness defect: ${what}`);
  return moduleNotDeterministic(impl.name, what);
}

/** The error for `what` not happening again with the module `name`. */
export function moduleNotDeterministic(name: string, what: string): NotDeterministic {
  return new NotDeterministic(`${name} is not deterministic: ${what}. A module must give the same results for the same ops each time `
    + '(no state kept from one create() to the next, no clock, no random source) to be checked');
}
