// savedsyn kernel: generated sequences on the live kernel and on the linux
// spec, each disagreement confirmed before it is reported.

import { join } from 'node:path';
import { renderCensus } from '../fuzz/kernel-census.ts';
import { CONFIRM_SETTLE_MS, laneNeverRan, searchKernel } from '../fuzz/kernel-search.ts';
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
  const lane = kernelLane();
  if (!lane.ok) throw new UserError(`the live-kernel lane cannot run here: ${lane.reason}`);
  const dir = makeFolder(opts.out);
  const tty = process.stderr.isTTY === true && !opts.quiet;
  const onProgress = tty ? (done: number) => process.stderr.write(`\r\x1b[Kkernel: ${done}/${opts.runs} sequences`) : undefined;
  const searched = searchKernel({ seed: opts.seed, runs: opts.runs, onProgress });
  if (tty) process.stderr.write('\r\x1b[K');
  const never = laneNeverRan(searched);
  if (never) throw never;
  const { findings, flaky, laneFailures, runs, census } = searched;
  if (laneFailures.length > 0) {
    process.stderr.write(`warning: the kernel lane failed on ${laneFailures.length} run(s); those sequences were not compared (listed below and in kernel.json)\n`);
  }
  // A finding replays on the live kernel (or, with --impl, on a model).
  const tokenOf = (ops: readonly Op[]): string => encodeToken({ profile: LINUX.name, impl: KERNEL_IMPL, kind: 'sequential', ops: [...ops] });
  log(`live kernel vs linux spec: ${runs} sequences, ${findings.length} distinct disagreement(s)${flaky.length ? `, ${flaky.length} flaky (not findings)` : ''}`);
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
    version: 2, seed: opts.seed, sequences: runs, census,
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
