// The lane-measured rows of reference/measured-paths.md: the linux
// implementation in lockstep with its spec gives each committed result,
// and where the lane runs, so does the live kernel today.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runOnKernel } from '../model/kernel/lane.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { LANE_PATHS, laneResult } from '../properties/lane-paths.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { LINUX } from '../model/profile.ts';
import { scenario } from './helpers.ts';
import { COUNT_MUTANTS, MUTANTS, mutant } from './mutant-defs.ts';

const table = readFileSync(new URL('../reference/measured-paths.md', import.meta.url), 'utf8');
const committed = new Map<string, string>();
let inLane = false;
for (const line of table.split('\n')) {
  if (line.startsWith('<!-- lane-rows:')) inLane = line.includes('begin');
  const m = /^\| `([^`]+)` \| .* \| (.*) \| [^|]+ \|$/.exec(line);
  if (m && inLane) committed.set(m[1], m[2]);
}

describe('lane-measured paths', () => {
  it('every sequence has its committed row', () => {
    expect([...committed.keys()].sort()).toEqual(LANE_PATHS.map((p) => p.id).sort());
  });

  for (const p of LANE_PATHS) {
    it(`linux and its spec: ${p.id}`, () => {
      const { result, actual } = scenario('linux', p.ops);
      expect(result.failure, result.failure?.message).toBeUndefined();
      expect(laneResult(p, actual)).toBe(committed.get(p.id));
    });
  }

  // Each defect of the count is caught by the sequences that show it, by
  // the oracle expected; the migration one is caught there too.
  const migrating = { ...MUTANTS.find((m) => m.name.startsWith('a Fast Open child waiting'))!, caughtBy: ['tfo.migrate1.child.a1-b0'] };
  for (const m of [...COUNT_MUTANTS, migrating]) {
    it(`caught by the measured sequences: ${m.name}`, () => {
      for (const id of m.caughtBy) {
        const p = LANE_PATHS.find((x) => x.id === id)!;
        expect(runLockstep(mutant(m), LINUX, p.ops).failure?.oracle, id).toBe(m.oracle);
      }
    });
  }

  it.runIf(kernelLane().ok)('the live kernel still gives every committed row', () => {
    for (const p of LANE_PATHS) expect(laneResult(p, runOnKernel(p.ops).outcomes), p.id).toBe(committed.get(p.id));
  }, 60_000);
});
