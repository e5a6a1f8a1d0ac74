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
import { callsFailedAsHangs, watchCalls } from '../../properties/impl-calls.ts';
import { Bfs, type NodeData } from './bfs.ts';
import { toCrossing } from './crossing.ts';
import { reportStrays } from '../../model/impl/stray.ts';
import { UserError } from '../../model/user-error.ts';
import { FingerprintSet } from './fingerprint-set.ts';
import { packSteps, type PackedSteps } from './step-codec.ts';
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

/** What a worker sends after some nodes: their steps or their pairs, in
 * order, and the calls the request had made when the last of them was
 * done. */
export interface NodeReply<T> {
  items: T[];
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
// A module's stray error ends this thread as the module's mistake; what a
// request throws ends it as it is.
const thrown = new WeakSet<object>();
reportStrays((message) => {
  throw toCrossing(new UserError(message));
}, (e) => typeof e === 'object' && e !== null && thrown.has(e));
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
  pending.items = [];
  pending.transfer = [];
  pending.failed = 0;
  try {
    if (m.kind === 'pairs') pairs(m);
    else level(m);
    flush();
  } catch (e) {
    const out = toCrossing(e);
    if (typeof out === 'object' && out !== null) thrown.add(out);
    throw out;
  } finally {
    watchCalls(undefined);
  }
});

// Items go out a batch at a time: a message from a worker costs about as
// much as expanding a state, most of it waking the main thread. A batch
// is sent once it is a few milliseconds old, so a node that hangs loses
// little: the fresh worker sent the rest of the chunk does the unsent
// nodes again, and their calls are the same, since each node starts in a
// session of its own. A node in which a call failed as a known hang goes
// out at once: this worker may have known that hang by its trail, which
// a fresh one does not, and would wait on it again, so a run's hangs would
// depend on when batches went.
const pending: { items: unknown[]; transfer: ArrayBuffer[]; since: number; failed: number } = { items: [], transfer: [], since: 0, failed: 0 };
const BATCH_MS = 20;

/** One node's item, sent with the next batch. */
function send<T>(item: T, transfer: readonly ArrayBuffer[] = []): void {
  bfs.forgetSessions();
  if (pending.items.length === 0) pending.since = performance.now();
  pending.items.push(item);
  pending.transfer.push(...transfer);
  const failed = callsFailedAsHangs();
  if (failed !== pending.failed || performance.now() - pending.since >= BATCH_MS) flush();
  pending.failed = failed;
}

function flush(): void {
  if (pending.items.length === 0) return;
  parentPort!.postMessage({ items: pending.items, calls: cell === undefined ? 0 : cell[0] / 2 } satisfies NodeReply<unknown>, pending.transfer);
  pending.items = [];
  pending.transfer = [];
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
    const packed = packSteps(steps);
    send<PackedSteps>(packed, [packed.data.buffer as ArrayBuffer]);
  }
}
