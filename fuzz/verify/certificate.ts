// What a verify run proves, as text: the profile, the implementation, the
// bounds and alphabet, how many distinct states and transitions were
// explored, the depth completed and the time. Time appears on its own line
// and nowhere else, so two runs differ only there.

import type { VerifyBounds } from './alphabet.ts';
import type { HeapFull } from './heap.ts';

export interface CertificateFacts {
  implementation: string;
  profile: string;
  profileTitle: string;
  bounds: VerifyBounds;
  alphabet: string;
  states: number;
  transitions: number;
  depthCompleted: number;
  exhausted: boolean;
  outOfTime: boolean;
  /** False when states are paths: the implementation's state is opaque. */
  stateHashed: boolean;
  /** Distinct states first reached at each depth, from 0. */
  statesPerDepth: readonly number[];
  /** Concurrent pairs explored, when the run explored any. */
  pairs?: { from: number; depth: number; pairs: number; schedules: number; complete: boolean; optionStates?: number };
  /** Why no pair was explored, when none was: none were asked for, or
   * the single-thread search stopped first (at its first counterexample,
   * or as `outOfTime` says). A certificate without pairs says so, or a
   * reader would take its verdict to cover interleavings. */
  pairsSkipped?: 'not asked' | 'first counterexample' | 'stopped';
  counterexamples: number;
  seconds: number;
  /** Stopped by a signal rather than the time budget. */
  interrupted?: boolean;
  /** Stopped because ops hung this many times, each for `bound` ms. */
  hungOut?: { hangs: number; bound: number };
  /** The single-thread search stopped as the heap filled. */
  heapFull?: HeapFull;
}

export function renderCertificate(c: CertificateFacts): string {
  const verdict = c.counterexamples > 0
    ? `${c.counterexamples} counterexample(s), each a shortest one of its signature`
    : c.exhausted
      ? `no counterexample: every reachable state explored (depth ${c.depthCompleted} reached no new state)`
      : `no counterexample in any sequence of at most ${c.depthCompleted} ops`;
  // Only the single-thread search fills the heap: what stopped the pairs
  // is one of the others.
  const stoppedBy = c.hungOut !== undefined
    ? `stopped after ${c.hungOut.hangs} ops did not return within ${c.hungOut.bound} ms`
    : c.interrupted === true ? 'stopped by a signal' : 'stopped by the time budget';
  const searchStoppedBy = c.hungOut === undefined && c.interrupted !== true && c.heapFull !== undefined
    ? `stopped as the heap filled: ${c.heapFull.usedMb} MB in use, past ${c.heapFull.limitMb} MB; NODE_OPTIONS=--max-old-space-size=MB gives it more`
    : stoppedBy;
  const depth = c.outOfTime
    ? `${c.depthCompleted} of ${c.bounds.depth} (${searchStoppedBy})`
    : `${c.depthCompleted} of ${c.bounds.depth}${c.exhausted ? ' (exhausted)' : ''}`;
  const lines = [
    `savedsyn verify: ${verdict}`,
    `  profile          ${c.profile} (${c.profileTitle})`,
    `  implementation   ${c.implementation}`,
    `  bounds           ${describeBounds(c.bounds)}`,
    `  alphabet         ${c.alphabet}`,
    c.stateHashed
      ? `  distinct states  ${c.states} (53-bit fingerprints: a collision among them has odds below ${collisionOdds(c.states)})`
      : `  distinct states  ${c.states} (paths: the implementation's state cannot be read, so none merge)`,
    `  states by depth  ${c.statesPerDepth.join(' ')}`,
    `  transitions      ${c.transitions}`,
    // Pairs cut short ran from some of those states only: the line must
    // not read as the promise a complete run makes.
    ...(c.pairs ? [`  concurrent pairs ${c.pairs.pairs} from ${c.pairs.complete ? 'every state' : 'some of the states'} ${c.pairs.from > 0 ? `at depth ${c.pairs.from} to ${c.pairs.depth}` : `up to depth ${c.pairs.depth}`}`
      + `${c.pairs.optionStates ? `, and of socket options from ${c.pairs.complete ? '' : 'up to '}${c.pairs.optionStates} more, each the first to show a socket as options see it` : ''}`
      + `, ${c.pairs.schedules} schedules${c.pairs.complete ? '' : ` (${stoppedBy} before the rest)`}`] : []),
    ...(c.pairs === undefined && c.pairsSkipped !== undefined ? [`  concurrent pairs none: ${PAIRS_SKIPPED[c.pairsSkipped](searchStoppedBy)}`] : []),
    `  depth completed  ${depth}`,
    `  time             ${c.seconds.toFixed(1)} s`,
  ];
  return lines.join('\n');
}

const PAIRS_SKIPPED: Record<NonNullable<CertificateFacts['pairsSkipped']>, (stoppedBy: string) => string> = {
  'not asked': () => 'none were asked for (pair depth -1)',
  'first counterexample': () => 'the single-thread search stopped at its first counterexample',
  stopped: (stoppedBy) => `the single-thread search was ${stoppedBy} before any pair ran`,
};

/** The bounds as a line: the numbers, then the options that are on. */
export function describeBounds(b: VerifyBounds): string {
  const on = [...(b.groups ? ['groups'] : []), ...(b.families ? ['families'] : []), ...(b.kinds ? [`only ${b.kinds.join(',')}`] : [])];
  return [`depth ${b.depth}, peers ${b.peers}, fds ${b.fds}, shapes ${b.shapes}`, ...on].join(', ');
}

/** n²/2⁵⁴, as a power of ten a reader can compare. */
function collisionOdds(n: number): string {
  const p = (n * n) / 2 ** 54;
  return p <= 0 ? '1e-16' : `1e${Math.ceil(Math.log10(Math.max(p, 1e-16)))}`;
}
