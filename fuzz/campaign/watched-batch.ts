// A batch run where a watchdog can stop it: a worker stuck in an op would
// hold the whole campaign, and the op that hung is a finding like any other.
// Only this module and the watchdog are loaded where it is called from, so
// a campaign worker does not load the searches the watched thread runs.

import type { Guide } from '../guide.ts';
import { sibling } from '../start-worker.ts';
import { DEFAULT_OP_TIMEOUT, watched } from '../watchdog/host.ts';
import { underWatchdog } from '../../properties/impl-calls.ts';
import { KERNEL_IMPL } from '../../model/kernel/name.ts';
import type { BatchResult, BatchSpec } from './batch.ts';

export async function watchedBatch(b: BatchSpec, guide?: Guide): Promise<BatchResult> {
  const module = sibling('batch', import.meta.url).href;
  const bound = b.opTimeout ?? DEFAULT_OP_TIMEOUT;
  // A kernel batch calls no implementation a watchdog could count, and the
  // lane bounds each of its runs itself.
  if (bound <= 0 || underWatchdog() || b.impl === KERNEL_IMPL) {
    const { runBatch } = (await import(module)) as typeof import('./batch.ts');
    return runBatch(b, guide);
  }
  return (await watched<BatchResult>(bound, { module, fn: 'runBatch', input: b, shared: guide })).result;
}
