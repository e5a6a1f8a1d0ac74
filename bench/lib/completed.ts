// An op driven to its outcome on its own, as the implementation runs with
// nothing beside it: the baseline the benchmarks compare the harness with.

import type { OpRun } from '../../model/impl/types.ts';
import type { Outcome } from '../../model/ops.ts';
import { isRun } from '../../properties/lockstep.ts';

export function completed(run: OpRun | Outcome): Outcome {
  if (!isRun(run)) return run;
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
  }
}
