// Mutants whose defect lies outside the default alphabet are found by
// verify within their own bounds, by the oracle expected and at the length
// of their shortest counterexample, which uses an op only the option
// offers.

import { describe, expect, it } from 'vitest';
import { alphabet } from '../fuzz/verify/alphabet.ts';
import { checkedBounds } from '../fuzz/verify/bounds.ts';
import type { Op } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import { MUTANTS, type Mutant } from './mutant-defs.ts';
import { verifyMutant } from './verify-mutant-run.ts';

function named(name: string): Mutant {
  const m = MUTANTS.find((x) => x.name === name);
  if (m === undefined) throw new Error(`no mutant named ${name}`);
  return m;
}

const CASES: Array<{ name: string; length: number; option: 'groups' | 'families'; uses: (op: Op) => boolean }> = [
  {
    name: 'every SYN goes to the group\'s first listener', length: 9, option: 'groups',
    uses: (op) => op.kind === 'syn' && op.to !== undefined,
  },
  {
    name: 'migration drops the saved SYN', length: 11, option: 'groups',
    uses: (op) => op.kind === 'synackRetransmit',
  },
  {
    name: 'the listener lookup ignores the SYN\'s family', length: 9, option: 'families',
    uses: (op) => op.kind === 'socket' && (op.family === 4 || op.v6only === 1),
  },
];

describe('verify finds mutants that need the alphabet options', () => {
  for (const c of CASES) {
    it(`${c.name} (${c.option})`, async () => {
      const m = named(c.name);
      expect(m.verify?.[c.option]).toBe(true);
      const v = await verifyMutant(m);
      expect(v.found, `nothing found to depth ${v.depthCompleted}`).toBe(true);
      expect(v.oracle).toBe(m.oracle);
      expect(v.length).toBe(c.length);
      expect(v.depthCompleted).toBe(c.length - 1);
      expect(v.result.findings[0].ops.some(c.uses), 'the counterexample uses an op the option adds').toBe(true);
      expect(v.result.certificate).toMatch(new RegExp(`^ {2}bounds .*, ${c.option}, only `, 'm'));

      // The ops the counterexample needs are the option's: without it, no
      // state of the search is offered one.
      const off = checkedBounds(LINUX, { ...m.verify, [c.option]: false, kinds: undefined });
      const on = checkedBounds(LINUX, { ...m.verify, kinds: undefined });
      for (const free of [true, false]) expect(alphabet(LINUX, off, { sizes: [], free }, 1).some(c.uses)).toBe(false);
      expect(alphabet(LINUX, on, { sizes: [], free: true }, 1).some(c.uses)).toBe(true);
    }, 60_000);
  }
});

describe('the kinds a search keeps', () => {
  it('a kind alone keeps all its values; kind=value keeps one; a sysctl by name keeps that sysctl', () => {
    const ops = (kinds: Parameters<typeof checkedBounds>[1]['kinds']): string[] =>
      alphabet(LINUX, checkedBounds(LINUX, { groups: true, kinds }), { sizes: [], free: true }, 0).map((op) => JSON.stringify(op));
    expect(ops(['listen'])).toHaveLength(4);
    expect(ops(['listen=0'])).toEqual([0, 1].map((fd) => JSON.stringify({ kind: 'listen', fd, backlog: 0 })));
    expect(ops(['tcp_migrate_req=1', 'setsockopt=1'])).toEqual([
      ...[0, 1].map((fd) => JSON.stringify({ kind: 'setsockopt', fd, optname: LINUX.setOpt, value: 1 })),
      JSON.stringify({ kind: 'sysctl', name: 'tcp_migrate_req', value: 1 }),
    ]);
    expect(ops(['tcp_fastopen'])).toHaveLength(2);
    expect(() => checkedBounds(LINUX, { kinds: ['listen=2'] })).toThrow(/the backlog of listen is one of 0, 1/);
    expect(() => checkedBounds(LINUX, { kinds: ['tcp_migrate_req'] })).toThrow(/offered only with groups on/);
  });
});
