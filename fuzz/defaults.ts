// Defaults the command, the library and the runners share, in a module of
// their own so the command line can read them without loading the runners.

/** Batches per coverage-guidance epoch. */
export const DEFAULT_GUIDE_EVERY = 64;

/** Milliseconds an op may run before it counts as never returning: ops take
 * microseconds, so this only has to outlast a pause of the machine. */
export const DEFAULT_OP_TIMEOUT = 2000;

/** Generated cases a check runs by default, single-thread and concurrent
 * each: the budget the planted defects must all be found within. */
export const DEFAULT_RUNS = 2000;
