// Breadth-first exploration on worker threads. Each level's frontier is cut
// into contiguous chunks, one per worker; the main thread takes the steps
// back in frontier order and applies them exactly as a single thread
// would, deduplicating across chunks, so states, transitions, depth and
// every counterexample are the same for any number of workers.

import type { Worker } from 'node:worker_threads';
import { sibling, startWorker } from '../start-worker.ts';
import type { BfsOptions, BfsResult, Node } from './bfs.ts';
import { Bfs, pathOf } from './bfs.ts';
import type { LevelReply, LevelRequest, WorkerInit } from './worker.ts';

export async function runParallel(bfs: Bfs, source: string, workers: number, opts: BfsOptions = {}): Promise<BfsResult> {
  const init: WorkerInit = { source, bounds: bfs.bounds, branching: bfs.branching };
  const pool = Array.from({ length: workers }, () => startWorker(sibling('worker', import.meta.url), { workerData: init }));
  try {
    return await explore(bfs, pool, opts);
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}

function ask(w: Worker, req: LevelRequest): Promise<LevelReply> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    w.once('error', onError);
    w.once('message', (m: LevelReply) => {
      w.off('error', onError);
      resolve(m);
    });
    w.postMessage(req);
  });
}

async function explore(bfs: Bfs, pool: Worker[], opts: BfsOptions): Promise<BfsResult> {
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
    const replies = await Promise.all(pool.map((w, i) => ask(w, {
      add: added,
      nodes: chunks[i].map((n, j) => ({ path: paths[i * size + j], data: dataOf(n) })),
    })));
    const next: Node[] = [];
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
    added = next.map((n) => n.fp!);
    frontier = next;
  }
  return {
    states: bfs.seen.size, transitions: bfs.transitions, depthCompleted,
    exhausted: frontier.length === 0 && !outOfTime, outOfTime,
    failures: [...bfs.failures.values()].sort((a, b) => a.transition - b.transition),
    statesPerDepth, stateHashed: bfs.stateHashed,
  };
}

function dataOf(n: Node): LevelRequest['nodes'][number]['data'] {
  return { peersUsed: n.peersUsed, sent: n.sent, sending: n.sending, kept: n.kept, open: n.open, listening: n.listening };
}
