// Watching another thread's calls into the implementation from this one:
// the thread keeps its count in shared memory (properties/impl-calls.ts),
// odd while a call runs; a count that stays odd and unmoved for the bound
// is a call that never returns. Polled on a timer, so an op costs the
// watched thread a plain store, never a message.

/** An op that has run for a quarter of the bound, and at least this long,
 * where ops take microseconds, may hang: time to get a spare thread ready. */
const SUSPECT_MS = 100;

export interface PollEvents {
  /** Call `n` (from 1, since the count was last zeroed) has been in flight
   * for the bound. Told once; polling stops. */
  hang: (n: number) => void;
  /** The call in flight has run long enough to be suspect. */
  suspect?: () => void;
}

/** Poll `cell` until the returned function is called or a hang is told. */
export function pollCalls(cell: Int32Array, bound: number, on: PollEvents): () => void {
  // The count as it grows past what 32 bits hold: between two polls it
  // moves by far less than 2^32.
  let raw = 0;
  let count = 0;
  let since = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const s = Atomics.load(cell, 0);
    if (s !== raw) {
      count += (s - raw) >>> 0;
      raw = s;
      since = now;
    } else if (count % 2 === 1 && now - since >= bound) {
      clearInterval(timer);
      on.hang((count + 1) / 2);
    } else if (count % 2 === 1 && now - since >= Math.max(SUSPECT_MS, bound / 4)) {
      on.suspect?.();
    }
  }, Math.min(250, Math.max(10, bound / 8)));
  return () => clearInterval(timer);
}
