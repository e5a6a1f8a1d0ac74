// A campaign worker: runs the batches it is sent and posts their results.
// It keeps the corpus it has been sent and the guides of the last few
// boundaries, so each is sent once, not with every batch.
import { parentPort } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { runBatch } = await import('./batch.ts');
const corpus = [];
const guides = new Map();
parentPort.on('message', async ({ spec, corpus: more, snapshot }) => {
  try {
    corpus.push(...more);
    if (snapshot) {
      guides.set(snapshot.boundary, { counts: snapshot.counts, corpus: corpus.filter((e) => e.index < snapshot.corpus) });
      for (const b of guides.keys()) if (guides.size > 3 && b < snapshot.boundary) guides.delete(b);
    }
    const guide = spec.guideAt === undefined ? undefined : guides.get(spec.guideAt);
    if (spec.guideAt !== undefined && guide === undefined) throw new Error(`no guide for boundary ${spec.guideAt}`);
    parentPort.postMessage({ ok: true, result: await runBatch(spec, guide) });
  } catch (e) {
    parentPort.postMessage({ ok: false, index: spec.index, error: e instanceof Error ? e.message : String(e) });
  }
});
