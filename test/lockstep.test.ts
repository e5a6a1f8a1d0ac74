// linux and rfc-v1-fixed agree with their spec on thousands of generated
// single-thread cases, every oracle included.
import { fc, test } from '@fast-check/vitest';
import { describe } from 'vitest';
import { opsArb } from '../src/fuzz/arbitraries.ts';
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
      const result = runLockstep(impl, profile, ops, { recordSites: true });
      if (result.failure) {
        const text = renderFinding({
          signature: result.failure.signature, oracle: result.failure.oracle, message: result.failure.message,
          ops, result, seed, path: '(see fast-check output)', runsToFind: 0,
        }, profile);
        throw new Error(`\n${text}`);
      }
    });
  });
}

void fc;
