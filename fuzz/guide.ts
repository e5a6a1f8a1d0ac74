// Coverage guidance: what a batch knows of what earlier batches covered, and
// how it turns that into a preference for the corpus cases that reached the
// rarest places. A guide is plain data, the same on every worker and every
// machine for the same batch, so guided campaigns stay deterministic.

import fc from 'fast-check';
import type { ReplayCase } from '../reports/token.ts';

/** A case kept because it was the first to cover something. */
export interface CorpusEntry {
  /** Position in the campaign's corpus: entries are only ever appended. */
  index: number;
  /** The batch that found it. */
  batch: number;
  /** The coverage keys it was the first to reach. */
  keys: string[];
  case: ReplayCase;
}

/** What a batch is guided by: coverage counts (cases that reached each key)
 * and the corpus, both as they stood at one earlier batch boundary. */
export interface Guide {
  counts: ReadonlyMap<string, number>;
  corpus: readonly CorpusEntry[];
}

export const NO_GUIDE: Guide = { counts: new Map(), corpus: [] };

/** Coverage keys carry the implementation they were reached on, so one
 * campaign over several implementations keeps their coverage apart. */
export const keyFor = (impl: string, key: string): string => `${impl}|${key}`;

/** A corpus entry's share of attention: the rarer the places it was first
 * to reach, the more often it is mutated. A key reached by n cases weighs
 * 1/sqrt(n+1), so a key nobody else reached keeps its entry busy and a key
 * everybody reaches stops counting. Weights are integers from 1 to 100. */
export function energies(entries: readonly CorpusEntry[], counts: ReadonlyMap<string, number>): number[] {
  const raw = entries.map((e) => e.keys.reduce((s, k) => s + 1 / Math.sqrt((counts.get(k) ?? 0) + 1), 0));
  const top = Math.max(0, ...raw);
  return raw.map((x) => (top === 0 ? 1 : Math.max(1, Math.round((100 * x) / top))));
}

/** An index drawn in proportion to integer weights. Shrinks towards the
 * first entry, the oldest. */
export function weightedIndexArb(weights: readonly number[]): fc.Arbitrary<number> {
  const cumulative: number[] = [];
  let total = 0;
  for (const w of weights) cumulative.push((total += w));
  return fc.integer({ min: 0, max: Math.max(0, total - 1) }).map((x) => {
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  });
}

/** The corpus entries one batch mutates, with their weights. */
export function entriesFor(guide: Guide, impl: string, kind: ReplayCase['kind']): { entries: CorpusEntry[]; weights: number[] } {
  const entries = guide.corpus.filter((e) => e.case.impl === impl && e.case.kind === kind);
  return { entries, weights: energies(entries, guide.counts) };
}

/** Per generated case: the keys it reached. Collects the counts a batch
 * reports and the cases that reached something its guide had not seen. */
export class CoverageTally {
  readonly counts = new Map<string, number>();
  readonly candidates: Array<{ keys: string[]; case: ReplayCase }> = [];
  cases = 0;
  steps = 0;

  constructor(readonly impl: string, private readonly known: ReadonlyMap<string, number>) {}

  record(keys: ReadonlySet<string>, steps: number, c: () => ReplayCase): void {
    this.cases++;
    this.steps += steps;
    const fresh: string[] = [];
    for (const raw of keys) {
      const k = keyFor(this.impl, raw);
      const n = this.counts.get(k);
      if (n === undefined && !this.known.has(k)) fresh.push(k);
      this.counts.set(k, (n ?? 0) + 1);
    }
    if (fresh.length > 0) this.candidates.push({ keys: fresh.sort(), case: c() });
  }
}
