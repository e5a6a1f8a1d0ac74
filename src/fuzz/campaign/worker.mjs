// A campaign worker: runs the batches it is sent and posts their results.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runBatch } = await import('./batch.ts');
parentPort.on('message', async (spec) => {
  try {
    parentPort.postMessage({ ok: true, result: await runBatch(spec) });
  } catch (e) {
    parentPort.postMessage({ ok: false, index: spec.index, error: e instanceof Error ? e.message : String(e) });
  }
});
