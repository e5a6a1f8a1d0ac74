// The dashboard of a campaign folder, read from the folder alone, so the page
// a running campaign keeps, the one it ends with and the one merge writes
// show what a resume or a later merge would see.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../model/user-error.ts';
import { readRecord } from './read-record.ts';
import { coverageFigures, leastReached } from './coverage.ts';
import { renderDashboard, type DashboardData, type DashboardFinding, type MergedInput } from './dashboard.ts';
import { CampaignStore, writeAtomic } from './store.ts';
import { isSample, readTimeline } from './timeline.ts';

export const INPUTS_VERSION = 1;

function findingsOf(dir: string, store: CampaignStore): DashboardFinding[] {
  return [...store.findings].map(([name, f]) => ({
    name, impl: f.impl, signature: f.signature, title: typeof f.title === 'string' ? f.title : '', message: typeof f.message === 'string' ? f.message : '', token: f.token,
    files: { md: existsSync(join(dir, 'findings', `${name}.md`)), json: existsSync(join(dir, 'findings', `${name}.json`)) },
  })).sort((a, b) => (a.impl === b.impl ? (a.signature < b.signature ? -1 : 1) : a.impl < b.impl ? -1 : 1));
}

const present = (dir: string, names: string[]): string[] => names.filter((n) => existsSync(join(dir, n)));

function readStats(dir: string, warnings: string[]): Record<string, unknown> | undefined {
  const path = join(dir, 'stats.json');
  if (!existsSync(path)) return undefined;
  try {
    const s = JSON.parse(readRecord(path)) as unknown;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new Error('not an object');
    return s as Record<string, unknown>;
  } catch (e) {
    warnings.push(`stats.json unreadable (${e instanceof Error ? e.message : String(e)})`);
    return undefined;
  }
}

/** The inputs a merged folder records in inputs.json; unreadable, none. */
function readInputs(dir: string, warnings: string[]): MergedInput[] {
  const path = join(dir, 'inputs.json');
  if (!existsSync(path)) return [];
  try {
    const x = JSON.parse(readRecord(path)) as { version?: unknown; inputs?: unknown };
    if (x.version !== INPUTS_VERSION || !Array.isArray(x.inputs)) throw new Error('not a list of inputs this savedsyn wrote');
    const ok = (i: Partial<MergedInput>): boolean => typeof i.label === 'string' && Array.isArray(i.impls) && typeof i.cases === 'number'
      && typeof i.steps === 'number' && Array.isArray(i.samples) && i.samples.every(isSample);
    if (!x.inputs.every(ok)) throw new Error('an input lacks its label, totals or samples');
    return x.inputs as MergedInput[];
  } catch (e) {
    warnings.push(`inputs.json unreadable (${e instanceof Error ? e.message : String(e)}): the inputs merged before are not shown`);
    return [];
  }
}

/** What each folder merged into `out` contributes to its page: its
 * options, totals and timeline, copied, since the shards' folders are
 * often gone by the time someone opens the merged one. */
function recordInputs(out: string, dirs: readonly string[], warnings: string[]): void {
  const inputs = readInputs(out, warnings);
  for (const dir of dirs) {
    const src = resolve(dir);
    const carried = readInputs(src, warnings);
    const fresh: MergedInput[] = [];
    if (carried.length > 0) {
      fresh.push(...carried);
    } else {
      const state = new CampaignStore(src).readState();
      fresh.push({
        label: dir, seed: state?.seed, shard: state?.shard, impls: state?.impls ?? [],
        cases: state?.cases ?? 0, steps: state?.steps ?? 0, samples: readTimeline(src, warnings),
      });
    }
    for (const f of fresh) {
      const at = inputs.findIndex((i) => i.label === f.label);
      if (at >= 0) inputs[at] = f;
      else inputs.push(f);
    }
  }
  writeAtomic(join(out, 'inputs.json'), `${JSON.stringify({ version: INPUTS_VERSION, inputs })}\n`);
}

export function readDashboard(dir: string, written: string, earlier: readonly string[] = []): DashboardData {
  const store = new CampaignStore(dir);
  const mine: string[] = [];
  // The store's list also takes what readState and readCoverage report.
  const warnings = (): string[] => [...earlier, ...store.warnings, ...mine];
  const stats = readStats(dir, mine);
  const findings = findingsOf(dir, store);
  if (Array.isArray(stats?.merged)) {
    const counts = store.readCoverage();
    const inputs = readInputs(dir, mine);
    return {
      kind: 'merge', folder: dir, written, inputs, findings, flaky: store.flaky.size,
      cases: typeof stats.cases === 'number' ? stats.cases : inputs.reduce((n, i) => n + i.cases, 0),
      corpus: typeof stats.corpus === 'number' ? stats.corpus : store.readCorpus().length,
      coverage: coverageFigures(counts.keys()), leastReached: leastReached(counts),
      files: present(dir, ['stats.json', 'coverage.json', 'inputs.json']), warnings: warnings(),
    };
  }
  const state = store.readState();
  if (state === undefined) throw new UserError(`${dir} has no readable state.json: not a campaign folder`);
  const samples = readTimeline(dir, mine);
  return {
    kind: 'campaign', folder: dir, written, findings, flaky: store.flaky.size, samples,
    seed: state.seed, shard: state.shard, impls: state.impls, guideEvery: state.guideEvery,
    cases: state.cases, steps: state.steps, batches: state.nextBatch, corpus: state.corpus,
    coverage: coverageFigures(Object.keys(state.counts)), leastReached: leastReached(Object.entries(state.counts)),
    files: present(dir, ['stats.json', 'coverage.json', 'timeline.json']), warnings: warnings(),
  };
}

/** Write `dir`/index.html and return its path. `mergedFrom` names the
 * folders a merge just combined into `dir`, whose timelines the page keeps. */
export function writeDashboard(dir: string, opts: { mergedFrom?: readonly string[] } = {}): string {
  const out = resolve(dir);
  const warnings: string[] = [];
  if (opts.mergedFrom) recordInputs(out, opts.mergedFrom, warnings);
  const page = join(out, 'index.html');
  writeAtomic(page, renderDashboard(readDashboard(out, new Date().toISOString(), warnings)));
  return page;
}
