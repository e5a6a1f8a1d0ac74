// savedsyn kernel --depth N: the linux model against the live kernel on
// every transition verify explores to that depth, one path per state; a
// disagreement is confirmed as a random search's is.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { notForTheLane, searchKernelExhaustively, transitions } from '../fuzz/kernel-exhaustive.ts';
import { DEFAULT_BOUNDS } from '../fuzz/verify/alphabet.ts';
import { kernelLane } from '../model/kernel/native.ts';
import type { Op } from '../model/ops.ts';
import { specOutcomes, type DifferentialResult } from '../properties/differential.ts';

const agree = (ops: readonly Op[]): DifferentialResult => ({ expected: specOutcomes(ops), actual: specOutcomes(ops), wire: ops.map(() => undefined), disagreement: undefined });

/** A kernel that refuses every accept() the model would complete. */
const refusesAccepts = (ops: readonly Op[]): DifferentialResult => {
  const expected = specOutcomes(ops);
  const step = ops.findIndex((op, i) => op.kind === 'accept' && expected[i].ret >= 0);
  if (step < 0) return agree(ops);
  const actual = expected.map((o) => ({ ...o }));
  actual[step] = { ret: -1, errno: 'EAGAIN' };
  return {
    expected, actual, wire: ops.map(() => undefined),
    disagreement: { step, op: ops[step], expected: expected[step], actual: actual[step], differences: ['ret: made up'], signature: 'kernel:accept:ret' },
  };
};

describe('every transition to a depth, on the kernel', () => {
  it('runs each transition verify explores once, and leaves out what the lane cannot run', () => {
    const bounds = { ...DEFAULT_BOUNDS, depth: 2 };
    // verify's own counts at depth 2: 17 states expanded, 984 transitions.
    const t = transitions(bounds);
    expect([t.states, t.cases.length]).toEqual([17, 984]);
    const seen: string[] = [];
    const r = searchKernelExhaustively({ bounds, runner: (ops) => { seen.push(JSON.stringify(ops)); return agree(ops); } });
    const skipped = Object.values(r.skipped).reduce((a, b) => a + b, 0);
    expect(r.runs + skipped).toBe(984);
    expect(new Set(seen).size).toBe(r.runs);
    expect(skipped).toBe(t.cases.filter((ops) => notForTheLane(ops) !== undefined).length);
    expect([r.findings, r.flaky, r.laneFailures]).toEqual([[], [], []]);
  });

  it('finds a disagreement three ops deep, minimised and confirmed', () => {
    const r = searchKernelExhaustively({ bounds: { ...DEFAULT_BOUNDS, depth: 4, kinds: ['listen=1', 'syn', 'ack', 'accept'] }, runner: refusesAccepts });
    expect(r.findings.map((f) => [f.signature, f.ops.map((op) => op.kind)])).toEqual([['kernel:accept:ret', ['listen', 'syn', 'ack', 'accept']]]);
    expect(r.findings[0].confirmation.disagreement?.signature).toBe('kernel:accept:ret');
    // Shallower, no completed accept is reached, so nothing disagrees.
    const shallow = searchKernelExhaustively({ bounds: { ...DEFAULT_BOUNDS, depth: 3, kinds: ['listen=1', 'syn', 'ack', 'accept'] }, runner: refusesAccepts });
    expect(shallow.findings).toEqual([]);
  });

  it('leaves out a peer sending over both IP versions, and the SYN-ACK timer', () => {
    const v4 = { family: 4 as const, mac: 'loopback' as const, ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'none' as const, payload: 0 };
    expect(notForTheLane([{ kind: 'syn', conn: 1, packet: v4 }, { kind: 'syn', conn: 1, packet: { ...v4, family: 6 } }])).toBe('a peer over both IP versions');
    expect(notForTheLane([{ kind: 'synackRetransmit', conn: 1 }])).toBe('a SYN-ACK timer or tcp_migrate_req');
    expect(notForTheLane([{ kind: 'listen', fd: 0, backlog: 1 }])).toBeUndefined();
  });
});

const lane = kernelLane();

describe.runIf(lane.ok)('savedsyn kernel --depth on the live kernel', () => {
  it('runs every transition from the initial state and writes what it ran', async () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-kernel-depth-'));
    const lines: string[] = [];
    const code = await main(['kernel', '--depth', '1', '--quiet', '--out', out], (s) => lines.push(s));
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^live kernel vs linux spec: every transition from the 1 state the model reaches in fewer than 1 op \(depth 1, peers 1, fds 2, shapes 1\): \d+ sequences.*, 0 distinct disagreement\(s\)$/);
    const report = JSON.parse(readFileSync(join(out, 'kernel.json'), 'utf8')) as { bounds: { depth: number }; states: number; sequences: number; skipped: Record<string, number>; disagreements: unknown[] };
    expect([report.bounds.depth, report.states, report.disagreements]).toEqual([1, 1, []]);
    expect(report.sequences + Object.values(report.skipped).reduce((a, b) => a + b, 0)).toBe(58);
  }, 60_000);
});
