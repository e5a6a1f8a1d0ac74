// A campaign worker: runs the batches it is sent and posts their results.
// It keeps the corpus it has been sent and the guides of the last few
// boundaries, so each is sent once, not with every batch. The batches run
// on a thread a watchdog can stop (watched-batch.ts).

import { parentPort } from 'node:worker_threads';
import type { CorpusEntry, Guide } from '../guide.ts';
import { watchedBatch } from './watched-batch.ts';
import { UserError } from '../../model/user-error.ts';
import type { WorkMessage } from './run.ts';

const port = parentPort!;
const corpus: CorpusEntry[] = [];
const guides = new Map<number, Guide>();
port.on('message', async ({ spec, corpus: more, snapshot }: WorkMessage) => {
  try {
    corpus.push(...more);
    if (snapshot) {
      guides.set(snapshot.boundary, { counts: snapshot.counts, corpus: corpus.filter((e) => e.index < snapshot.corpus) });
      for (const b of guides.keys()) if (guides.size > 3 && b < snapshot.boundary) guides.delete(b);
    }
    const guide = spec.guideAt === undefined ? undefined : guides.get(spec.guideAt);
    if (spec.guideAt !== undefined && guide === undefined) throw new Error(`no guide for boundary ${spec.guideAt}`);
    port.postMessage({ ok: true, result: await watchedBatch(spec, guide) });
  } catch (e) {
    // A module's mistake is the user's to fix; anything else is savedsyn's.
    port.postMessage({ ok: false, index: spec.index, error: e instanceof Error ? e.message : String(e), user: e instanceof UserError });
  }
});
