// The harness still finds every known defect of the 2015 patch, each within
// a stated budget of generated cases, and finds nothing else; the repaired
// implementation passes every minimal case.
import { describe, expect, it } from 'vitest';
import { search } from '../fuzz/search.ts';
import { valueSteps } from '../fuzz/simplify-values.ts';
import type { Op } from '../model/ops.ts';
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

/** The value steps of a shrunk case that still fail: none, if the shrinker
 * left every value (buffer sizes, option values, descriptors, peers,
 * backlogs, packets) at the simplest that fails. */
function simplerThatFail(ops: readonly Op[], signature: string): Op[][] {
  return valueSteps(ops).filter((c) => runLockstep(rfcV1, RFC_V1, c).failure?.signature === signature);
}

describe('rfc-v1: every known single-thread finding is still found', () => {
  for (const [id, r] of Object.entries(REPAIRS).filter(([, r]) => !r.concurrent)) {
    it(`${id} (${r.signature}) within ${BUDGET} cases`, () => {
      const { findings, runs } = search(rfcV1, RFC_V1, { seed: SEED, runs: BUDGET, only: r.signature });
      expect(findings.map((f) => f.signature), `not found in ${runs} cases`).toEqual([r.signature]);
      const f = findings[0];
      console.log(`${id}: found after ${f.runsToFind} cases, shrunk to ${f.ops.length} ops\n${renderFinding(f, RFC_V1)}`);
      // The repair holds on the minimal case.
      expect(runLockstep(fixed, RFC_V1, f.ops).failure).toBeUndefined();
      expect(simplerThatFail(f.ops, f.signature)).toEqual([]);
    });
  }

  it('an open search finds exactly the known findings, no more', () => {
    const { findings, runs } = search(rfcV1, RFC_V1, { seed: SEED, runs: 6000 });
    const found = findings.map((f) => f.signature).sort();
    const known: string[] = Object.values(REPAIRS).filter((r) => !r.concurrent).map((r) => r.signature).sort();
    for (const f of findings) if (!known.includes(f.signature)) console.log(`new finding:\n${renderFinding(f, RFC_V1)}`);
    for (const f of findings) expect(simplerThatFail(f.ops, f.signature), f.signature).toEqual([]);
    expect(found, `in ${runs} cases`).toEqual(known);
  });
});
