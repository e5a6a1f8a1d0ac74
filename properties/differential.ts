// The differential property: the linux spec and the live kernel, given the
// same sequence, agree on every return value, errno and optlen, and on every
// byte a getsockopt copies out. The lane sent the very frames the model
// built, so a saved SYN is compared byte for byte, with no field left out;
// a difference is named by the header field that holds it.

import { formatOutcome } from '../model/format.ts';
import { runOnKernel, type LaneOptions } from '../model/kernel/lane.ts';
import { Ledger } from '../model/ledger.ts';
import { savedSynDifferences } from '../model/kernel/saved-syn-diff.ts';
import { TCP_SAVED_SYN, type Op, type Outcome } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import type { RunResult } from './lockstep.ts';

export interface Disagreement {
  step: number;
  op: Op;
  expected: Outcome;
  actual: Outcome;
  /** What differs: a field of the result, or of the saved SYN. */
  differences: string[];
  signature: string;
}

export interface DifferentialResult {
  expected: Outcome[];
  actual: Outcome[];
  /** What the kernel sent the peers during each network op (see KernelRun). */
  wire: (string | undefined)[];
  disagreement: Disagreement | undefined;
}

export function specOutcomes(ops: readonly Op[]): Outcome[] {
  const spec = createSpec(LINUX);
  return ops.map((op) => spec.apply(op));
}

export function runDifferential(ops: readonly Op[], opts: LaneOptions = {}): DifferentialResult {
  const expected = specOutcomes(ops);
  const { outcomes: actual, wire } = runOnKernel(ops, opts);
  for (let i = 0; i < ops.length; i++) {
    const differences = compareOutcomes(ops[i], expected[i], actual[i]);
    if (differences.length > 0) {
      const field = differences[0].split(':')[0];
      return {
        expected, actual, wire,
        disagreement: { step: i, op: ops[i], expected: expected[i], actual: actual[i], differences, signature: `kernel:${ops[i].kind}:${field}` },
      };
    }
  }
  return { expected, actual, wire, disagreement: undefined };
}

const present = (b: Uint8Array | undefined): Uint8Array | undefined => (b && b.length > 0 ? b : undefined);

export function compareOutcomes(op: Op, e: Outcome, a: Outcome): string[] {
  const out: string[] = [];
  if (e.ret !== a.ret) out.push(`ret: expected ${e.ret}, got ${a.ret}`);
  if (e.errno !== a.errno) out.push(`errno: expected ${e.errno ?? 'none'}, got ${a.errno ?? 'none'}`);
  if (e.optlen !== a.optlen) out.push(`optlen: expected ${e.optlen ?? 'unchanged'}, got ${a.optlen ?? 'unchanged'}`);
  const eb = present(e.bytes);
  const ab = present(a.bytes);
  if (eb === undefined || ab === undefined) {
    if (eb !== ab) out.push(`bytes: expected ${eb?.length ?? 0}, got ${ab?.length ?? 0}`);
    return out;
  }
  if (op.kind === 'getsockopt' && op.optname === TCP_SAVED_SYN) {
    out.push(...savedSynDifferences(eb, ab));
  } else if (eb.length !== ab.length || eb.some((x, i) => x !== ab[i])) {
    out.push(`bytes: expected ${formatOutcome({ ret: 0, bytes: eb })}, got ${formatOutcome({ ret: 0, bytes: ab })}`);
  }
  return out;
}

/** A kernel run as the one report model reads a run: each op with the
 * spec's outcome and the kernel's, the disagreement as a lockstep failure
 * (results compared exactly, which is what the lockstep oracle checks) under
 * its kernel signature. No buffers are counted on the kernel, so the ledger
 * is empty. */
export function differentialRun(ops: readonly Op[], r: DifferentialResult): RunResult {
  const d = r.disagreement;
  const failure = d && { oracle: 'lockstep' as const, signature: d.signature, message: d.differences.join('; '), step: d.step };
  return {
    failure,
    violations: failure ? [failure] : [],
    steps: ops.map((op, index) => ({ index, op, thread: 0, teardown: false, expected: r.expected[index], actual: r.actual[index], sites: [] })),
    ledger: new Ledger(),
  };
}
