// A verify worker thread: expands the states it is sent, with the
// fingerprints of every state known when the level began, and answers with
// the steps; the main thread takes them in frontier order, so what a run
// finds does not depend on how many workers computed it.

import { parentPort, workerData } from 'node:worker_threads';
import { loadImplementation } from '../../model/impl/load.ts';
import type { Op } from '../../model/ops.ts';
import { profileByName } from '../../model/profile.ts';
import type { VerifyBounds } from './alphabet.ts';
import { Bfs, type NodeData, type Step } from './bfs.ts';
import { pairsAt, type NodePairs, type PairBounds } from './pairs.ts';

export interface WorkerInit {
  source: string;
  bounds: VerifyBounds;
  branching: 'fork' | 'replay';
}

export interface LevelRequest {
  kind: 'level';
  /** Fingerprints of the states added since the last request. */
  add: number[];
  nodes: Array<{ path: Op[]; data: NodeData }>;
}

export type LevelReply = Step[][];

/** Every pair from each state sent. */
export interface PairsRequest {
  kind: 'pairs';
  bounds: PairBounds;
  nodes: Array<{ path: Op[]; data: NodeData }>;
}

export type PairsReply = NodePairs[];

const init = workerData as WorkerInit;
const impl = await loadImplementation(init.source);
const profile = profileByName(impl.profile)!;
const bfs = new Bfs(impl, profile, init.bounds, -1, init.branching);
const seen = new Set<number>();

parentPort!.on('message', (m: LevelRequest | PairsRequest) => {
  if (m.kind === 'pairs') {
    const reply: PairsReply = m.nodes.map((n) => pairsAt(impl, profile, init.bounds, m.bounds, n.path, n.data));
    parentPort!.postMessage(reply);
    return;
  }
  for (const fp of m.add) seen.add(fp);
  // States new to this chunk are new to it once: a later node of the chunk
  // reaching one again leaves it, as the main thread would.
  const chunk = new Set<number>();
  const known = (fp: number): boolean => seen.has(fp) || chunk.has(fp);
  const reply: LevelReply = m.nodes.map((n) => {
    const steps = bfs.steps(n.path, n.data, known);
    for (const s of steps) if (s.child) chunk.add(s.child.fp);
    return steps;
  });
  parentPort!.postMessage(reply);
});
