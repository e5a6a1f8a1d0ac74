// fast-check shrinks through the generator, which can leave an op that the
// failure does not need (a structured case shrinks lives, not single ops).
// This pass makes a case 1-minimal: removing any single op makes it pass;
// then value-minimal (fuzz/simplify-values.ts), and 1-minimal again, since a
// simpler value can make another op unnecessary.

import { makesDescriptor, type Op } from '../model/ops.ts';
import { shrinkValues } from './simplify-values.ts';

export interface MinimizeOptions {
  /** Off where each failing candidate is expensive (a hang costs the
   * watchdog's bound), so only ops are removed. */
  values?: boolean;
}

export function minimize(ops: readonly Op[], fails: (ops: Op[]) => boolean, opts: MinimizeOptions = {}): Op[] {
  let cur = removeOps(ops, fails);
  if (opts.values === false) return cur;
  for (;;) {
    const simpler = shrinkValues(cur, fails);
    if (!simpler.changed) return cur;
    const fewer = removeOps(simpler.ops, fails);
    cur = fewer;
    if (fewer.length === simpler.ops.length) return cur;
  }
}

function removeOps(ops: readonly Op[], fails: (ops: Op[]) => boolean): Op[] {
  let cur = [...ops];
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < cur.length; i++) {
      const without = cur.slice(0, i).concat(cur.slice(i + 1));
      const found = [without, ...renumbered(cur, i)].find((c) => c.length > 0 && fails(c));
      if (found !== undefined) {
        cur = found;
        changed = true;
        i--;
      }
    }
  }
  return cur;
}

/** Removing op `i` that made a descriptor (socket, accept, dup): the
 * descriptors handed out after it would each have been one lower, so the
 * later ops that name descriptor `m` or above name one less, for each `m`
 * they use. */
function renumbered(ops: readonly Op[], i: number): Op[][] {
  if (!makesDescriptor(ops[i])) return [];
  const later = ops.slice(i + 1);
  const used = [...new Set(later.flatMap((op) => ('fd' in op ? [op.fd] : [])))].filter((d) => d > 0).sort((a, b) => a - b);
  return used.map((m) => [...ops.slice(0, i), ...later.map((op) => ('fd' in op && op.fd >= m ? { ...op, fd: op.fd - 1 } : op))]);
}
