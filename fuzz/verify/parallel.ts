// Breadth-first exploration, and pairs, on worker threads. Each level's
// frontier is cut into contiguous chunks, handed out as workers come free;
// the main thread takes the steps back in frontier order and applies them
// exactly as a single thread would, deduplicating across chunks, so
// states, transitions, depth and every counterexample are the same for any
// number of workers.

import { UserError } from '../../model/user-error.ts';
import { fromCrossing } from './crossing.ts';
import type { Worker } from 'node:worker_threads';
import { sibling, startWorker } from '../start-worker.ts';
import { pollCalls } from '../watchdog/poll.ts';
import type { BfsOptions, BfsResult, Node } from './bfs.ts';
import { Bfs, levelSink, pathOf } from './bfs.ts';
import type { LevelRequest, NodeReply, PairsRequest, WorkerInit } from './worker.ts';
import type { NodePairs } from './pairs.ts';
import type { Step } from './bfs.ts';
import { unpackSteps, type PackedSteps } from './step-codec.ts';
import { finish, finishWith, mergePairs, startsOf, type PairStart, type PairBounds, type PairCandidate, type PairsOptions, type PairsResult } from './pairs.ts';
import type { Implementation } from '../../model/impl/types.ts';
import type { Profile } from '../../model/profile.ts';

/** What a worker is sent: the chunk's nodes from `from` on. `fresh` when
 * the worker has just started (it knows no states yet); `hangs`, the calls
 * of this request, numbered from 1, known to hang; `done`, what the nodes
 * before `from` gave. */
export interface Attempt<T> {
  fresh: boolean;
  from: number;
  hangs: number[];
  done: readonly T[];
}

/** A chunk's answer, node by node: all of them, or those done when hangs
 * stopped the run. */
export interface Answer<T> {
  items: T[];
  complete: boolean;
}

interface Slot {
  worker: Worker;
  cell: Int32Array;
  /** Started since the last request was sent to it. */
  fresh: boolean;
}

/** Worker threads that load the implementation named by `init.source`,
 * each watched while it works: a call into the implementation in flight for
 * the bound (`init.watch`) is a hang. That worker is ended, and a fresh one
 * is sent the rest of the chunk, from the node that hung, told which of
 * that node's calls hang. A node's calls are the same on any worker, so
 * the same call fails, as a hang, and the node goes on past it. */
export class VerifyPool {
  private readonly slots: Slot[];
  /** Calls that hung, over the whole run. */
  hangs = 0;
  /** Hangs past this many stop the run: each costs the bound, and an
   * implementation that hangs in one state mostly hangs in many. */
  readonly maxHangs: number;
  /** Fires when they have: no other worker is waited for either. */
  private readonly quit = new AbortController();
  /** A worker booted after a hang, or while a call looked like it might
   * hang, to take the place of the next that does: booting costs more
   * than most hangs' wait. */
  private spare: Slot | undefined;

  constructor(workers: number, private readonly init: PoolInit, maxHangs = MAX_HANGS) {
    this.maxHangs = maxHangs;
    this.slots = Array.from({ length: workers }, () => this.spawn());
  }

  get size(): number {
    return this.slots.length;
  }

  /** Whether hangs have stopped the run. */
  get hungOut(): boolean {
    return this.hangs > this.maxHangs;
  }

  private spawn(): Slot {
    const cell = new SharedArrayBuffer(4);
    const worker = startWorker(sibling('worker', import.meta.url), {
      workerData: { ...this.init, watch: this.init.watch && { ...this.init.watch, cell } } satisfies WorkerInit,
    });
    return { worker, cell: new Int32Array(cell), fresh: true };
  }

  /** Worker `i`'s answer for a chunk of `count` nodes, each sent as
   * `request` makes it; undefined once `abort` fires (a worker in an op
   * that never returns is not waited for). */
  async ask<T>(i: number, count: number, request: (a: Attempt<T>) => LevelRequest | PairsRequest, abort?: AbortSignal): Promise<Answer<T> | undefined> {
    const items: T[] = [];
    let hangs: number[] = [];
    for (;;) {
      const slot = this.slots[i];
      const from = items.length;
      const req = request({ fresh: slot.fresh, from, hangs: [...hangs], done: items });
      slot.fresh = false;
      const r = await this.once<T>(slot, req, count - from, items, abort);
      if (r === 'aborted') return undefined;
      if (r === 'done') return { items, complete: true };
      void slot.worker.terminate();
      this.slots[i] = this.spare ?? this.spawn();
      this.spare = undefined;
      if (++this.hangs > this.maxHangs) {
        this.quit.abort();
        return { items, complete: false };
      }
      // After a hang, the next is likely: a spare boots while this goes on.
      this.spare = this.spawn();
      // Hangs are numbered from the start of the node that hung, which
      // the next attempt starts with.
      if (items.length > from) hangs = [];
      hangs.push(r.hang);
      hangs.sort((a, b) => a - b);
    }
  }

  /** One attempt: each node's item is pushed as it comes. */
  private once<T>(slot: Slot, req: LevelRequest | PairsRequest, count: number, items: T[], abort?: AbortSignal): Promise<'done' | 'aborted' | { hang: number }> {
    const w = slot.worker;
    const bound = this.init.watch?.bound;
    // The calls made by the nodes this attempt finished.
    let base = 0;
    let got = 0;
    return new Promise((resolve, reject) => {
      let stopPolling: (() => void) | undefined;
      const done = (): void => {
        stopPolling?.();
        w.off('error', onError);
        w.off('exit', onExit);
        w.off('message', onMessage);
        abort?.removeEventListener('abort', onAbort);
        this.quit.signal.removeEventListener('abort', onAbort);
      };
      const onError = (e: Error): void => {
        done();
        reject(fromCrossing(e));
      };
      // Only the module can end a thread in the middle of a request.
      const onExit = (code: number): void => {
        done();
        reject(new UserError(`the implementation ended verify's worker thread (exit code ${code}) in the middle of a search: a module must not call process.exit`));
      };
      const onMessage = (m: NodeReply<T>): void => {
        for (const item of m.items) items.push(item);
        base = m.calls;
        got += m.items.length;
        if (got < count) return;
        done();
        resolve('done');
      };
      const onAbort = (): void => {
        done();
        resolve('aborted');
      };
      if (abort?.aborted === true || this.quit.signal.aborted) {
        resolve('aborted');
        return;
      }
      w.on('error', onError);
      w.on('exit', onExit);
      w.on('message', onMessage);
      abort?.addEventListener('abort', onAbort);
      this.quit.signal.addEventListener('abort', onAbort);
      if (bound !== undefined) {
        Atomics.store(slot.cell, 0, 0);
        stopPolling = pollCalls(slot.cell, bound, {
          hang: (n) => {
            done();
            resolve({ hang: n - base });
          },
          suspect: () => {
            this.spare ??= this.spawn();
          },
        });
      }
      w.postMessage(req);
    });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.slots, ...(this.spare ? [this.spare] : [])].map((s) => s.worker.terminate()));
  }
}

/** What each worker is started with; each gets a cell of its own. */
export type PoolInit = Omit<WorkerInit, 'watch'> & { watch?: { bound: number } };

/** A run gives up after this many hangs. */
const MAX_HANGS = 16;

/** Pairs from every state up to the pair depth, the states cut into
 * contiguous chunks; each state's findings are folded in state order, as
 * explorePairs does on one thread. */
export async function pairsParallel(
  impl: Implementation, profile: Profile, pool: VerifyPool, pb: PairBounds, nodes: readonly Node[] | readonly PairStart[], opts: PairsOptions = {},
): Promise<PairsResult & { outOfTime: boolean }> {
  const { expired, onDone, onFound, abort, rerun } = opts;
  const todo = startsOf(pb, nodes);
  const best = new Map<string, PairCandidate>();
  let pairs = 0;
  let commuting = 0;
  let schedules = 0;
  // Small chunks, handed out in order as workers come free, keep both
  // cores busy and the time budget honoured between them (a state's pairs
  // take tens of milliseconds); the fold below still takes them in state
  // order.
  const size = Math.max(1, Math.min(16, Math.ceil(todo.length / (pool.size * 8))));
  const chunks: PairStart[][] = [];
  for (let i = 0; i < todo.length; i += size) chunks.push(todo.slice(i, i + size));
  const replies: NodePairs[][] = new Array(chunks.length);
  let next = 0;
  let outOfTime = false;
  let done = 0;
  const noticed = new Set<string>();
  await Promise.all(Array.from({ length: pool.size }, async (_, w) => {
    while (next < chunks.length) {
      if (expired?.() === true) {
        outOfTime = true;
        return;
      }
      const k = next++;
      const nodes = chunks[k].map((n) => ({ path: pathOf(n.node), data: dataOf(n.node), socket: n.socket }));
      const answer = await pool.ask<NodePairs>(w, nodes.length, (a) => ({ kind: 'pairs', bounds: pb, nodes: nodes.slice(a.from), hangs: a.hangs }), abort);
      if (answer === undefined) {
        outOfTime = true;
        return;
      }
      // What the states done before hangs stopped the run found counts.
      replies[k] = answer.items;
      if (!answer.complete) {
        outOfTime = true;
        return;
      }
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
    if (reply === undefined) continue;
    for (const r of reply) {
      pairs += r.pairs;
      commuting += r.commuting;
      schedules += r.schedules;
      mergePairs(best, r.found);
    }
  }
  const failures = rerun ? await finishWith(best, rerun) : finish(impl, profile, best);
  return { pairs, commuting, schedules, failures, outOfTime };
}

/** `root` makes the initial state (default: bfs.root() as it is). */
export async function runParallel(bfs: Bfs, pool: VerifyPool, opts: BfsOptions = {}, rootOf = (): Node | undefined => bfs.root()): Promise<BfsResult> {
  const root = rootOf();
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
    const replies: (Step[][] | undefined)[] = new Array(count);
    let dispatched = 0;
    let applied = 0;
    let stopped = false;
    // A chunk cut short by hangs is applied as far as it got, and nothing
    // after it.
    let cut = count;
    const applyReady = (): void => {
      while (!stopped && applied < Math.min(count, cut + 1) && replies[applied] !== undefined) {
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
    // A worker started during this level (after a hang) learns every state
    // known when the level began, as the others did level by level.
    const known = (): number[] => bfs.seen.first(before);
    await Promise.all(Array.from({ length: pool.size }, async (_, w) => {
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
        const answer = await pool.ask<PackedSteps>(w, nodes.length, (a) => ({
          kind: 'level', add: a.fresh ? known() : told ? [] : added, nodes: nodes.slice(a.from), hangs: a.hangs,
          // The states the chunk's earlier nodes reached, as the worker
          // knew them when it came to this node the first time.
          chunk: a.done.flatMap((packed) => unpackSteps(packed).flatMap((st) => (st.child ? [st.child.fp] : []))),
        }), opts.abort);
        if (answer === undefined) {
          outOfTime = true;
          return;
        }
        told = true;
        if (!answer.complete) {
          outOfTime = true;
          cut = Math.min(cut, k);
        }
        replies[k] = answer.items.map(unpackSteps);
        applyReady();
        if (!answer.complete) return;
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
