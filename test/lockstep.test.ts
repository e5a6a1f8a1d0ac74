// linux and rfc-v1-fixed agree with their spec on thousands of generated
// single-thread cases, every oracle included.
import { test } from '@fast-check/vitest';
import { describe } from 'vitest';
import { opsArb } from '../src/fuzz/arbitraries.ts';
import { minimize } from '../src/fuzz/minimize.ts';
import { bundledByName } from '../src/model/impl/registry.ts';
import { profileByName } from '../src/model/profile.ts';
import { runLockstep } from '../src/properties/lockstep.ts';
import { renderFinding } from '../src/reports/text.ts';

const CASES = 2000;

for (const [name, seed] of [['linux', 20260101], ['rfc-v1-fixed', 20260102]] as const) {
  const impl = bundledByName(name)!;
  const profile = profileByName(impl.profile)!;
  describe(`${name} against the ${profile.name} spec`, () => {
    test.prop([opsArb(profile)], { numRuns: CASES, seed })(`${CASES} single-thread cases in lockstep`, (ops) => {
      const failure = runLockstep(impl, profile, ops).failure;
      if (failure) {
        // Print the 1-minimal form of what fast-check shrank.
        const min = minimize(ops.slice(0, failure.step + 1), (c) => runLockstep(impl, profile, c).failure?.signature === failure.signature);
        const result = runLockstep(impl, profile, min, { recordSites: true });
        const text = renderFinding({
          signature: failure.signature, oracle: failure.oracle, message: failure.message,
          ops: min, result, seed, path: '(printed by fast-check below)', runsToFind: 0,
        }, profile);
        throw new Error(`\n${text}`);
      }
    });
  });
}

