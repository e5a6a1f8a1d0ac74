// The fingerprint's scratch structures, reused from one state to the next
// so hashing a state allocates next to nothing: a renaming of allocation
// numbers, and a sort into a reused array.

/** A renaming of allocation numbers by first appearance. Allocation
 * numbers are small non-negative integers, so the renaming is an array,
 * reused from one state to the next (a generation tells stale slots). */
export class Names {
  /** Raw numbers in order of first appearance: the first `size` count. */
  readonly order: number[] = [];
  size = 0;
  private readonly ids: number[] = [];
  private readonly gens: number[] = [];
  private gen = 0;

  clear(): this {
    this.size = 0;
    this.gen++;
    return this;
  }

  of(raw: number): number {
    if (this.gens[raw] === this.gen) return this.ids[raw];
    const c = this.size++;
    this.ids[raw] = c;
    this.gens[raw] = this.gen;
    this.order[c] = raw;
    return c;
  }

  get(raw: number): number | undefined {
    return this.gens[raw] === this.gen ? this.ids[raw] : undefined;
  }
}

// --- the spec ----------------------------------------------------------

/** Sorts into one array kept from call to call: read the result before
 * the next call. The tables hashed hold a handful of entries, mostly in
 * order already, so an insertion sort is the cheap one. */
export class Sorter<T> {
  private readonly out: T[] = [];

  constructor(private readonly key: (x: T) => number) {}

  sort(items: Iterable<T>): readonly T[] {
    const out = this.out;
    if (out.length !== 0) out.length = 0;
    for (const x of items) {
      const k = this.key(x);
      let i = out.length;
      while (i > 0 && this.key(out[i - 1]) > k) {
        out[i] = out[i - 1];
        i--;
      }
      out[i] = x;
    }
    return out;
  }
}
