// Breadth-first exploration, and pairs, on worker threads. Each level's frontier is cut
// into contiguous chunks, one per worker; the main thread takes the steps
// back in frontier order and applies them exactly as a single thread
// would, deduplicating across chunks, so states, transitions, depth and
// every counterexample are the same for any number of workers.

import type { Worker } from 'node:worker_threads';
import { sibling, startWorker } from '../start-worker.ts';
import type { BfsOptions, BfsResult, Node } from './bfs.ts';
import { Bfs, levelSink, pathOf } from './bfs.ts';
import type { LevelReply, LevelRequest, PairsReply, PairsRequest, WorkerInit } from './worker.ts';
import { finish, mergePairs, type PairBounds, type PairCandidate, type PairsResult } from './pairs.ts';
import type { Implementation } from '../../model/impl/types.ts';
import type { Profile } from '../../model/profile.ts';

/** Worker threads that load the implementation named by `source`. */
export function startPool(workers: number, init: WorkerInit): Worker[] {
  return Array.from({ length: workers }, () => startWorker(sibling('worker', import.meta.url), { workerData: init }));
}

export async function stopPool(pool: Worker[]): Promise<void> {
  await Promise.all(pool.map((w) => w.terminate()));
}

function ask<R>(w: Worker, req: LevelRequest | PairsRequest): Promise<R> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    w.once('error', onError);
    w.once('message', (m: R) => {
      w.off('error', onError);
      resolve(m);
    });
    w.postMessage(req);
  });
}

/** Pairs from every state up to the pair depth, the states cut into
 * contiguous chunks; each state's findings are folded in state order, as
 * explorePairs does on one thread. */
export async function pairsParallel(
  impl: Implementation, profile: Profile, pool: Worker[], pb: PairBounds, nodes: readonly Node[], deadline?: number,
): Promise<PairsResult & { outOfTime: boolean }> {
  const todo = nodes.filter((n) => n.depth <= pb.depth && n.depth >= pb.from);
  const best = new Map<string, PairCandidate>();
  let pairs = 0;
  let commuting = 0;
  let schedules = 0;
  // Small chunks, handed out in order as workers come free, keep both
  // cores busy and the time budget honoured between them (a state's pairs
  // take tens of milliseconds); the fold below still takes them in state
  // order.
  const size = Math.max(1, Math.min(16, Math.ceil(todo.length / (pool.length * 8))));
  const chunks: Node[][] = [];
  for (let i = 0; i < todo.length; i += size) chunks.push(todo.slice(i, i + size));
  const replies: PairsReply[] = new Array(chunks.length);
  let next = 0;
  let outOfTime = false;
  await Promise.all(pool.map(async (w) => {
    while (next < chunks.length) {
      if (deadline !== undefined && Date.now() > deadline) {
        outOfTime = true;
        return;
      }
      const k = next++;
      replies[k] = await ask<PairsReply>(w, { kind: 'pairs', bounds: pb, nodes: chunks[k].map((n) => ({ path: pathOf(n), data: dataOf(n) })) });
    }
  }));
  for (const reply of replies) {
    if (reply === undefined) break;
    for (const r of reply) {
      pairs += r.pairs;
      commuting += r.commuting;
      schedules += r.schedules;
      mergePairs(best, r.found);
    }
  }
  return { pairs, commuting, schedules, failures: finish(impl, profile, best), outOfTime };
}

export async function runParallel(bfs: Bfs, pool: Worker[], opts: BfsOptions = {}): Promise<BfsResult> {
  const root = bfs.root();
  let frontier: Node[] = root ? [root] : [];
  let added: number[] = [...bfs.seen];
  const statesPerDepth = [bfs.seen.size];
  let depthCompleted = 0;
  let outOfTime = false;
  opts.onLevel?.(0, bfs.seen.size, bfs.transitions);
  for (let d = 0; d < bfs.bounds.depth && frontier.length > 0 && !bfs.done(opts); d++) {
    if (opts.deadline !== undefined && Date.now() > opts.deadline) {
      outOfTime = true;
      break;
    }
    const size = Math.ceil(frontier.length / pool.length);
    const chunks = pool.map((_, i) => frontier.slice(i * size, (i + 1) * size));
    const paths = frontier.map(pathOf);
    const replies = await Promise.all(pool.map((w, i) => ask<LevelReply>(w, {
      kind: 'level',
      add: added,
      nodes: chunks[i].map((n, j) => ({ path: paths[i * size + j], data: dataOf(n) })),
    })));
    const next = levelSink(d, bfs.bounds.depth);
    const before = bfs.seen.size;
    let stopped = false;
    let k = 0;
    for (const reply of replies) {
      for (const steps of reply) {
        bfs.apply(frontier[k], paths[k], steps, next);
        k++;
        if (bfs.done(opts)) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
    }
    if (stopped) break;
    if (opts.deadline !== undefined && Date.now() > opts.deadline) {
      outOfTime = true;
      break;
    }
    depthCompleted = d + 1;
    statesPerDepth.push(bfs.seen.size - before);
    opts.onLevel?.(depthCompleted, bfs.seen.size, bfs.transitions);
    // The last level's sink is a count: the loop ends with it.
    frontier = next as Node[];
    added = Array.isArray(next) ? frontier.map((n) => n.fp!) : [];
  }
  return bfs.result(depthCompleted, statesPerDepth, frontier.length === 0, outOfTime);
}

function dataOf(n: Node): LevelRequest['nodes'][number]['data'] {
  return { peersUsed: n.peersUsed, sent: n.sent, sending: n.sending, kept: n.kept, open: n.open, listening: n.listening };
}
