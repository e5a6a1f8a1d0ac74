// Shrinking a case whose last op never returns. Each candidate that hangs
// costs the watchdog's whole bound, and one that does not costs
// microseconds, so the smallest candidates go first: the hung op, then the
// hung op after each single op before it, then after each pair, and so on,
// until one hangs the same way. What it needs is then all it has, and the
// 1-minimal pass that follows only confirms it, with candidates that return.
// Past a number of candidates, the 1-minimal pass alone.

import type { Op } from '../model/ops.ts';
import { minimize } from './minimize.ts';

/** Candidates tried smallest first: every set of up to three ops before
 * the hung one in a case of thirty. */
const SMALLEST_FIRST = 5000;

export function shrinkHang(ops: readonly Op[], fails: (ops: Op[]) => boolean): Op[] {
  return simplerValues(fewestOps(ops, fails), fails);
}

function fewestOps(ops: readonly Op[], fails: (ops: Op[]) => boolean): Op[] {
  const last = ops[ops.length - 1];
  let tried = 0;
  for (let k = 0; k < ops.length && tried < SMALLEST_FIRST; k++) {
    for (const picked of subsets(ops.length - 1, k)) {
      if (++tried > SMALLEST_FIRST) break;
      const c = [...picked.map((i) => ops[i]), last];
      if (fails(c)) return minimize(c, fails, { values: false });
    }
  }
  return minimize(ops, fails, { values: false });
}

/** Simpler values that still hang (descriptors toward 0, sizes toward
 * their boundaries), as any finding's: each accepted costs a bound, so
 * only the first few are. */
const SIMPLER_VALUES = 4;

function simplerValues(ops: Op[], fails: (ops: Op[]) => boolean): Op[] {
  let accepted = 0;
  return minimize(ops, (c) => accepted < SIMPLER_VALUES && fails(c) && ++accepted > 0);
}

/** The k-subsets of 0..n-1 as ascending indices, in lexicographic order. */
function* subsets(n: number, k: number): Generator<number[]> {
  if (k > n) return;
  const idx = Array.from({ length: k }, (_, i) => i);
  for (;;) {
    yield idx;
    let i = k - 1;
    while (i >= 0 && idx[i] === n - k + i) i--;
    if (i < 0) return;
    idx[i]++;
    for (let j = i + 1; j < k; j++) idx[j] = idx[j - 1] + 1;
  }
}
