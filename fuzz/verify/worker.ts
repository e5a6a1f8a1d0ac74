// A verify worker thread: expands the states it is sent, with the
// fingerprints of every state known when the level began, and answers with
// the steps; the main thread takes them in frontier order, so what a run
// finds does not depend on how many workers computed it. Its calls into
// the implementation are counted where the main thread polls them
// (parallel.ts): a request is a deterministic computation, so after a
// call hangs, a fresh worker sent the same request with that call's number
// fails it as a hang and goes on.

import { parentPort, workerData } from 'node:worker_threads';
import { loadImplementation } from '../../model/impl/load.ts';
import type { Op } from '../../model/ops.ts';
import { profileByName } from '../../model/profile.ts';
import type { VerifyBounds } from './alphabet.ts';
import { watchCalls } from '../../properties/impl-calls.ts';
import { Bfs, type NodeData, type Step } from './bfs.ts';
import { toCrossing } from './crossing.ts';
import { FingerprintSet } from './fingerprint-set.ts';
import { pairsAt, type NodePairs, type PairBounds } from './pairs.ts';

export interface WorkerInit {
  source: string;
  bounds: VerifyBounds;
  branching: 'fork' | 'replay';
  /** The search's (bfs.ts): whether steps carry sockets as options see them. */
  pairedDepths?: { from: number; to: number };
  /** Where the calls are counted, and the bound they are watched to
   * (absent: not watched). */
  watch?: { cell: SharedArrayBuffer; bound: number };
}

export interface LevelRequest {
  kind: 'level';
  /** Fingerprints of the states added since the last request. */
  add: number[];
  /** States the chunk's nodes before these reached. */
  chunk: number[];
  nodes: Array<{ path: Op[]; data: NodeData }>;
  /** The calls of this request, numbered from 1, known to hang. */
  hangs: number[];
}

/** What a worker sends after each node: its steps or its pairs, and the
 * calls the request has made so far. */
export interface NodeReply<T> {
  item: T;
  calls: number;
}

/** Every pair from each state sent (with `socket`, every pair of options
 * on the socket it names). */
export interface PairsRequest {
  kind: 'pairs';
  bounds: PairBounds;
  nodes: Array<{ path: Op[]; data: NodeData; socket?: number }>;
  hangs: number[];
}

const init = workerData as WorkerInit;
const impl = await loadImplementation(init.source, { createTimeout: init.watch?.bound ?? 0 }).catch((e: unknown) => {
  throw toCrossing(e);
});
const profile = profileByName(impl.profile)!;
const bfs = new Bfs(impl, profile, init.bounds, -1, init.branching);
bfs.pairedDepths = init.pairedDepths;
const seen = new FingerprintSet();
const cell = init.watch && new Int32Array(init.watch.cell);

parentPort!.on('message', (m: LevelRequest | PairsRequest) => {
  if (cell !== undefined || m.hangs.length > 0) watchCalls({ cell, hangs: m.hangs, bound: init.watch?.bound ?? 0 });
  try {
    if (m.kind === 'pairs') pairs(m);
    else level(m);
  } catch (e) {
    throw toCrossing(e);
  } finally {
    watchCalls(undefined);
  }
});

/** One node's item sent. Each node starts in a session of its own, so its
 * calls are the same whichever node the request started from. */
function send<T>(item: T): void {
  bfs.forgetSessions();
  parentPort!.postMessage({ item, calls: cell === undefined ? 0 : cell[0] / 2 } satisfies NodeReply<T>);
}

function pairs(m: PairsRequest): void {
  for (const n of m.nodes) send<NodePairs>(pairsAt(impl, profile, init.bounds, m.bounds, n.path, n.data, n.socket));
}

function level(m: LevelRequest): void {
  for (const fp of m.add) seen.add(fp);
  // States new to this chunk are new to it once: a later node of the chunk
  // reaching one again leaves it, as the main thread would.
  const chunk = new Set<number>(m.chunk);
  const known = (fp: number): boolean => seen.has(fp) || chunk.has(fp);
  for (const n of m.nodes) {
    const steps = bfs.steps(n.path, n.data, known);
    for (const s of steps) if (s.child) chunk.add(s.child.fp);
    send<Step[]>(steps);
  }
}
