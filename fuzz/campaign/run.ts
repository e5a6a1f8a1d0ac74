// A campaign: batches of generated cases, single-thread and concurrent, for
// each implementation in turn, spread over worker threads, until a budget of
// cases or seconds is spent. Batch k's seed comes from the master seed, the
// shard and k alone, and its guide from the batches committed before a fixed
// boundary, so the same folder resumed after a kill -9 goes on where it
// stopped, the number of workers changes nothing, and N shards together run
// N disjoint streams of batches.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import seedrandom from 'seedrandom';
import { kernelLane } from '../../model/kernel/native.ts';
import { KERNEL_IMPL } from '../../model/kernel/name.ts';
import { looksLikePath } from '../../model/impl/looks-like-path.ts';
import { oneLine, UserError } from '../../model/user-error.ts';
import { appendStepSummary, campaignStepSummary } from '../../reports/step-summary.ts';
import { decodeToken, encodeToken } from '../../reports/token.ts';
import { NO_GUIDE, type CorpusEntry, type Guide } from '../guide.ts';
import { sibling, startWorker as startModuleWorker } from '../start-worker.ts';
import type { SchedulerName } from '../../properties/findings.ts';
import { runBatch, type BatchFinding, type BatchResult, type BatchSpec } from './batch.ts';
import { coverageFigures, leastReached, type CoverageFigures } from './coverage.ts';
import { isDashboard } from './dashboard.ts';
import { writeDashboard } from './dashboard-folder.ts';
import { guideBoundary } from './state-shape.ts';
import { CampaignStore, STATE_VERSION, WriteFailure, type CampaignState, type Snapshot } from './store.ts';
import { appendSample, readTimeline, upTo, writeTimeline, type Sample } from './timeline.ts';
import { manyWorkersWarning } from '../many-workers.ts';

export { coverageFigures, type CoverageFigures };

export interface CampaignOptions {
  out: string;
  seed: number;
  impls: string[];
  runs?: number;
  seconds?: number;
  /** 0 runs batches on the main thread. */
  workers: number;
  batchRuns: number;
  /** The longest generated single-thread case (default 30). */
  maxOps?: number;
  /** Milliseconds an op may run before it is a hang finding (batch.ts). */
  opTimeout?: number;
  schedulers: SchedulerName[];
  shard: { index: number; count: number };
  /** Batches per guidance epoch; 0 runs unguided. */
  guideEvery: number;
  log: (line: string) => void;
  /** Redraw one status line in place instead of logging lines. */
  tty: boolean;
  /** Aborted, the campaign starts no more batches, drops those in flight
   * (a resume computes them again), saves its folder and returns; the
   * reason, when a string, is reported as `stopped`. */
  stop?: AbortSignal;
  /** Asked of each finding before it is recorded (new, or from a lower
   * batch than the one recorded); a rejection ends the campaign as a failed
   * batch does. The command and the library run a module's findings again
   * here, on the module loaded afresh (api/fresh-load.ts). */
  confirm?: (f: BatchFinding) => Promise<void>;
}

/** Totals are over the whole campaign, every resume included. */
export interface CampaignSummary {
  cases: number;
  steps: number;
  /** Distinct coverage keys, over all implementations. */
  coverage: CoverageFigures;
  corpus: number;
  batches: number;
  /** What this run of the command added to the totals. */
  session: { cases: number; steps: number; batches: number };
  /** Findings of signatures the folder did not hold when this run began. */
  newFindings: number;
  /** Why the campaign returned before its budget was spent. */
  stopped?: string;
  findings: Array<{ impl: string; signature: string; token: string }>;
  /** Disagreements with the live kernel that did not persist (flaky/):
   * recorded, never findings. */
  flaky: number;
  warnings: string[];
}

export { DEFAULT_GUIDE_EVERY } from '../defaults.ts';
export const DEFAULT_MAX_OPS = 30;

export function batchSpec(o: Pick<CampaignOptions, 'seed' | 'impls' | 'batchRuns' | 'maxOps' | 'schedulers' | 'shard' | 'guideEvery' | 'opTimeout'>, k: number): BatchSpec {
  // Each shard takes its own rotation of implementations and modes; the
  // seeds come from the global batch number, so shards never overlap.
  const global = k * o.shard.count + o.shard.index;
  const impl = o.impls[k % o.impls.length];
  // The kernel runs one sequence at a time in its namespace: it has no
  // interleavings to schedule, so all its batches are single-thread.
  const mode = impl === KERNEL_IMPL || Math.floor(k / o.impls.length) % 2 === 0 ? 'sequential' : 'concurrent';
  const seed = seedrandom(`${o.seed}/${global}`).int32();
  const spec: BatchSpec = { index: k, impl, mode, seed, runs: o.batchRuns, maxOps: o.maxOps ?? DEFAULT_MAX_OPS, schedulers: o.schedulers };
  if (o.guideEvery > 0) spec.guideAt = guideBoundary(k, o.guideEvery);
  if (o.opTimeout !== undefined) spec.opTimeout = o.opTimeout;
  return spec;
}

/** What a worker is sent with a batch: the snapshot it is guided by, and
 * the corpus entries it has not been sent yet. */
export interface WorkMessage {
  spec: BatchSpec;
  corpus: CorpusEntry[];
  snapshot?: { boundary: number; corpus: number; counts: Map<string, number> };
}

/** A worker thread running worker.ts, or worker.js where savedsyn runs
 * compiled (start-worker.ts). */
function startWorker(): Worker {
  return startModuleWorker(sibling('worker', import.meta.url));
}

type Identity = Pick<CampaignState, 'seed' | 'shard' | 'impls' | 'guideEvery' | 'batchRuns' | 'maxOps' | 'schedulers'>;

/** Every option that decides what a batch computes, as the flag that sets
 * it; undefined where a state from an older savedsyn did not record it. */
function flagsOf(s: Identity): Array<[string, string | undefined]> {
  return [
    ['--seed', String(s.seed)], ['--shard', s.shard], ['--impl', s.impls.join(' --impl ')], ['--batch', s.batchRuns?.toString()],
    ['--max-ops', String(s.maxOps ?? DEFAULT_MAX_OPS)], ['--schedulers', s.schedulers?.join(',')], ['--guide-every', String(s.guideEvery)],
  ];
}

/** Refuse to resume a campaign with options that change its batches: the
 * folder would mix two campaigns, and no resume could reproduce either. */
function checkResume(out: string, previous: CampaignState, now: Identity): void {
  // Every batch ran exactly its cases, so a state that predates the field
  // still tells its batch size.
  const batchRuns = previous.batchRuns ?? (previous.nextBatch > 0 && previous.cases % previous.nextBatch === 0 ? previous.cases / previous.nextBatch : undefined);
  // A module is one module however its path is spelled.
  const spelled = (impls: readonly string[]): string[] => impls.map((x) => (looksLikePath(x) ? resolve(x) : x));
  const then = flagsOf({ ...previous, batchRuns, impls: spelled(previous.impls) });
  const asked = flagsOf({ ...now, impls: spelled(now.impls) });
  const changed = then.flatMap(([flag, old], i) => (old !== undefined && old !== asked[i][1] ? [[`${flag} ${old}`, `${flag} ${asked[i][1]}`]] : []));
  if (changed.length === 0) return;
  // The same implementations in another order run other batches: batch k
  // is for the implementation its place in the list names.
  const reordered = previous.impls.length === now.impls.length && previous.impls.every((i) => now.impls.includes(i)) && changed.length === 1 && changed[0][0].startsWith('--impl');
  if (reordered) {
    throw new UserError(`${out} holds a campaign of ${previous.impls.join(', ')} in that order; this run names them as ${now.impls.join(', ')}, and the order decides which batch runs which: `
      + 'resume it with --impl in the same order, or use another --out');
  }
  throw new UserError(`${out} holds a campaign with ${changed.map(([a]) => a).join(', ')}; this run asks for ${changed.map(([, b]) => b).join(', ')}: `
    + 'resume it with the same options, or use another --out');
}

/** The one line a campaign that could not write its folder ends with. */
function stoppedBy(f: WriteFailure, out: string): UserError {
  const room = f.code === 'ENOSPC' || f.code === 'EDQUOT' ? 'free space' : f.code === 'EISDIR' || f.code === 'ENOTDIR' || f.code === 'EEXIST' ? `move what stands in the way in ${out}` : `make ${out} writable`;
  return new UserError(`${f.message} (the campaign stopped; ${room} and run the same command to resume)`);
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignSummary> {
  if (o.impls.includes(KERNEL_IMPL)) {
    // Probed (and the helper built) here, once, before any worker starts.
    const lane = kernelLane();
    if (!lane.ok) throw new UserError(`a campaign on the live kernel needs its lane, which cannot run here: ${lane.reason}`);
  }
  // The dashboard is written over index.html: a page someone else wrote
  // there, or anything else by that name, is theirs. Checked before the
  // folder is touched.
  const theirs = join(o.out, 'index.html');
  if (existsSync(theirs) && (!statSync(theirs).isFile() || !isDashboard(readFileSync(theirs, 'utf8')))) {
    throw new UserError(`${theirs} is not a page savedsyn wrote, and the campaign's dashboard would overwrite it: move it, or give another --out`);
  }
  const store = new CampaignStore(o.out);
  const shard = `${o.shard.index}/${o.shard.count}`;
  const identity: Identity = {
    seed: o.seed, shard, impls: o.impls, guideEvery: o.guideEvery, batchRuns: o.batchRuns, maxOps: o.maxOps ?? DEFAULT_MAX_OPS, schedulers: o.schedulers,
  };
  const previous = store.readState();
  if (previous) checkResume(o.out, previous, identity);
  else {
    // Without a state to resume from, this run would start over, pruning
    // the corpus and overwriting counts it cannot account for: a folder
    // that holds them is refused, as another campaign's folder is.
    const held = store.heldFiles();
    if (held !== undefined) {
      throw new UserError(`${o.out} holds a campaign's files (${held}) but ${store.stateMissing}, so it cannot be resumed, and starting over would overwrite them: `
        + `give another --out, or merge what it holds into a new folder (savedsyn merge --out NEW ${o.out})`);
    }
  }
  const state: CampaignState = previous ? { ...previous, ...identity } : {
    version: STATE_VERSION, ...identity,
    nextBatch: 0, cases: 0, steps: 0, corpus: 0, counts: {}, snapshots: [{ boundary: 0, corpus: 0, counts: {} }],
  };
  const many = manyWorkersWarning(o.workers);
  if (many !== undefined) o.log(many);
  const uncommitted = store.pruneCorpus(state.corpus, state.nextBatch);
  const corpus = store.readCorpus(state.corpus);
  // Guidance draws on the corpus: with entries gone, the batches guided
  // from here on differ from those of the campaign as it ran.
  if (corpus.length < state.corpus) {
    store.warnings.push(`corpus: state.json counts ${state.corpus} entries, ${corpus.length} of them are readable on disk: batches guided from here on will differ from the campaign's own`);
  }
  let timeline = upTo(readTimeline(o.out, store.warnings, true), state.cases);
  for (const w of store.warnings) o.log(`warning: ${oneLine(w)}`);
  if (previous) {
    o.log(`resuming at batch ${state.nextBatch} (${state.cases} cases done, ${store.findings.size} findings, ${corpus.length} corpus cases on disk`
      + `${uncommitted > 0 ? `; ${uncommitted} more, from batches the last run did not commit, removed: they are computed again` : ''})`);
  }
  const counts = new Map(Object.entries(state.counts));
  const snapshots = new Map<number, { corpus: number; counts: Map<string, number> }>(
    state.snapshots.map((s) => [s.boundary, { corpus: s.corpus, counts: new Map(Object.entries(s.counts)) }]),
  );
  const guides = new Map<number, Guide>();
  const guideAt = (boundary: number | undefined): Guide => {
    if (boundary === undefined) return NO_GUIDE;
    let g = guides.get(boundary);
    if (g === undefined) {
      const s = snapshots.get(boundary)!;
      guides.set(boundary, (g = { counts: s.counts, corpus: corpus.filter((e) => e.index < s.corpus) }));
    }
    return g;
  };

  const started = Date.now();
  // Wall time goes to the timeline only, never to what a resume or a
  // comparison of folders reads.
  const last = timeline.at(-1);
  const run = last === undefined ? 0 : last.run + 1;
  const clock = (): number => Math.round(((last?.seconds ?? 0) + (Date.now() - started) / 1000) * 1000) / 1000;
  let lastPage = 0;
  const startCases = state.cases;
  const startSteps = state.steps;
  let next = state.nextBatch;
  // A budget of cases is a number of whole batches: the same batches,
  // however many run at once and however often the campaign is resumed.
  const budget = o.runs === undefined ? Infinity : Math.ceil(o.runs / o.batchRuns);
  let batches = 0;
  let newFindings = 0;
  let lastSave = 0;
  const done = new Map<number, BatchResult>();
  const more = (): boolean =>
    o.stop?.aborted !== true && next < budget && (o.seconds === undefined || (Date.now() - started) / 1000 < o.seconds);

  /** Save the resume point, and take a sample of progress for the
   * timeline; the page is redrawn at most every 5 s, and at `start`/`end`. */
  const save = (at: 'start' | 'progress' | 'end' | 'stop' = 'progress'): void => {
    // Coverage first: state.json is what a resume trusts, and it must never
    // be ahead of the files it names.
    state.counts = Object.fromEntries(counts);
    const keep = o.guideEvery > 0 ? guideBoundary(state.nextBatch, o.guideEvery) : Infinity;
    state.snapshots = [...snapshots].filter(([b]) => b >= keep)
      .map(([boundary, s]): Snapshot => ({ boundary, corpus: s.corpus, counts: Object.fromEntries(s.counts) }));
    store.writeCoverage(counts);
    store.writeState(state);
    // After state.json, so the timeline is never ahead of the resume point.
    const sample: Sample = { seconds: clock(), run, cases: state.cases, steps: state.steps, ...coverageFigures(counts.keys()) };
    if (at === 'end') sample.end = true;
    timeline = appendSample(timeline, sample);
    writeTimeline(o.out, timeline);
    lastSave = Date.now();
    if (at === 'start' || (at === 'progress' && lastSave - lastPage >= 5000)) {
      writeDashboard(o.out);
      lastPage = lastSave;
    }
  };
  try {
    save('start');
  } catch (e) {
    throw e instanceof WriteFailure ? stoppedBy(e, o.out) : e;
  }

  /** Batch k's results, in batch order: the corpus and the counts change
   * here only, so they are the same however batches were spread. */
  const commit = (r: BatchResult): void => {
    const entries: CorpusEntry[] = [];
    for (const c of r.candidates) {
      const keys = c.keys.filter((k) => !counts.has(k));
      if (keys.length === 0) continue;
      // Through the token and back, as a resumed campaign reads it.
      entries.push({ index: state.corpus + entries.length, batch: r.index, keys, case: decodeToken(encodeToken(c.case)) });
    }
    // Files before numbers: a write that fails leaves the campaign as it
    // stood before this batch, a state that can still be saved and resumed.
    for (const e of entries) store.addCorpus(e);
    corpus.push(...entries);
    state.corpus += entries.length;
    for (const [k, n] of r.counts) counts.set(k, (counts.get(k) ?? 0) + n);
    state.cases += r.cases;
    state.steps += r.steps;
    state.nextBatch++;
    batches++;
    if (o.guideEvery > 0) {
      if (state.nextBatch % o.guideEvery === 0) snapshots.set(state.nextBatch, { corpus: state.corpus, counts: new Map(counts) });
      const keep = guideBoundary(state.nextBatch, o.guideEvery);
      for (const b of snapshots.keys()) {
        if (b < keep) {
          snapshots.delete(b);
          guides.delete(b);
        }
      }
    }
  };

  /** Every finding of `r` the store would record, confirmed (o.confirm)
   * before accept records it: a batch is confirmed and accepted before the
   * next, so what the store holds does not change in between. */
  const confirmed = async (r: BatchResult): Promise<void> => {
    if (o.confirm === undefined) return;
    for (const f of r.findings) if (store.takes(f)) await o.confirm(f);
  };

  const accept = (r: BatchResult): void => {
    // Findings are written at once, whatever the order batches finish in;
    // one from a lower batch replaces its signature's from a higher one.
    for (const f of r.findings) {
      if (store.offer(f) === 'new') {
        newFindings++;
        o.log(`${o.tty ? '\n' : ''}new finding on ${f.impl}: ${f.signature}`);
      }
    }
    for (const f of r.flaky ?? []) {
      if (store.offerFlaky(f)) o.log(`${o.tty ? '\n' : ''}flaky on ${f.impl}, not a finding: ${f.signature} did not persist on a fresh namespace`);
    }
    done.set(r.index, r);
    // Only a contiguous run of finished batches moves the resume point.
    while (done.has(state.nextBatch)) {
      const r0 = done.get(state.nextBatch)!;
      done.delete(state.nextBatch);
      commit(r0);
    }
    if (Date.now() - lastSave >= 1000) save();
  };

  const status = (): void => {
    const elapsed = (Date.now() - started) / 1000;
    const per = (n: number): number => (elapsed > 0 ? Math.round(n / elapsed) : 0);
    const left = o.seconds !== undefined ? `, ${Math.max(0, Math.round(o.seconds - elapsed))} s left` : o.runs !== undefined ? `, ${Math.max(0, o.runs - state.cases)} cases left` : '';
    const c = coverageFigures(counts.keys());
    const line = `${state.cases} cases, ${per(state.cases - startCases)} cases/s, ${per(state.steps - startSteps)} steps/s, ${store.findings.size} findings, `
      + `coverage ${c.transitions} transitions / ${c.sites} sites / ${c.interleavings} interleavings, corpus ${state.corpus}${left}`;
    if (o.tty) process.stdout.write(`\r${line}   `);
    else o.log(line);
  };
  const ticker = setInterval(status, o.tty ? 500 : 10_000);

  /** The next batch, if its guide exists yet. */
  const ready = (): BatchSpec | undefined => {
    const spec = batchSpec(o, next);
    if (spec.guideAt !== undefined && !snapshots.has(spec.guideAt)) return undefined;
    next++;
    return spec;
  };

  let failure: WriteFailure | undefined;
  try {
    if (o.workers === 0) {
      while (more()) {
        const spec = ready()!;
        const r = await runBatch(spec, guideAt(spec.guideAt));
        await confirmed(r);
        accept(r);
        // A batch settles without leaving the microtask queue: a signal is
        // heard, and the status line drawn, only between turns of the loop.
        await new Promise((r) => setImmediate(r));
      }
    } else {
      await new Promise<void>((resolve, reject) => {
        // Each worker holds one batch at a time; it is retired when the
        // budget is spent, and the campaign ends with the last of them. A
        // worker whose next batch's guide is not committed yet waits.
        let active = 0;
        let over = false;
        const pool: Worker[] = [];
        const waiting: Worker[] = [];
        const sent = new Map<Worker, { corpus: number; boundaries: Set<number> }>();
        let accepting = Promise.resolve();
        // On a stop or a failure, batches in flight are dropped, not awaited:
        // none is committed, so a resume computes them again.
        const end = (e?: unknown): void => {
          if (over) return;
          over = true;
          o.stop?.removeEventListener('abort', halt);
          for (const w of pool) void w.terminate();
          if (e === undefined) resolve();
          else reject(e);
        };
        const halt = (): void => end();
        const fail = (e: unknown): void => end(e);
        o.stop?.addEventListener('abort', halt);
        const feed = (w: Worker): void => {
          if (over) return;
          if (!more()) {
            void w.terminate();
            if (--active === 0) end();
            return;
          }
          const spec = ready();
          if (spec === undefined) {
            waiting.push(w);
            return;
          }
          const has = sent.get(w)!;
          const msg: WorkMessage = { spec, corpus: [] };
          if (spec.guideAt !== undefined && !has.boundaries.has(spec.guideAt)) {
            const s = snapshots.get(spec.guideAt)!;
            msg.snapshot = { boundary: spec.guideAt, corpus: s.corpus, counts: s.counts };
            msg.corpus = corpus.slice(has.corpus);
            has.corpus = corpus.length;
            has.boundaries.add(spec.guideAt);
          }
          w.postMessage(msg);
        };
        // More workers than batches left would only start and stop.
        const size = Math.max(1, Math.min(o.workers, budget - next));
        for (let i = 0; i < size; i++) {
          const w = startWorker();
          pool.push(w);
          sent.set(w, { corpus: 0, boundaries: new Set() });
          active++;
          w.on('message', (m: { ok: true; result: BatchResult } | { ok: false; index: number; error: string; user: boolean }) => {
            if (over) return;
            if (!m.ok) {
              fail(m.user ? new UserError(`batch ${m.index} failed: ${m.error}`) : new Error(`batch ${m.index} failed: ${m.error}`));
              return;
            }
            // One batch at a time, in the order they come back, though
            // confirming a finding waits on another thread; nothing is
            // recorded once the campaign has ended meanwhile.
            accepting = accepting.then(async () => {
              if (over) return;
              await confirmed(m.result);
              if (over) return;
              accept(m.result);
              feed(w);
              for (const idle of waiting.splice(0)) feed(idle);
            }).catch(fail);
          });
          w.on('error', fail);
          feed(w);
        }
      });
    }
  } catch (e) {
    if (!(e instanceof WriteFailure)) throw e;
    failure = e;
  } finally {
    clearInterval(ticker);
  }
  if (o.tty) process.stdout.write('\n');
  const stopped = failure !== undefined ? failure.message
    : o.stop?.aborted === true ? (typeof o.stop.reason === 'string' ? o.stop.reason : 'a stop request') : undefined;
  const summary: CampaignSummary = {
    cases: state.cases, steps: state.steps, coverage: coverageFigures(counts.keys()), corpus: state.corpus, batches: state.nextBatch,
    session: { cases: state.cases - startCases, steps: state.steps - startSteps, batches }, newFindings,
    findings: [...store.findings.values()].map((f) => ({ impl: f.impl, signature: f.signature, token: f.token }))
      .sort((a, b) => `${a.impl}${a.signature}`.localeCompare(`${b.impl}${b.signature}`)),
    flaky: store.flaky.size,
    warnings: store.warnings,
  };
  if (stopped !== undefined) summary.stopped = stopped;
  const { session, newFindings: found, ...totals } = summary;
  const finish = (): void => {
    save(stopped === undefined && failure === undefined ? 'end' : 'stop');
    store.writeStats({
      ...totals, seed: o.seed, shard, guideEvery: o.guideEvery, batchRuns: o.batchRuns, maxOps: identity.maxOps, schedulers: o.schedulers,
      nextBatch: state.nextBatch, rarest: leastReached(counts),
      session: { ...session, newFindings: found, elapsedSeconds: Math.round((Date.now() - started) / 1000) },
    });
  };
  if (failure !== undefined) {
    // What can still be written is, each file whole or not at all; the
    // state.json last written is a resume point that matches the files.
    try {
      finish();
      writeDashboard(o.out);
    } catch {
      // The disk is as full as it was: the failure below says so.
    }
    throw stoppedBy(failure, o.out);
  }
  let page: string;
  try {
    finish();
    page = writeDashboard(o.out);
  } catch (e) {
    throw e instanceof WriteFailure ? stoppedBy(e, o.out) : e;
  }
  if (stopped !== undefined) o.log(`stopped by ${stopped} after ${state.nextBatch} batches: the same command resumes from here`);
  o.log(`dashboard: ${page}`);
  appendStepSummary(campaignStepSummary({ ...summary, folder: o.out }));
  return summary;
}
