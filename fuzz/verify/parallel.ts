// Breadth-first exploration, and pairs, on worker threads. Each level's
// frontier is cut into contiguous chunks, handed out as workers come free;
// the main thread takes the steps back in frontier order and applies them
// exactly as a single thread would, deduplicating across chunks, so
// states, transitions, depth and every counterexample are the same for any
// number of workers.

import type { Worker } from 'node:worker_threads';
import { sibling, startWorker } from '../start-worker.ts';
import type { BfsOptions, BfsResult, Node } from './bfs.ts';
import { Bfs, levelSink, pathOf } from './bfs.ts';
import type { LevelReply, LevelRequest, PairsReply, PairsRequest, WorkerInit } from './worker.ts';
import { finish, mergePairs, type PairBounds, type PairCandidate, type PairsOptions, type PairsResult } from './pairs.ts';
import type { Implementation } from '../../model/impl/types.ts';
import type { Profile } from '../../model/profile.ts';

/** Worker threads that load the implementation named by `source`. */
export function startPool(workers: number, init: WorkerInit): Worker[] {
  return Array.from({ length: workers }, () => startWorker(sibling('worker', import.meta.url), { workerData: init }));
}

export async function stopPool(pool: Worker[]): Promise<void> {
  await Promise.all(pool.map((w) => w.terminate()));
}

/** The worker's answer, or undefined once `abort` fires: a worker busy in
 * an op that never returns is not waited for (stopPool ends it). */
function ask<R>(w: Worker, req: LevelRequest | PairsRequest, abort?: AbortSignal): Promise<R | undefined> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      w.off('error', onError);
      w.off('message', onMessage);
      abort?.removeEventListener('abort', onAbort);
    };
    const onError = (e: Error): void => {
      done();
      reject(e);
    };
    const onMessage = (m: R): void => {
      done();
      resolve(m);
    };
    const onAbort = (): void => {
      done();
      resolve(undefined);
    };
    if (abort?.aborted === true) {
      resolve(undefined);
      return;
    }
    w.on('error', onError);
    w.on('message', onMessage);
    abort?.addEventListener('abort', onAbort);
    w.postMessage(req);
  });
}

/** Pairs from every state up to the pair depth, the states cut into
 * contiguous chunks; each state's findings are folded in state order, as
 * explorePairs does on one thread. */
export async function pairsParallel(
  impl: Implementation, profile: Profile, pool: Worker[], pb: PairBounds, nodes: readonly Node[], opts: PairsOptions = {},
): Promise<PairsResult & { outOfTime: boolean }> {
  const { expired, onDone, onFound, abort } = opts;
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
  let done = 0;
  const noticed = new Set<string>();
  await Promise.all(pool.map(async (w) => {
    while (next < chunks.length) {
      if (expired?.() === true) {
        outOfTime = true;
        return;
      }
      const k = next++;
      const reply = await ask<PairsReply>(w, { kind: 'pairs', bounds: pb, nodes: chunks[k].map((n) => ({ path: pathOf(n), data: dataOf(n) })) }, abort);
      if (reply === undefined) {
        outOfTime = true;
        return;
      }
      replies[k] = reply;
      done += chunks[k].length;
      if (onFound) {
        for (const r of replies[k]) {
          for (const f of r.found) {
            if (noticed.has(f.signature)) continue;
            noticed.add(f.signature);
            onFound(f);
          }
        }
      }
      onDone?.(done, todo.length);
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
  const late = (): boolean => opts.expired?.() === true;
  opts.onLevel?.(0, bfs.seen.size, bfs.transitions);
  for (let d = 0; d < bfs.bounds.depth && frontier.length > 0 && !bfs.done(opts); d++) {
    if (late()) {
      outOfTime = true;
      break;
    }
    const next = levelSink(d, bfs.bounds.depth);
    const before = bfs.seen.size;
    const level = frontier;
    // Chunks of a bounded size, handed out in order as workers come free
    // and applied in frontier order as soon as every earlier one is: a
    // level of a million states is never sent, nor answered, in one
    // message, and the time budget is honoured between chunks.
    const count = Math.ceil(level.length / LEVEL_CHUNK);
    const replies: (LevelReply | undefined)[] = new Array(count);
    let dispatched = 0;
    let applied = 0;
    let stopped = false;
    const applyReady = (): void => {
      while (!stopped && applied < count && replies[applied] !== undefined) {
        const reply = replies[applied]!;
        replies[applied] = undefined;
        const first = applied * LEVEL_CHUNK;
        for (let j = 0; j < reply.length; j++) {
          const node = level[first + j];
          bfs.apply(node, pathOf(node), reply[j], next);
          opts.onExpanded?.(d, first + j + 1, level.length);
          if (bfs.done(opts)) {
            stopped = true;
            break;
          }
        }
        applied++;
      }
    };
    await Promise.all(pool.map(async (w) => {
      // A worker learns the states the last level added with its first
      // chunk of this one.
      let told = false;
      while (!stopped && dispatched < count) {
        if (late()) {
          outOfTime = true;
          return;
        }
        const k = dispatched++;
        const nodes = level.slice(k * LEVEL_CHUNK, (k + 1) * LEVEL_CHUNK).map((n) => ({ path: pathOf(n), data: dataOf(n) }));
        const reply = await ask<LevelReply>(w, { kind: 'level', add: told ? [] : added, nodes }, opts.abort);
        if (reply === undefined) {
          outOfTime = true;
          return;
        }
        replies[k] = reply;
        told = true;
        applyReady();
      }
    }));
    if (stopped || outOfTime) break;
    depthCompleted = d + 1;
    statesPerDepth.push(bfs.seen.size - before);
    opts.onLevel?.(depthCompleted, bfs.seen.size, bfs.transitions);
    // The last level's sink is a count: the loop ends with it.
    frontier = next as Node[];
    added = Array.isArray(next) ? frontier.map((n) => n.fp!) : [];
  }
  return bfs.result(depthCompleted, statesPerDepth, frontier.length === 0, outOfTime);
}

/** States per message to a worker: a few hundred milliseconds of work. */
const LEVEL_CHUNK = 1024;

function dataOf(n: Node): LevelRequest['nodes'][number]['data'] {
  return { peersUsed: n.peersUsed, sent: n.sent, sending: n.sending, kept: n.kept, open: n.open, listening: n.listening };
}
