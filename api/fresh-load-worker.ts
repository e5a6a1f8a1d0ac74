// The thread of fresh-load.ts: load the module, replay the case, say how
// it ended.

import { parentPort, workerData } from 'node:worker_threads';
import { encodeToken, type ReplayCase } from '../reports/token.ts';
import { replay } from './replay.ts';
import type { FreshRun } from './fresh-load.ts';

const { origin, case: c, opTimeout } = workerData as { origin: string; case: ReplayCase; opTimeout: number };
let result: FreshRun;
try {
  result = { signature: (await replay(encodeToken(c), { implementation: origin, opTimeout })).signature };
} catch (e) {
  result = { error: e instanceof Error ? e.message : String(e) };
}
parentPort!.postMessage(result);
