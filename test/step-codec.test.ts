// What a verify worker sends of a state's steps, packed into numbers, is
// what the main thread unpacks: failures, known states, new states with
// their sizes, descriptors, sockets as options see them, and teardown's
// verdict, for states of every bundled implementation.

import { describe, expect, it } from 'vitest';
import { DEFAULT_BOUNDS } from '../fuzz/verify/alphabet.ts';
import { Bfs, pathOf, type Step } from '../fuzz/verify/bfs.ts';
import { packSteps, unpackSteps } from '../fuzz/verify/step-codec.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { profileByName } from '../model/profile.ts';

describe('packed steps', () => {
  for (const name of ['linux', 'rfc-v1']) {
    it(`unpack to the steps packed, from every state to depth 2 of ${name}`, () => {
      const impl = bundledByName(name)!;
      const bfs = new Bfs(impl, profileByName(impl.profile)!, { ...DEFAULT_BOUNDS, depth: 2 }, 2);
      bfs.pairedDepths = { from: 3, to: 3 };
      bfs.run();
      const all: Step[] = [];
      for (const node of bfs.retained) {
        const steps = bfs.steps(pathOf(node), node, () => false);
        all.push(...steps);
        // Absent and undefined fields are alike to every reader of a step.
        expect(unpackSteps(packSteps(steps))).toEqual(steps);
      }
      // Every kind of step was met.
      expect(all.some((s) => s.failure !== undefined)).toBe(name === 'rfc-v1');
      expect(all.some((s) => s.child === undefined && s.failure === undefined)).toBe(true);
      expect(all.some((s) => s.child?.sockets !== undefined && s.child.sockets.length > 0)).toBe(true);
    });
  }

  it('keep sizes held and not, zero among them, and a new state\'s teardown verdict', () => {
    const end = { signature: 'leak:x', oracle: 'ledger', message: 'a "quoted" message', step: 4 };
    const steps: Step[] = [
      { child: { fp: 2 ** 53 - 1, kept: { sizes: [undefined, 60, 0], free: false }, open: [0, 1, 2], listening: [], sockets: [0, 2 ** 52] }, end },
      {},
      { failure: { ...end, signature: 'state:accept:flag' } },
      { child: { fp: 0, kept: { sizes: [], free: true }, open: [], listening: [], sockets: undefined }, end: undefined },
    ];
    expect(unpackSteps(packSteps(steps))).toEqual(steps);
  });
});
