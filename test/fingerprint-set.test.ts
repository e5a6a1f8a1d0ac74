// The table of seen fingerprints answers as a Set<number> would, in the
// same order, through every growth.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FingerprintSet } from '../fuzz/verify/fingerprint-set.ts';

describe('FingerprintSet', () => {
  it('holds what a Set holds, in the order added, across many growths', () => {
    // Small values collide in their slots, large ones use all 53 bits.
    const fingerprint = fc.oneof(fc.nat(40), fc.maxSafeNat());
    fc.assert(fc.property(fc.array(fingerprint, { maxLength: 5000 }), fc.array(fingerprint, { maxLength: 50 }), (added, asked) => {
      const set = new FingerprintSet();
      const ref = new Set<number>();
      for (const fp of added) expect(set.add(fp)).toBe(!ref.has(fp) && ref.add(fp) !== undefined);
      expect(set.size).toBe(ref.size);
      expect([...set]).toEqual([...ref]);
      for (const fp of [...asked, ...added]) expect(set.has(fp)).toBe(ref.has(fp));
      expect(set.first(3)).toEqual([...ref].slice(0, 3));
      expect([...set.values(ref.size - 1)]).toEqual(ref.size ? [[...ref][ref.size - 1]] : []);
      expect([...new FingerprintSet(added)]).toEqual([...ref]);
    }), { seed: 7, numRuns: 60 });
  });

  it('refuses what no fingerprint is', () => {
    const set = new FingerprintSet();
    for (const bad of [-1, 0.5, NaN, Infinity, 2 ** 53]) expect(() => set.add(bad)).toThrow(RangeError);
    expect(set.size).toBe(0);
  });
});
