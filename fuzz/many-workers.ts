// More worker threads than cores only take turns: said once, before a run
// that asks for far more, since its results do not depend on the count.

import { availableParallelism } from 'node:os';

/** The warning for `workers` threads on this machine, if it needs one. */
export function manyWorkersWarning(workers: number): string | undefined {
  const cores = availableParallelism();
  if (workers <= 4 * cores) return undefined;
  return `warning: ${workers} workers on ${cores} cores: past a few per core they only take turns and memory; results are the same with fewer`;
}
