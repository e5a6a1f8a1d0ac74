// A campaign: batches of generated cases, single-thread and concurrent, for
// each implementation in turn, spread over worker threads, until a budget of
// cases or seconds is spent. Batch k's seed comes from the master seed, the
// shard and k alone, so the same folder resumed after a kill -9 goes on where
// it stopped, and N shards together run N disjoint streams of batches.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import seedrandom from 'seedrandom';
import { UserError } from '../../cli/errors.ts';
import type { SchedulerName } from '../schedulers.ts';
import { runBatch, type BatchResult, type BatchSpec } from './batch.ts';
import { CampaignStore, STATE_VERSION, type CampaignState } from './store.ts';

export interface CampaignOptions {
  out: string;
  seed: number;
  impls: string[];
  runs?: number;
  seconds?: number;
  /** 0 runs batches on the main thread. */
  workers: number;
  batchRuns: number;
  schedulers: SchedulerName[];
  shard: { index: number; count: number };
  log: (line: string) => void;
  /** Redraw one status line in place instead of logging lines. */
  tty: boolean;
}

export interface CampaignSummary {
  cases: number;
  /** Distinct spec transitions and implementation sites covered, over all implementations. */
  coverage: { transitions: number; sites: number };
  batches: number;
  newFindings: number;
  findings: Array<{ impl: string; signature: string; token: string }>;
  warnings: string[];
}

export function batchSpec(o: Pick<CampaignOptions, 'seed' | 'impls' | 'batchRuns' | 'schedulers' | 'shard'>, k: number): BatchSpec {
  // Each shard takes its own rotation of implementations and modes; the
  // seeds come from the global batch number, so shards never overlap.
  const global = k * o.shard.count + o.shard.index;
  const impl = o.impls[k % o.impls.length];
  const mode = Math.floor(k / o.impls.length) % 2 === 0 ? 'sequential' : 'concurrent';
  const seed = seedrandom(`${o.seed}/${global}`).int32();
  return { index: k, impl, mode, seed, runs: o.batchRuns, schedulers: o.schedulers };
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignSummary> {
  const store = new CampaignStore(o.out);
  for (const w of store.warnings) o.log(`warning: ${w}`);
  const shard = `${o.shard.index}/${o.shard.count}`;
  const previous = store.readState();
  if (previous && (previous.seed !== o.seed || previous.shard !== shard || previous.impls.join(',') !== o.impls.join(','))) {
    throw new UserError(`${o.out} holds a campaign with seed ${previous.seed}, shard ${previous.shard}, implementations ${previous.impls.join(',')}: resume it with the same options or use another --out`);
  }
  const state: CampaignState = previous ?? { version: STATE_VERSION, seed: o.seed, shard, impls: o.impls, nextBatch: 0, cases: 0 };
  if (previous) o.log(`resuming at batch ${state.nextBatch} (${state.cases} cases done, ${store.findings.size} findings on disk)`);
  const coverage = store.readCoverage();
  const started = Date.now();
  let next = state.nextBatch;
  let scheduledRuns = state.cases;
  let batches = 0;
  let newFindings = 0;
  const done = new Map<number, BatchResult>();
  const more = (): boolean =>
    (o.runs === undefined || scheduledRuns < o.runs) && (o.seconds === undefined || (Date.now() - started) / 1000 < o.seconds);

  const accept = (r: BatchResult): void => {
    for (const f of r.findings) {
      if (store.add(f)) {
        newFindings++;
        o.log(`${o.tty ? '\n' : ''}new finding on ${f.impl}: ${f.signature}`);
      }
    }
    for (const k of r.coverage) coverage.add(k);
    store.writeCoverage(coverage);
    done.set(r.index, r);
    // Only a contiguous run of finished batches moves the resume point.
    while (done.has(state.nextBatch)) {
      state.cases += done.get(state.nextBatch)!.cases;
      done.delete(state.nextBatch);
      state.nextBatch++;
      batches++;
    }
    store.writeState(state);
  };

  const covered = (): { transitions: number; sites: number } => {
    let transitions = 0;
    let sites = 0;
    for (const k of coverage) if (k.includes('|t:')) transitions++; else sites++;
    return { transitions, sites };
  };
  const status = (): void => {
    const elapsed = (Date.now() - started) / 1000;
    const rate = elapsed > 0 ? Math.round((state.cases - (previous?.cases ?? 0)) / elapsed) : 0;
    const left = o.seconds !== undefined ? `, ${Math.max(0, Math.round(o.seconds - elapsed))} s left` : o.runs !== undefined ? `, ${Math.max(0, o.runs - state.cases)} cases left` : '';
    const { transitions, sites } = covered();
    const line = `${state.cases} cases, ${rate} cases/s, ${store.findings.size} findings, coverage ${transitions} transitions / ${sites} sites${left}`;
    if (o.tty) process.stdout.write(`\r${line}   `);
    else o.log(line);
  };
  const ticker = setInterval(status, o.tty ? 500 : 10_000);

  try {
    if (o.workers === 0) {
      while (more()) {
        const spec = batchSpec(o, next++);
        scheduledRuns += spec.runs;
        accept(await runBatch(spec));
      }
    } else {
      await new Promise<void>((resolve, reject) => {
        // Each worker holds one batch at a time; it is retired when the
        // budget is spent, and the campaign ends with the last of them.
        let active = 0;
        const pool: Worker[] = [];
        const fail = (e: unknown): void => {
          for (const w of pool) void w.terminate();
          reject(e);
        };
        const feed = (w: Worker): void => {
          if (!more()) {
            void w.terminate();
            if (--active === 0) resolve();
            return;
          }
          const spec = batchSpec(o, next++);
          scheduledRuns += spec.runs;
          w.postMessage(spec);
        };
        for (let i = 0; i < o.workers; i++) {
          const w = new Worker(new URL('./worker.mjs', import.meta.url));
          pool.push(w);
          active++;
          w.on('message', (m: { ok: true; result: BatchResult } | { ok: false; index: number; error: string }) => {
            if (!m.ok) {
              fail(new UserError(`batch ${m.index} failed: ${m.error}`));
              return;
            }
            accept(m.result);
            feed(w);
          });
          w.on('error', fail);
          feed(w);
        }
      });
    }
  } finally {
    clearInterval(ticker);
  }
  if (o.tty) process.stdout.write('\n');
  const summary: CampaignSummary = {
    cases: state.cases, coverage: covered(), batches, newFindings,
    findings: [...store.findings.values()].map((f) => ({ impl: f.impl, signature: f.signature, token: f.token }))
      .sort((a, b) => `${a.impl}${a.signature}`.localeCompare(`${b.impl}${b.signature}`)),
    warnings: store.warnings,
  };
  store.writeStats({ ...summary, seed: o.seed, shard, nextBatch: state.nextBatch, elapsedSeconds: Math.round((Date.now() - started) / 1000) });
  return summary;
}
