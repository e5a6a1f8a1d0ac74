// The states a search has seen, by fingerprint. A Set<number> of 53-bit
// fingerprints keeps each as a heap number, some fifty bytes a state, and
// is asked once per transition; an open-addressing table of doubles keeps
// eight bytes a state (sixteen at its fullest) and is asked without
// following a pointer. Fingerprints are kept in the order added too, as a
// Set lists them: a worker thread is sent the states a level added.

const EMPTY = -1;

export class FingerprintSet implements Iterable<number> {
  private table: Float64Array;
  private mask: number;
  private order: Float64Array;
  size = 0;

  constructor(values: Iterable<number> = []) {
    this.table = new Float64Array(1024).fill(EMPTY);
    this.mask = 1023;
    this.order = new Float64Array(512);
    for (const fp of values) this.add(fp);
  }

  has(fp: number): boolean {
    const table = this.table;
    for (let i = slot(fp, this.mask); ; i = (i + 1) & this.mask) {
      const x = table[i];
      if (x === fp) return true;
      if (x === EMPTY) return false;
    }
  }

  /** Whether `fp` was new. */
  add(fp: number): boolean {
    if (!(fp >= 0 && fp <= Number.MAX_SAFE_INTEGER && Number.isInteger(fp))) throw new RangeError(`not a fingerprint: ${fp}`);
    const table = this.table;
    let i = slot(fp, this.mask);
    for (; ; i = (i + 1) & this.mask) {
      const x = table[i];
      if (x === fp) return false;
      if (x === EMPTY) break;
    }
    table[i] = fp;
    if (this.size === this.order.length) {
      const grown = new Float64Array(this.order.length * 2);
      grown.set(this.order);
      this.order = grown;
    }
    this.order[this.size++] = fp;
    // Linear probing stays short while at most half the slots are taken.
    if (this.size * 2 > this.mask) this.grow();
    return true;
  }

  /** Fingerprints in the order added, from the `from`-th on. */
  *values(from = 0): Generator<number> {
    for (let i = Math.max(0, from); i < this.size; i++) yield this.order[i];
  }

  [Symbol.iterator](): Generator<number> {
    return this.values();
  }

  /** The first `n` added, as an array. */
  first(n: number): number[] {
    return Array.from(this.order.subarray(0, Math.min(n, this.size)));
  }

  private grow(): void {
    const table = new Float64Array(this.table.length * 2).fill(EMPTY);
    const mask = table.length - 1;
    for (let k = 0; k < this.size; k++) {
      const fp = this.order[k];
      let i = slot(fp, mask);
      while (table[i] !== EMPTY) i = (i + 1) & mask;
      table[i] = fp;
    }
    this.table = table;
    this.mask = mask;
  }
}

/** A fingerprint's home slot: its low 32 bits crossed with the high 21,
 * all of which the fingerprint's finaliser has mixed. */
function slot(fp: number, mask: number): number {
  return ((fp >>> 0) ^ Math.imul((fp / 4294967296) | 0, 0x9e3779b1)) & mask;
}
