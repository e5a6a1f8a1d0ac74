// A 53-bit fingerprint fed field by field: no string or object is built per
// state. Two 32-bit multiply-xor lanes with different seeds and primes; the
// result fits a JS number exactly, so a Set<number> holds the seen states.
// As in TLC, two states could share a fingerprint: with n states the chance
// of any collision is about n²/2⁵⁴ (under 1e-4 for a million states), and
// the certificate says so.

export class Fingerprint {
  private a = 0x811c9dc5;
  private b = 0x3c6ef372;

  reset(): this {
    this.a = 0x811c9dc5;
    this.b = 0x3c6ef372;
    return this;
  }

  /** Any finite number; integers in ±2^31 are the common, cheap case. */
  num(n: number): this {
    let lo = n | 0;
    if (lo !== n) {
      // Large, negative beyond 32 bits, or fractional: mix the high part too.
      this.mix((n / 4294967296) | 0);
      lo = (n >>> 0) | 0;
    }
    this.mix(lo);
    return this;
  }

  bool(x: boolean): this {
    return this.num(x ? 1 : 0);
  }

  str(s: string): this {
    this.mix(s.length);
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
    return this;
  }

  bytes(b: Uint8Array): this {
    this.mix(b.length);
    for (let i = 0; i < b.length; i++) this.mix(b[i]);
    return this;
  }

  /** The 53-bit value. */
  value(): number {
    const a = fmix(this.a ^ this.b);
    const b = fmix(this.b + Math.imul(this.a, 0x27d4eb2d));
    return (a >>> 0) * 0x200000 + ((b >>> 0) & 0x1fffff);
  }

  private mix(x: number): void {
    this.a = Math.imul(this.a ^ x, 0x01000193);
    this.b = Math.imul((this.b ^ x) + 0x9e3779b9, 0x85ebca6b);
    this.b ^= this.b >>> 13;
  }
}

/** murmur3's finaliser: every input bit reaches every output bit. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
