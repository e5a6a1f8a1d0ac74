// A campaign's folder: what it has found, where it got to, and its numbers.
// Every file is written to a temporary name and renamed, so a campaign
// killed at any moment leaves each file whole or absent. Files that do not
// parse, or were not written by savedsyn, are reported and skipped.

import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { causeOf } from '../../model/output-folder.ts';
import { UserError } from '../../model/user-error.ts';
import { decodeToken, encodeToken } from '../../reports/token.ts';
import type { SchedulerName } from '../../properties/findings.ts';
import type { CorpusEntry } from '../guide.ts';
import type { BatchFinding, BatchFlaky } from './batch.ts';
import { readRecord } from './read-record.ts';
import { stateProblem } from './state-shape.ts';

/** A corpus entry on disk: its case as a replay token, so
 * `savedsyn replay` runs it as it stands. */
interface StoredEntry {
  index: number;
  batch: number;
  keys: string[];
  token: string;
}

export const STATE_VERSION = 2;

/** Coverage counts and corpus size as they stood at a batch boundary. */
export interface Snapshot {
  boundary: number;
  /** Entries with an index below this were in the corpus. */
  corpus: number;
  counts: Record<string, number>;
}

export interface CampaignState {
  version: number;
  seed: number;
  shard: string;
  impls: string[];
  /** Batches per guidance epoch; 0 for an unguided campaign. */
  guideEvery: number;
  /** Cases per batch, the longest single-thread case and the schedulers.
   * A state written before they were recorded lacks them: a resume infers
   * the batch size from cases and batches, takes maxOps as the default of
   * the time (30), and cannot check the schedulers. */
  batchRuns?: number;
  maxOps?: number;
  schedulers?: SchedulerName[];
  /** Every batch below this index is done and its findings are on disk. */
  nextBatch: number;
  cases: number;
  steps: number;
  /** Corpus entries below this index are committed. */
  corpus: number;
  /** Cases that reached each coverage key, over batches below nextBatch. */
  counts: Record<string, number>;
  /** The boundaries batches from nextBatch on are guided by. */
  snapshots: Snapshot[];
}

/** One shard of one campaign, as a merged folder records what it holds:
 * what lets a later merge count its cases, and refuse to count them twice. */
export interface CampaignPart {
  /** The options that decide the campaign's batches, as merge compares them. */
  campaign: string;
  shard: string;
  cases: number;
  /** The folder it ran in, as given to the first merge, and the merged
   * folders it went through since: for messages. */
  from: string;
  via?: string[];
}

const PARTS_VERSION = 1;

function isPart(x: unknown): x is CampaignPart {
  const p = x as Partial<CampaignPart> | null;
  return typeof p === 'object' && p !== null && typeof p.campaign === 'string' && typeof p.shard === 'string'
    && typeof p.from === 'string' && Number.isSafeInteger(p.cases) && (p.cases as number) >= 0
    && (p.via === undefined || (Array.isArray(p.via) && p.via.every((v) => typeof v === 'string')));
}

/** A file the folder could not take: a full, read-only or forbidden disk,
 * not a defect, so it is a user's error and names the path and the cause. */
export class WriteFailure extends UserError {
  constructor(readonly path: string, readonly code: string, e: unknown) {
    super(`cannot write ${path}: ${causeOf(e)}`);
  }
}

/** Errors from the system (they carry an errno) become a WriteFailure; any
 * other is a defect and goes on as it is. */
function failed(path: string, e: unknown): unknown {
  const x = e as NodeJS.ErrnoException;
  return typeof x?.errno === 'number' && typeof x.code === 'string' ? new WriteFailure(path, x.code, e) : e;
}

// A test seam, since a full disk cannot be had on demand (tmpfs needs a
// mount, and root writes through permissions): with
// SAVEDSYN_TEST_FAIL_WRITES_AFTER=N in the environment, every atomic write
// after the first N fails with ENOSPC, as on a disk that has filled up.
// Unset, as it always is outside the suite, it changes nothing.
const failAfter = /^\d+$/.test(process.env.SAVEDSYN_TEST_FAIL_WRITES_AFTER ?? '') ? Number(process.env.SAVEDSYN_TEST_FAIL_WRITES_AFTER) : Infinity;
let writes = 0;

export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    if (++writes > failAfter) throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { errno: -28, code: 'ENOSPC', syscall: 'write' });
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    // A half-written temporary file holds space a full disk needs back.
    rmSync(tmp, { force: true });
    throw failed(path, e);
  }
}

export function findingName(f: Pick<BatchFinding, 'impl' | 'implName' | 'signature'>): string {
  // A module given by path starts with './', and a file named after it would
  // be hidden: the implementation's own name goes first. The hash keeps the
  // source, so two modules of one name differ. A finding written before the
  // name was recorded keeps the name it has on disk.
  const label = f.implName === undefined ? f.impl : f.implName;
  let slug = `${label}-${f.signature}`.replace(/[^A-Za-z0-9._-]+/g, '_');
  if (f.implName !== undefined) slug = slug.replace(/^[._-]+/, '');
  return `${slug.slice(0, 80)}-${createHash('sha256').update(`${f.impl}\0${f.signature}`).digest('hex').slice(0, 8)}`;
}

export class CampaignStore {
  readonly warnings: string[] = [];
  readonly findings = new Map<string, BatchFinding>();
  /** Flaky kernel disagreements on disk, by file name. */
  readonly flaky = new Set<string>();

  /** `readOnly` opens a folder to read (a merge's input), creating nothing in it. */
  constructor(readonly dir: string, options: { readOnly?: boolean } = {}) {
    if (existsSync(join(dir, 'flaky'))) {
      for (const name of readdirSync(join(dir, 'flaky'))) if (name.endsWith('.json')) this.flaky.add(name.slice(0, -'.json'.length));
    }
    if (options.readOnly && !existsSync(join(dir, 'findings'))) return;
    if (!options.readOnly) mkdirSync(join(dir, 'findings'), { recursive: true });
    for (const name of readdirSync(join(dir, 'findings'))) {
      if (name.endsWith('.tmp')) continue;
      if (!name.endsWith('.json')) {
        if (!name.endsWith('.md')) this.warnings.push(`skipping findings/${name}: not a savedsyn finding`);
        continue;
      }
      try {
        const f = JSON.parse(readRecord(join(dir, 'findings', name))) as BatchFinding;
        const missing = missingFields(f);
        if (missing !== undefined) throw new Error(missing);
        // Its token is what every report prints to replay it.
        decodeToken(f.token);
        this.findings.set(findingName(f), f);
      } catch (e) {
        this.warnings.push(`skipping findings/${name}: unreadable (${e instanceof Error ? e.message : String(e)})`);
      }
    }
  }

  /** Record a disagreement that did not persist, once per implementation
   * and signature; false when one is already here. Whether the kernel
   * repeats itself is not the campaign's to decide, so which of several
   * flaky runs is kept is not part of what a resume reproduces. */
  offerFlaky(f: BatchFlaky): boolean {
    const name = findingName(f);
    if (this.flaky.has(name)) return false;
    try {
      mkdirSync(join(this.dir, 'flaky'), { recursive: true });
    } catch (x) {
      throw failed(join(this.dir, 'flaky'), x);
    }
    writeAtomic(join(this.dir, 'flaky', `${name}.json`), `${JSON.stringify(f, null, 2)}\n`);
    this.flaky.add(name);
    return true;
  }

  /** The flaky records on disk; one that does not parse is reported and skipped. */
  readFlaky(): BatchFlaky[] {
    return [...this.flaky].sort().flatMap((name) => {
      try {
        const f = JSON.parse(readRecord(join(this.dir, 'flaky', `${name}.json`))) as BatchFlaky;
        if (typeof f.signature !== 'string' || typeof f.impl !== 'string' || typeof f.token !== 'string') throw new Error('missing fields');
        return [f];
      } catch (e) {
        this.warnings.push(`skipping flaky/${name}.json: unreadable (${e instanceof Error ? e.message : String(e)})`);
        return [];
      }
    });
  }

  /** Why the last readState() found no state to resume from: the file is
   * missing, or what is wrong with it. */
  stateMissing = 'no state.json';

  readState(): CampaignState | undefined {
    const path = join(this.dir, 'state.json');
    if (!existsSync(path)) {
      this.stateMissing = 'no state.json';
      return undefined;
    }
    try {
      const s = JSON.parse(readRecord(path)) as unknown;
      const problem = stateProblem(s, STATE_VERSION);
      if (problem !== undefined) throw new Error(`not a state this savedsyn wrote: ${problem}`);
      return s as CampaignState;
    } catch (e) {
      this.stateMissing = `an unreadable state.json (${e instanceof Error ? e.message : String(e)})`;
      this.warnings.push(`state.json unreadable (${e instanceof Error ? e.message : String(e)})`);
      return undefined;
    }
  }

  /** What of a campaign the folder holds besides its state: what a run
   * that starts over would overwrite or prune. */
  heldFiles(): string | undefined {
    const held: string[] = [];
    const entries = (sub: string): number => {
      try {
        return readdirSync(join(this.dir, sub)).filter((n) => n.endsWith('.json')).length;
      } catch {
        return 0;
      }
    };
    const corpus = entries('corpus');
    if (corpus > 0) held.push(`${corpus} corpus entr${corpus === 1 ? 'y' : 'ies'}`);
    const findings = entries('findings');
    if (findings > 0) held.push(`${findings} finding${findings === 1 ? '' : 's'}`);
    for (const f of ['coverage.json', 'stats.json']) if (existsSync(join(this.dir, f))) held.push(f);
    return held.length === 0 ? undefined : held.join(', ');
  }

  writeState(s: CampaignState): void {
    writeAtomic(join(this.dir, 'state.json'), `${JSON.stringify(s)}\n`);
  }

  /** Record a finding of a campaign's batch: the first of its implementation
   * and signature, or one from a lower batch than the one recorded, which it
   * replaces. Batches finish in any order; the folder ends with what the
   * lowest batch of each signature found, as one worker would leave it. The
   * report goes first: the .json is what is read back, and a crash between
   * the two leaves the batch uncommitted, so a resume writes both again. */
  offer(f: BatchFinding): 'new' | 'lower' | undefined {
    const name = findingName(f);
    const [key, had] = this.recorded(f);
    if (!this.takes(f)) return undefined;
    writeAtomic(join(this.dir, 'findings', `${name}.md`), `${f.report}\n`);
    writeAtomic(join(this.dir, 'findings', `${name}.json`), `${JSON.stringify(f, null, 2)}\n`);
    if (key !== name) {
      // Replacing a finding written under its older name: read back, both
      // files would count it twice.
      this.findings.delete(key);
      for (const ext of ['.json', '.md']) rmSync(join(this.dir, 'findings', `${key}${ext}`), { force: true });
    }
    this.findings.set(name, f);
    return had === undefined ? 'new' : 'lower';
  }

  /** Whether offer(f) would record `f`: the first of its signature, or
   * from a lower batch than the one recorded. */
  takes(f: BatchFinding): boolean {
    const had = this.recorded(f)[1];
    return had === undefined || f.batch < (Number.isInteger(had.batch) ? had.batch : Infinity);
  }

  /** The finding already here for `f`'s implementation and signature, under
   * its name or the name it had before implementations' names were recorded. */
  private recorded(f: BatchFinding): [string, BatchFinding | undefined] {
    const name = findingName(f);
    const older = findingName({ impl: f.impl, signature: f.signature });
    if (this.findings.has(name) || !this.findings.has(older)) return [name, this.findings.get(name)];
    return [older, this.findings.get(older)];
  }

  /** Record a finding unless one with its signature is already here. */
  add(f: BatchFinding): boolean {
    const name = findingName(f);
    if (this.recorded(f)[1] !== undefined) return false;
    writeAtomic(join(this.dir, 'findings', `${name}.md`), `${f.report}\n`);
    writeAtomic(join(this.dir, 'findings', `${name}.json`), `${JSON.stringify(f, null, 2)}\n`);
    this.findings.set(name, f);
    return true;
  }

  /** Coverage counts as written by writeCoverage; an unreadable file is
   * reported and counts as empty. */
  readCoverage(): Map<string, number> {
    const path = join(this.dir, 'coverage.json');
    if (!existsSync(path)) return new Map();
    try {
      const counts = JSON.parse(readRecord(path)) as unknown;
      if (typeof counts !== 'object' || counts === null || Array.isArray(counts)) throw new Error('not a map of keys to counts');
      const entries = Object.entries(counts);
      if (!entries.every(([, n]) => Number.isInteger(n) && (n as number) >= 0)) throw new Error('a count is not a whole number');
      return new Map(entries as Array<[string, number]>);
    } catch (e) {
      this.warnings.push(`coverage.json unreadable (${e instanceof Error ? e.message : String(e)}): its counts are left out`);
      return new Map();
    }
  }

  /** Coverage keys and the cases that reached each, for people and merge;
   * the campaign itself resumes from the counts in state.json. */
  writeCoverage(counts: ReadonlyMap<string, number>): void {
    const sorted = Object.fromEntries([...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    writeAtomic(join(this.dir, 'coverage.json'), `${JSON.stringify(sorted, null, 1)}\n`);
  }

  /** Corpus entries below `bound` (every entry when absent), by index.
   * Entries at or above it belong to batches not yet committed: a resumed
   * campaign computes them again. */
  readCorpus(bound = Infinity): CorpusEntry[] {
    const dir = join(this.dir, 'corpus');
    if (!existsSync(dir)) return [];
    const out: CorpusEntry[] = [];
    for (const name of readdirSync(dir)) {
      if (name.endsWith('.tmp')) continue;
      if (!name.endsWith('.json')) {
        this.warnings.push(`skipping corpus/${name}: not a savedsyn corpus entry`);
        continue;
      }
      try {
        const raw = JSON.parse(readRecord(join(dir, name))) as StoredEntry;
        if (!Number.isInteger(raw.index) || !Number.isInteger(raw.batch) || !Array.isArray(raw.keys) || typeof raw.token !== 'string') {
          throw new Error('missing fields');
        }
        if (raw.index < bound) out.push({ index: raw.index, batch: raw.batch, keys: raw.keys, case: decodeToken(raw.token) });
      } catch (e) {
        this.warnings.push(`skipping corpus/${name}: unreadable (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** Remove the entries at `bound` or past it: the batches a stopped run
   * did not commit, which the resumed one writes again. How many went. */
  pruneCorpus(bound: number, nextBatch: number): number {
    const dir = join(this.dir, 'corpus');
    if (!existsSync(dir)) return 0;
    const doomed: string[] = [];
    for (const name of readdirSync(dir)) {
      const m = /^(\d+)-[0-9a-f]{8}\.json$/.exec(name);
      if (!m || Number(m[1]) < bound) continue;
      // Only what a batch wrote is taken back: a folder (or anything else)
      // under an entry's name is not the campaign's to remove.
      if (!lstatSync(join(dir, name)).isFile()) {
        this.warnings.push(`skipping corpus/${name}: not a file`);
        continue;
      }
      // A run saves its state after the entries it names, so an entry past
      // the count comes from a batch past nextBatch. One from a batch
      // before means state.json does not describe this folder: whatever
      // it says, that entry would never be computed again.
      const batch = batchOf(join(dir, name));
      if (batch !== undefined && batch < nextBatch) {
        throw new UserError(`${this.dir}: corpus/${name} is from batch ${batch}, which state.json counts as done (next batch ${nextBatch}), yet it is numbered past the ${bound} corpus entries state.json counts: state.json does not describe this folder, and nothing in it was changed`);
      }
      doomed.push(name);
    }
    for (const name of doomed) rmSync(join(dir, name), { force: true });
    return doomed.length;
  }

  addCorpus(e: CorpusEntry): void {
    try {
      mkdirSync(join(this.dir, 'corpus'), { recursive: true });
    } catch (x) {
      throw failed(join(this.dir, 'corpus'), x);
    }
    const token = encodeToken(e.case);
    const name = `${String(e.index).padStart(6, '0')}-${createHash('sha256').update(token).digest('hex').slice(0, 8)}.json`;
    const stored: StoredEntry = { index: e.index, batch: e.batch, keys: e.keys, token };
    writeAtomic(join(this.dir, 'corpus', name), `${JSON.stringify(stored, null, 1)}\n`);
  }

  /** The campaign parts a merged folder was made of (merge.ts); undefined
   * where there is no merged.json or it cannot be read (reported). */
  readParts(): CampaignPart[] | undefined {
    const path = join(this.dir, 'merged.json');
    if (!existsSync(path)) return undefined;
    try {
      const m = JSON.parse(readRecord(path)) as { version?: unknown; parts?: unknown };
      if (m.version !== PARTS_VERSION || !Array.isArray(m.parts) || !m.parts.every(isPart)) throw new Error('not a record this savedsyn wrote');
      return m.parts;
    } catch (e) {
      this.warnings.push(`merged.json unreadable (${e instanceof Error ? e.message : String(e)})`);
      return undefined;
    }
  }

  writeParts(parts: readonly CampaignPart[]): void {
    writeAtomic(join(this.dir, 'merged.json'), `${JSON.stringify({ version: PARTS_VERSION, parts }, null, 1)}\n`);
  }

  writeStats(stats: object): void {
    writeAtomic(join(this.dir, 'stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
  }
}

/** The batch a corpus file says it comes from, if it says so readably. */
function batchOf(path: string): number | undefined {
  try {
    const batch = (JSON.parse(readRecord(path)) as { batch?: unknown }).batch;
    return Number.isSafeInteger(batch) ? batch as number : undefined;
  } catch {
    return undefined;
  }
}

/** What a finding read back lacks of what the campaign and merge write
 * from it (its report, the dashboard's title and message), if anything. */
function missingFields(f: unknown): string | undefined {
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return 'not an object';
  const r = f as Record<string, unknown>;
  const bad = ['signature', 'impl', 'profile', 'mode', 'token', 'title', 'message', 'report'].filter((k) => typeof r[k] !== 'string');
  if (!Number.isSafeInteger(r.batch)) bad.push('batch');
  if (r.implName !== undefined && typeof r.implName !== 'string') bad.push('implName');
  return bad.length === 0 ? undefined : `missing fields: ${bad.join(', ')}`;
}
