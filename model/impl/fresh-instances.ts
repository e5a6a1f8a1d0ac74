// Two instances, the same ops: a module that keeps state from one create()
// to the next (a world made once and shared, a counter) answers the second
// differently. Such a module fails cases that pass where its token is
// replayed, in a fresh process; found here, before any search, it is
// refused as not deterministic.

import { formatOutcome } from '../format.ts';
import { Ledger } from '../ledger.ts';
import type { Op, Outcome } from '../ops.ts';
import { profileByName } from '../profile.ts';
import { createInstance } from './contract.ts';
import { notReproducible } from './determinism.ts';
import { describeThrown } from './thrown.ts';
import type { Implementation } from './types.ts';

/** Ops that change any instance's state: a socket made, the first closed. */
const PROBE: readonly Op[] = [{ kind: 'socket' }, { kind: 'close', fd: 0 }];

/** How an instance answers PROBE, as text; a module's odd answer or throw
 * is only text here (the searches judge them). */
function answers(impl: Implementation): string {
  const inst = createInstance(impl, { profile: profileByName(impl.profile)!, ledger: new Ledger() });
  return PROBE.map((op) => {
    try {
      let r: unknown = inst.run(op, 0);
      if (typeof r === 'object' && r !== null && typeof (r as Iterator<unknown>).next === 'function') {
        const gen = r as Iterator<unknown, unknown>;
        for (let n = 0; n < 10_000; n++) {
          const step = gen.next();
          if (step.done) {
            r = step.value;
            break;
          }
        }
      }
      const o = r as Outcome | null;
      return typeof o === 'object' && o !== null && Number.isInteger(o.ret) ? formatOutcome(o) : String(typeof r);
    } catch (e) {
      return `threw ${describeThrown(e)}`;
    }
  }).join(', ');
}

/** Refuses `impl` when two fresh instances answer the same ops differently. */
export function requireFreshInstances(impl: Implementation): void {
  const first = answers(impl);
  const second = answers(impl);
  if (first !== second) {
    throw notReproducible(impl, `two instances from create() answered socket(), close(fd 0) differently (${first}; then ${second})`);
  }
}
