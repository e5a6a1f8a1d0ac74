// savedsyn fuzz and merge: campaigns and the folders they leave.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeDashboard } from '../fuzz/campaign/dashboard-folder.ts';
import { mergeCampaigns } from '../fuzz/campaign/merge.ts';
import { runCampaign } from '../fuzz/campaign/run.ts';
import { confirmedAfresh } from '../api/fresh-load.ts';
import { stopOnSignals } from '../fuzz/campaign/signals.ts';
import { CampaignStore } from '../fuzz/campaign/store.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { KERNEL_IMPL } from '../model/kernel/name.ts';
import { makeFolder } from '../model/output-folder.ts';
import { LINUX } from '../model/profile.ts';
import { UserError } from '../model/user-error.ts';
import type { Options } from './options.ts';
import { replayCommand } from '../reports/replay-command.ts';
import { selected } from './select.ts';

export async function fuzzCommand(opts: Options, log: (s: string) => void): Promise<number> {
  // Every implementation must load, and the folder be writable, before any worker starts.
  const sources = await campaignSources(opts);
  const out = makeFolder(opts.out);
  // A resumed campaign keeps its batch size unless told otherwise: the
  // default depends on --runs, which a resume may raise.
  const batchRuns = opts.batchGiven || !existsSync(join(out, 'state.json')) ? opts.batch : new CampaignStore(out).readState()?.batchRuns ?? opts.batch;
  const seconds = opts.seconds ?? (opts.runsGiven ? undefined : 60);
  const stop = stopOnSignals();
  // --quiet: the summary, and warnings, which are about what it counts.
  const progress = opts.quiet ? (s: string): void => { if (s.startsWith('warning:')) log(s); } : log;
  const summary = await runCampaign({
    out: resolve(opts.out), seed: opts.seed, impls: sources, runs: opts.runsGiven ? opts.runs : undefined, seconds,
    workers: opts.workers, batchRuns, maxOps: opts.maxOps, schedulers: opts.schedulers, shard: opts.shard, guideEvery: opts.guideEvery, opTimeout: opts.opTimeout, log: progress,
    tty: process.stdout.isTTY === true && log === console.log && !opts.quiet, stop: stop.signal, confirm: confirmedAfresh(opts.opTimeout),
  }).finally(stop.dispose);
  const c = summary.coverage;
  log(`campaign: ${summary.cases} cases (${summary.steps} steps) in ${summary.batches} batches (${summary.session.batches} this run); ${summary.findings.length} distinct finding(s), ${summary.newFindings} new; `
    + `coverage: ${c.transitions} spec transitions, ${c.sites} implementation sites${sources.includes(KERNEL_IMPL) ? ' and kernel answers' : ''}, ${c.interleavings} interleavings (coverage.json); `
    + `corpus: ${summary.corpus} cases (corpus/)`);
  if (!opts.quiet) for (const f of summary.findings) log(`  ${f.impl}: ${f.signature}\n    ${replayCommand(f.token, f.impl)}`);
  if (summary.flaky > 0) log(`${summary.flaky} flaky kernel disagreement(s), not findings: they did not persist on a fresh namespace (flaky/)`);
  log(`findings and stats: ${resolve(opts.out)}`);
  return stop.exitCode() ?? 0;
}

/** What --impl names, each checked: bundled names and modules load, and
 * `kernel` needs the live-kernel lane and the linux profile. */
async function campaignSources(opts: Options): Promise<string[]> {
  if (!opts.impls.includes(KERNEL_IMPL)) return (await selected(opts)).sources;
  if (opts.profile !== undefined && opts.profile !== LINUX.name) throw new UserError(`--profile ${opts.profile}, but the live kernel is judged by the ${LINUX.name} spec`);
  const lane = kernelLane();
  if (!lane.ok) throw new UserError(`fuzz --impl ${KERNEL_IMPL} needs the live-kernel lane, which cannot run here: ${lane.reason}`);
  const others = opts.impls.filter((i) => i !== KERNEL_IMPL);
  if (others.length > 0) await selected({ ...opts, impls: others });
  return opts.impls;
}

export function mergeCommand(dirs: string[], opts: Options, log: (s: string) => void): number {
  const m = mergeCampaigns({ out: opts.out, inputs: dirs, allowMixed: opts.allowMixed, log: opts.quiet ? (s) => { if (s.startsWith('warning:')) log(s); } : log });
  log(`merged: ${m.cases} cases, ${m.findings.length} distinct finding(s), coverage ${m.coverage.transitions} transitions / ${m.coverage.sites} sites / `
    + `${m.coverage.interleavings} interleavings, corpus ${m.corpus} in ${m.out}`);
  const page = writeDashboard(m.out, { mergedFrom: dirs });
  if (!opts.quiet) log(`dashboard: ${page}`);
  return 0;
}
