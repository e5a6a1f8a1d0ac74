// Merging campaign folders (shards, machines) into a new one: findings
// deduplicated by implementation and signature, cases and coverage counts
// summed, corpora joined. The inputs are only read. A folder given twice, or
// two folders that ran the same stream of batches, would count cases twice;
// folders of different campaigns would sum numbers that mean nothing
// together: both are refused unless asked for. A merged folder records
// the shards it holds (merged.json), so merging it again counts its cases
// and refuses a shard it already holds.

import { existsSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { causeOf, makeFolder } from '../../model/output-folder.ts';
import { oneLine, UserError } from '../../model/user-error.ts';
import { encodeToken } from '../../reports/token.ts';
import { coverageFigures, type CoverageFigures } from './coverage.ts';
import { CampaignStore, type CampaignPart, type CampaignState } from './store.ts';

export interface MergeOptions {
  /** The new folder; it must not exist, or be empty. */
  out: string;
  inputs: string[];
  /** Merge folders of different campaigns (seeds, implementations, options). */
  allowMixed?: boolean;
  log?: (line: string) => void;
}

export interface MergeSummary {
  out: string;
  cases: number;
  findings: Array<{ impl: string; signature: string; token: string }>;
  coverage: CoverageFigures;
  corpus: number;
}

/** What makes two folders parts of one campaign: every option that decides
 * what its batches are. The shard is what tells its parts apart. */
function identity(s: CampaignState): string {
  const { version: _v, shard: _s, nextBatch: _n, cases: _c, steps: _st, corpus: _co, counts: _cn, snapshots: _sn, ...rest } = s as CampaignState & Record<string, unknown>;
  const options = Object.fromEntries(Object.entries(rest).filter(([, v]) => typeof v !== 'object' || Array.isArray(v)).sort(([a], [b]) => a.localeCompare(b)));
  return JSON.stringify(options);
}

function isInside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === '' || (!r.startsWith('..') && !r.startsWith('/'));
}

interface Input {
  given: string;
  dir: string;
  store: CampaignStore;
  state: CampaignState | undefined;
  /** The shards it holds: its own, or those of a folder merged before;
   * none when it has neither state.json nor merged.json to tell. */
  parts: CampaignPart[];
}

/** Each input, checked: a folder, a campaign, given once, not the output. */
function inputsOf(o: MergeOptions, out: string): Input[] {
  const seen = new Map<string, string>();
  return o.inputs.map((given) => {
    const dir = resolve(given);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`no campaign folder ${given}`);
    const real = realpathSync(dir);
    const twice = seen.get(real);
    if (twice !== undefined) throw new UserError(`${given} is given twice${twice === given ? '' : ` (also as ${twice})`}: its cases would count twice`);
    seen.set(real, given);
    if (isInside(out, real) || isInside(real, out)) throw new UserError(`--out ${o.out} and the input ${given} overlap: merge never writes into its inputs`);
    const store = new CampaignStore(dir, { readOnly: true });
    const state = store.readState();
    const merged = state === undefined ? store.readParts() : undefined;
    if (state === undefined && merged === undefined && store.findings.size === 0 && !existsSync(resolve(dir, 'coverage.json'))) {
      throw new UserError(`${given} is not a campaign folder: it has no state.json, findings or coverage.json`);
    }
    const parts = state !== undefined ? [{ campaign: identity(state), shard: state.shard, cases: state.cases, from: given }]
      : (merged ?? []).map((p) => ({ ...p, via: [...(p.via ?? []), given] }));
    return { given, dir, store, state, parts };
  });
}

/** A part as messages name it: its folder, and the merges it came through. */
function named(p: CampaignPart): string {
  return p.via === undefined ? p.from : `${p.from} (merged into ${p.via.join(', then ')})`;
}

/** How many parts a shard `i/n` cut its campaign into. */
function parts(shard: string): string {
  return shard.slice(shard.indexOf('/') + 1);
}

/** Where `path` really is, though it does not exist yet: the real path of
 * its nearest existing folder, with the rest appended. A symbolic link on
 * the way must not hide that --out lies inside an input. */
function realOut(path: string): string {
  let existing = path;
  const rest: string[] = [];
  while (!existsSync(existing) && dirname(existing) !== existing) {
    rest.unshift(basename(existing));
    existing = dirname(existing);
  }
  return join(realpathSync(existing), ...rest);
}

export function mergeCampaigns(o: MergeOptions): MergeSummary {
  const log = o.log ?? (() => {});
  const target = resolve(o.out);
  if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0)) {
    throw new UserError(`--out ${o.out} already exists and is not an empty folder: merge writes a new folder`);
  }
  const inputs = inputsOf(o, realOut(target));
  const all = inputs.flatMap((i) => i.parts);
  if (!o.allowMixed) {
    const first = all[0];
    for (const p of all.slice(1)) {
      if (p.campaign !== first.campaign) {
        throw new UserError(`${named(p)} is another campaign than ${named(first)} (${differences(first.campaign, p.campaign)}): --allow-mixed merges them anyway`);
      }
    }
  }
  // Within each campaign, mixed or not, no batch may count twice.
  const shards = new Map<string, string>();
  const cut = new Map<string, CampaignPart>();
  for (const p of all) {
    const key = `${p.campaign}\n${p.shard}`;
    const other = shards.get(key);
    if (other !== undefined) throw new UserError(`${other} and ${named(p)} both ran shard ${p.shard} of the same campaign: their cases would count twice`);
    shards.set(key, named(p));
    // Shard i of n runs batches i, i + n, i + 2n…: cut into another
    // number of parts, two shards share batches.
    const firstOfIt = cut.get(p.campaign);
    if (firstOfIt === undefined) cut.set(p.campaign, p);
    else if (parts(p.shard) !== parts(firstOfIt.shard)) {
      throw new UserError(`${named(firstOfIt)} ran shard ${firstOfIt.shard} and ${named(p)} shard ${p.shard}: cut into different numbers of parts, shards share batches, whose cases would count twice`);
    }
  }
  const outDir = makeFolder(target);
  log(`merging ${inputs.length} folders into ${outDir}`);
  // Built beside --out and renamed into place: an input that fails to be
  // read halfway (a file where its corpus should be) leaves no half-merged
  // folder, which a second try would refuse as not empty.
  const building = `${outDir}.merging-${process.pid}`;
  for (const left of abandoned(outDir)) {
    rmSync(left, { recursive: true, force: true });
    log(`removed ${left}, left by a merge into the same folder that was stopped`);
  }
  rmSync(building, { recursive: true, force: true });
  makeFolder(building);
  try {
    const summary = mergeInto(building, inputs, all, log);
    try {
      renameSync(building, outDir);
    } catch (e) {
      throw new UserError(`cannot move the merged folder ${building} to ${outDir}: ${causeOf(e)}`);
    }
    return { out: outDir, ...summary };
  } catch (e) {
    rmSync(building, { recursive: true, force: true });
    throw e;
  }
}

/** How two campaigns' identities differ, option by option, as their
 * state.json files name them. */
function differences(a: string, b: string): string {
  const x = JSON.parse(a) as Record<string, unknown>;
  const y = JSON.parse(b) as Record<string, unknown>;
  const shown = (v: unknown): string => (v === undefined ? 'none' : JSON.stringify(v));
  const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  const differing = keys.filter((k) => JSON.stringify(x[k]) !== JSON.stringify(y[k]));
  return `${differing.map((k) => `${k} ${shown(x[k])} and ${shown(y[k])}`).join(', ')} in state.json`;
}

/** The folders that merges into `outDir`, stopped before they renamed
 * theirs into place, left beside it: those of processes gone. */
function abandoned(outDir: string): string[] {
  const prefix = `${basename(outDir)}.merging-`;
  return readdirSync(dirname(outDir)).filter((name) => {
    if (!name.startsWith(prefix)) return false;
    const pid = name.slice(prefix.length);
    return /^[1-9]\d*$/.test(pid) && !running(Number(pid));
  }).map((name) => join(dirname(outDir), name));
}

/** Whether a process of this id exists (one of another user's included). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function mergeInto(folder: string, inputs: Input[], all: CampaignPart[], log: (line: string) => void): Omit<MergeSummary, 'out'> {
  const out = new CampaignStore(folder);
  const counts = new Map<string, number>();
  const tokens = new Set<string>();
  let index = 0;
  let cases = 0;
  for (const { dir, store, state, parts: held } of inputs) {
    const kept = store.readCorpus(state?.corpus);
    const flaky = store.readFlaky();
    // A folder killed between saves has counts in state.json that match its
    // resume point; coverage.json is the same numbers when it stopped cleanly.
    const theirs = state ? new Map(Object.entries(state.counts)) : store.readCoverage();
    for (const w of store.warnings) log(oneLine(`warning: ${dir}: ${w}`));
    if (held.length === 0) log(`warning: ${dir} has ${store.stateMissing === 'no state.json' ? 'no state.json' : 'no readable state.json'}${existsSync(join(dir, 'merged.json')) ? ' nor a readable merged.json' : ''}: its findings, corpus and coverage are merged, its cases not counted`);
    const theirCases = held.reduce((n, p) => n + p.cases, 0);
    cases += theirCases;
    let added = 0;
    for (const f of store.findings.values()) if (out.add(f)) added++;
    for (const f of flaky) out.offerFlaky(f);
    for (const [k, n] of theirs) counts.set(k, (counts.get(k) ?? 0) + n);
    let joined = 0;
    for (const e of kept) {
      const token = encodeToken(e.case);
      if (tokens.has(token)) continue;
      tokens.add(token);
      out.addCorpus({ ...e, index: index++ });
      joined++;
    }
    log(`${dir}: ${store.findings.size} finding(s), ${added} new, ${theirCases} cases, ${joined} corpus case(s) added`);
  }
  const findings = [...out.findings.values()].map((f) => ({ impl: f.impl, signature: f.signature, token: f.token }))
    .sort((a, b) => `${a.impl}${a.signature}`.localeCompare(`${b.impl}${b.signature}`));
  out.writeCoverage(counts);
  out.writeParts(all);
  const coverage = coverageFigures(counts.keys());
  out.writeStats({ merged: inputs.map((i) => i.dir), cases, coverage, corpus: index, findings });
  return { cases, findings, coverage, corpus: index };
}
