// A campaign from code: the same batches, folder and resume as `savedsyn fuzz`.

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { DEFAULT_GUIDE_EVERY, runCampaign, type CampaignSummary } from '../fuzz/campaign/run.ts';
import { BUNDLED } from '../model/impl/registry.ts';
import { confirmedAfresh } from './fresh-load.ts';
import type { SchedulerName } from '../properties/findings.ts';

export interface CampaignOptions {
  /** The campaign's folder; a folder holding the same campaign resumes it. */
  out: string;
  /** Bundled names or module paths (default: every bundled implementation);
   * `kernel` runs single-thread sequences on the live kernel, each in a
   * fresh private namespace, against the linux spec (it rejects with a
   * UserError where the lane cannot run). */
  implementations?: string[];
  seed?: number;
  /** Stop after this many cases; or after `seconds` (default 60 when neither is given). */
  runs?: number;
  seconds?: number;
  /** Worker threads (default one per core; 0 runs on the calling thread). */
  workers?: number;
  /** Cases per batch (default 200). */
  batch?: number;
  /** The longest generated single-thread case (default 30). */
  maxOps?: number;
  schedulers?: SchedulerName[];
  /** Run the index-th of count disjoint streams of batches. */
  shard?: { index: number; count: number };
  /** Batches per guidance epoch (default 64); 0 runs unguided. */
  guideEvery?: number;
  /** Milliseconds an op may run before it is a finding, `hang:<op>`
   * (default 2000; 0: no watchdog, and a stuck batch holds the campaign). */
  opTimeout?: number;
  /** Progress lines, as the command prints them (default: none). */
  log?: (line: string) => void;
  /** Aborting it stops the campaign cleanly: batches in flight are dropped,
   * the folder is written, and the same options resume it. */
  stop?: AbortSignal;
}

export function campaign(o: CampaignOptions): Promise<CampaignSummary> {
  return runCampaign({
    out: resolve(o.out),
    seed: o.seed ?? 1,
    impls: o.implementations ?? BUNDLED.map((i) => i.name),
    runs: o.runs,
    seconds: o.seconds ?? (o.runs === undefined ? 60 : undefined),
    workers: o.workers ?? availableParallelism(),
    batchRuns: o.batch ?? 200,
    maxOps: o.maxOps,
    schedulers: o.schedulers ?? ['random', 'pct'],
    shard: o.shard ?? { index: 0, count: 1 },
    guideEvery: o.guideEvery ?? DEFAULT_GUIDE_EVERY,
    opTimeout: o.opTimeout,
    log: o.log ?? (() => {}),
    tty: false,
    stop: o.stop,
    confirm: confirmedAfresh(o.opTimeout),
  });
}
