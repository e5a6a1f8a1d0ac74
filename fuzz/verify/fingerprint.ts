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

  /** A string from a small vocabulary (a field name, a state, a site):
   * mixed as one precomputed code instead of character by character. */
  sym(s: string): this {
    this.mix(symbolCode(s));
    return this;
  }

  /** A string by its code (symbolCode), looked up beforehand. */
  code(c: number): this {
    this.mix(c);
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

// Codes of vocabulary strings, made once each. A code stands for its string
// only if no other string has it: two that share one would make the
// fingerprint blind to the difference, so that is refused outright (it is
// a property of the vocabulary, not of a run, so any test would show it).
const codes = new Map<string, number>();
const owners = new Map<number, string>();

export function symbolCode(s: string): number {
  let c = codes.get(s);
  if (c !== undefined) return c;
  // FNV-1a over the length and the characters, finalised.
  let h = Math.imul(0x811c9dc5 ^ s.length, 0x01000193);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  c = fmix(h);
  const other = owners.get(c);
  if (other !== undefined && other !== s) throw new Error(`fingerprint: ${JSON.stringify(s)} and ${JSON.stringify(other)} share a code`);
  codes.set(s, c);
  owners.set(c, s);
  return c;
}
