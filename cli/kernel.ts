// savedsyn kernel: generated sequences on the live kernel and on the linux
// spec, each disagreement confirmed before it is reported.

import { join } from 'node:path';
import { renderCensus } from '../fuzz/kernel-census.ts';
import { searchKernelExhaustively, type ExhaustiveKernelResult } from '../fuzz/kernel-exhaustive.ts';
import { CONFIRM_SETTLE_MS, laneNeverRan, searchKernel, type KernelSearchResult } from '../fuzz/kernel-search.ts';
import type { VerifyBounds } from '../fuzz/verify/alphabet.ts';
import { checkedBounds } from '../fuzz/verify/bounds.ts';
import { describeBounds } from '../fuzz/verify/certificate.ts';
import { KERNEL_IMPL } from '../model/kernel/name.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { makeFolder, writeOutput } from '../model/output-folder.ts';
import { LINUX } from '../model/profile.ts';
import { UserError } from '../model/user-error.ts';
import type { DifferentialResult } from '../properties/differential.ts';
import type { Op } from '../model/ops.ts';
import { replayCommand } from '../reports/replay-command.ts';
import { renderKernelFinding } from '../reports/text.ts';
import { encodeToken } from '../reports/token.ts';
import type { Options } from './options.ts';

export function kernelCommand(opts: Options, log: (s: string) => void): number {
  if (opts.impls.length > 0) throw new UserError('kernel runs the live kernel against the linux spec; it takes no --impl');
  const bounds = exhaustiveBounds(opts);
  const lane = kernelLane();
  if (!lane.ok) throw new UserError(`the live-kernel lane cannot run here: ${lane.reason}`);
  const dir = makeFolder(opts.out);
  const tty = process.stderr.isTTY === true && !opts.quiet;
  const onProgress = opts.quiet ? undefined : progressLine(tty, opts.runs);
  const searched: KernelSearchResult & Partial<Pick<ExhaustiveKernelResult, 'states' | 'skipped'>> = bounds === undefined
    ? searchKernel({ seed: opts.seed, runs: opts.runs, onProgress })
    : searchKernelExhaustively({ bounds, onProgress });
  if (tty) process.stderr.write('\r\x1b[K');
  const never = laneNeverRan(searched);
  if (never) throw never;
  const { findings, flaky, laneFailures, runs, census } = searched;
  if (laneFailures.length > 0) {
    process.stderr.write(`warning: the kernel lane failed on ${laneFailures.length} run(s); those sequences were not compared (listed below and in kernel.json)\n`);
  }
  // A finding replays on the live kernel (or, with --impl, on a model).
  const tokenOf = (ops: readonly Op[]): string => encodeToken({ profile: LINUX.name, impl: KERNEL_IMPL, kind: 'sequential', ops: [...ops] });
  const what = bounds === undefined ? `${runs} sequences`
    : `every transition from the ${counted(searched.states ?? 0, 'state')} the model reaches in fewer than ${counted(bounds.depth, 'op')} (${describeBounds(bounds)}): `
      + `${runs} sequences${skippedText(searched.skipped ?? {})}`;
  log(`live kernel vs linux spec: ${what}, ${findings.length} distinct disagreement(s)${flaky.length ? `, ${flaky.length} flaky (not findings)` : ''}`);
  log(renderCensus(census));
  if (!opts.quiet) {
    for (const f of findings) {
      log(`\n${renderKernelFinding(f, LINUX)}\n  confirmed on a fresh namespace, ${CONFIRM_SETTLE_MS} ms settling after every op`);
      log(`  replay: ${replayCommand(tokenOf(f.ops), KERNEL_IMPL)}\n`);
    }
    for (const f of flaky) {
      log(`\nflaky, not a finding: ${f.signature} did not persist on a fresh namespace`);
      log(`${renderKernelFinding({ signature: `${f.signature} (first run)`, ops: f.ops, result: f.shown, runsToFind: 0 }, LINUX)}`);
      log(`${renderKernelFinding({ signature: `${f.signature} (second run)`, ops: f.ops, result: f.rerun, runsToFind: 0 }, LINUX)}\n`);
    }
    for (const f of laneFailures) log(`\nthe lane failed on a ${f.ops.length}-op sequence: ${f.error}`);
  }
  const runJson = (r: DifferentialResult) => ({ step: r.disagreement?.step ?? null, differences: r.disagreement?.differences ?? [] });
  writeOutput(join(dir, 'kernel.json'), JSON.stringify({
    version: 2, ...(bounds === undefined ? { seed: opts.seed } : { bounds, states: searched.states, skipped: searched.skipped }), sequences: runs, census,
    disagreements: findings.map((f) => {
      const token = tokenOf(f.ops);
      return { signature: f.signature, ops: f.ops, differences: f.result.disagreement?.differences ?? [], confirmation: runJson(f.confirmation), token, replay: replayCommand(token, KERNEL_IMPL) };
    }),
    flaky: flaky.map((f) => ({ signature: f.signature, ops: f.ops, first: runJson(f.shown), second: runJson(f.rerun) })),
    laneFailures,
  }, null, 2) + '\n');
  log(`report: ${join(dir, 'kernel.json')}`);
  return findings.length > 0 ? 1 : 0;
}

/** The alphabet and depth of `kernel --depth`, or undefined for random
 * sequences: the two take different options, and a flag of the other is
 * refused rather than ignored. */
function exhaustiveBounds(opts: Options): VerifyBounds | undefined {
  const v = opts.verify;
  const alphabetFlags = (['peers', 'fds', 'shapes', 'groups', 'families', 'kinds'] as const).filter((k) => v[k] !== undefined);
  if (v.depth === undefined) {
    if (alphabetFlags.length > 0) throw new UserError(`kernel --${flagOf(alphabetFlags[0])} sets the alphabet of kernel --depth N, which runs every transition to that depth: give --depth too`);
    return undefined;
  }
  if (opts.runsGiven) throw new UserError('kernel --depth runs every transition to that depth: it takes no --runs');
  if (opts.seedGiven) throw new UserError('kernel --depth runs every transition to that depth, and chooses nothing at random: it takes no --seed');
  return checkedBounds(LINUX, { ...v, depth: v.depth }, 'kernel');
}

function flagOf(k: 'peers' | 'fds' | 'shapes' | 'groups' | 'families' | 'kinds'): string {
  return k === 'kinds' ? 'ops' : k;
}

function skippedText(skipped: Record<string, number>): string {
  const list = Object.entries(skipped).sort((a, b) => b[1] - a[1]).map(([why, n]) => `${n} with ${why}`);
  return list.length === 0 ? '' : ` (not run, as the lane cannot run them as the model reads them: ${list.join(', ')})`;
}

/** Where a run is, on standard error: on a terminal one line, redrawn; in
 * a log, a line at most every ten seconds, so a long run shows it is alive. */
function progressLine(tty: boolean, runs: number): (done: number, of?: number) => void {
  const started = Date.now();
  let last = started;
  return (done, of = runs) => {
    const now = Date.now();
    if (tty) {
      process.stderr.write(`\r\x1b[Kkernel: ${done}/${of} sequences`);
    } else if (now - last >= 10_000 && done < of) {
      last = now;
      process.stderr.write(`kernel: ${done}/${of} sequences (${Math.round((now - started) / 1000)} s)\n`);
    }
  };
}

function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
