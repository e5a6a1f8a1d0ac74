// The harness still finds every known defect of the 2015 patch, each within
// a stated budget of generated cases, and finds nothing else; the repaired
// implementation passes every minimal case.
import { describe, expect, it } from 'vitest';
import { search } from '../fuzz/search.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import { RFC_V1 } from '../model/profile.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { renderFinding } from '../reports/text.ts';

const rfcV1 = bundledByName('rfc-v1')!;
const fixed = bundledByName('rfc-v1-fixed')!;
/** Generated cases each targeted search may use. */
const BUDGET = 3000;
const SEED = 2015;

describe('rfc-v1: every known single-thread finding is still found', () => {
  for (const [id, r] of Object.entries(REPAIRS).filter(([, r]) => !r.concurrent)) {
    it(`${id} (${r.signature}) within ${BUDGET} cases`, () => {
      const { findings, runs } = search(rfcV1, RFC_V1, { seed: SEED, runs: BUDGET, only: r.signature });
      expect(findings.map((f) => f.signature), `not found in ${runs} cases`).toEqual([r.signature]);
      const f = findings[0];
      console.log(`${id}: found after ${f.runsToFind} cases, shrunk to ${f.ops.length} ops\n${renderFinding(f, RFC_V1)}`);
      // The repair holds on the minimal case.
      expect(runLockstep(fixed, RFC_V1, f.ops).failure).toBeUndefined();
    });
  }

  it('an open search finds exactly the known findings, no more', () => {
    const { findings, runs } = search(rfcV1, RFC_V1, { seed: SEED, runs: 6000 });
    const found = findings.map((f) => f.signature).sort();
    const known: string[] = Object.values(REPAIRS).filter((r) => !r.concurrent).map((r) => r.signature).sort();
    for (const f of findings) if (!known.includes(f.signature)) console.log(`new finding:\n${renderFinding(f, RFC_V1)}`);
    expect(found, `in ${runs} cases`).toEqual(known);
  });
});
