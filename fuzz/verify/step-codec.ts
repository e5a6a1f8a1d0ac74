// A state's steps as a worker thread sends them: one array of numbers,
// moved to the main thread rather than copied, with the rare verdicts
// beside it. A structured clone of the steps as objects cost a worker
// about a sixth of its time.

import type { Step, Verdict } from './bfs.ts';

export interface PackedSteps {
  data: Float64Array;
  verdicts: Verdict[];
}

const KNOWN = 0;
const FAILED = 1;
const NEW = 2;
/** An absent number: sizes, lengths and indices are never negative. */
const NONE = -1;

export function packSteps(steps: readonly Step[]): PackedSteps {
  const out: number[] = [];
  const verdicts: Verdict[] = [];
  const list = (xs: readonly (number | undefined)[] | undefined): void => {
    if (xs === undefined) {
      out.push(NONE);
      return;
    }
    out.push(xs.length);
    for (const x of xs) out.push(x ?? NONE);
  };
  for (const s of steps) {
    if (s.failure !== undefined) {
      out.push(FAILED, verdicts.push(s.failure) - 1);
    } else if (s.child === undefined) {
      out.push(KNOWN);
    } else {
      const c = s.child;
      out.push(NEW, c.fp, s.end === undefined ? NONE : verdicts.push(s.end) - 1, c.kept.free ? 1 : 0);
      list(c.kept.sizes);
      list(c.open);
      list(c.listening);
      list(c.sockets);
    }
  }
  return { data: Float64Array.from(out), verdicts };
}

export function unpackSteps(p: PackedSteps): Step[] {
  const d = p.data;
  let i = 0;
  const list = (): (number | undefined)[] | undefined => {
    const n = d[i++];
    if (n === NONE) return undefined;
    const xs: (number | undefined)[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const x = d[i++];
      xs[k] = x === NONE ? undefined : x;
    }
    return xs;
  };
  const numbers = (): number[] => list() as number[];
  const steps: Step[] = [];
  while (i < d.length) {
    const tag = d[i++];
    if (tag === FAILED) {
      steps.push({ failure: p.verdicts[d[i++]] });
    } else if (tag === KNOWN) {
      steps.push({});
    } else if (tag === NEW) {
      const fp = d[i++];
      const end = d[i++];
      const free = d[i++] === 1;
      const sizes = list()!;
      const open = numbers();
      const listening = numbers();
      const sockets = list() as number[] | undefined;
      steps.push({ child: { fp, kept: { sizes, free }, open, listening, sockets }, end: end === NONE ? undefined : p.verdicts[end] });
    } else {
      throw new Error(`packed steps: unknown tag ${tag} at ${i - 1}`);
    }
  }
  return steps;
}
