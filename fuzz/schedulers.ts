// Schedulers: each turns a little random data into a Chooser. Whatever they
// choose, the runner records the thread that took each step, so every run
// they produce replays from plain data.

import seedrandom from 'seedrandom';
import type { Chooser } from '../properties/concurrent.ts';
import type { SchedulerName } from '../properties/findings.ts';



/** A deterministic generator of numbers in [0, 1) from a seed. */
export function rngFrom(seed: number): () => number {
  return seedrandom(String(seed));
}

/** Uniform: every runnable thread equally likely at every step. */
export function randomChooser(rng: () => number): Chooser {
  return (_step, runnable) => runnable[Math.floor(rng() * runnable.length)];
}

/** PCT (Burckhardt et al., ASPLOS 2010): threads get distinct random
 * priorities; the highest runnable one runs; at d-1 random change points the
 * running thread drops below every other. Finds any bug of depth d with
 * probability at least 1/(n k^(d-1)) for n threads and k steps. */
export function pctChooser(rng: () => number, threads: number, depth: number, expectedSteps: number): Chooser {
  const prio = shuffle(Array.from({ length: threads }, (_, i) => depth + i), rng);
  const changes = new Map<number, number>();
  for (let i = 1; i < depth; i++) changes.set(Math.floor(rng() * Math.max(1, expectedSteps)), depth - i);
  return (step, runnable) => {
    let best = highest(runnable, prio);
    const low = changes.get(step);
    if (low !== undefined) {
      prio[best] = low;
      best = highest(runnable, prio);
    }
    return best;
  };
}

function highest(runnable: readonly number[], prio: number[]): number {
  let best = runnable[0];
  for (const t of runnable) if (prio[t] > prio[best]) best = t;
  return best;
}

function shuffle<T>(xs: T[], rng: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

export function chooserFor(name: SchedulerName, seed: number, threads: number, opts: { depth?: number; expectedSteps?: number } = {}): Chooser {
  const rng = rngFrom(seed);
  return name === 'random' ? randomChooser(rng) : pctChooser(rng, threads, opts.depth ?? 3, opts.expectedSteps ?? 40);
}
