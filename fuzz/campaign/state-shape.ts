// What a state.json must hold to be resumed from. It is read back from a
// folder anyone may have edited or damaged, and every field steers the
// resume (which batch is next, how much of the corpus is committed, what
// guided each batch), so a field of the wrong kind is an unreadable state,
// never a value to run with.

/** The boundary whose snapshot guides batch k: the start of the epoch
 * before k's, so a worker waits for it only when a batch a whole epoch old
 * is still running. */
export function guideBoundary(k: number, every: number): number {
  return Math.max(0, (Math.floor(k / every) - 1) * every);
}

const count = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0;
const strings = (x: unknown): boolean => Array.isArray(x) && x.every((s) => typeof s === 'string');
const counts = (x: unknown): boolean =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every(count);

/** What is wrong with `s` as a state this savedsyn wrote, if anything. */
export function stateProblem(s: unknown, version: number): string | undefined {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return 'not an object';
  const r = s as Record<string, unknown>;
  if (r.version !== version) return `version ${JSON.stringify(r.version)}, not ${version}`;
  if (!Number.isSafeInteger(r.seed)) return 'seed is not a whole number';
  if (typeof r.shard !== 'string') return 'shard is not text';
  if (!strings(r.impls) || (r.impls as string[]).length === 0) return 'impls is not a list of names';
  if (!count(r.guideEvery)) return 'guideEvery is not a count';
  for (const k of ['batchRuns', 'maxOps'] as const) if (r[k] !== undefined && !(count(r[k]) && (r[k] as number) > 0)) return `${k} is not a positive count`;
  if (r.schedulers !== undefined && !strings(r.schedulers)) return 'schedulers is not a list of names';
  for (const k of ['nextBatch', 'cases', 'steps', 'corpus'] as const) if (!count(r[k])) return `${k} is not a count`;
  if (!counts(r.counts)) return 'counts is not a table of counts';
  if (!Array.isArray(r.snapshots) || r.snapshots.length === 0) return 'snapshots is not a list with the first boundary';
  for (const [i, x] of (r.snapshots as unknown[]).entries()) {
    const snap = x as Record<string, unknown>;
    if (typeof snap !== 'object' || snap === null || !count(snap.boundary) || !count(snap.corpus) || !counts(snap.counts)) return `snapshots[${i}] is not a snapshot`;
    // A snapshot is taken as a batch commits: of no batch yet to run, and
    // of no more of the corpus than is committed.
    if ((snap.boundary as number) > (r.nextBatch as number)) return `snapshots[${i}] is of batch ${snap.boundary as number}, past nextBatch ${r.nextBatch as number}`;
    if ((snap.corpus as number) > (r.corpus as number)) return `snapshots[${i}] counts ${snap.corpus as number} corpus entries, more than the ${r.corpus as number} committed`;
  }
  // The batches still to run are guided by the snapshots of the boundaries
  // from the one before nextBatch's epoch: without one, they wait for it
  // forever.
  const every = r.guideEvery as number;
  if (every > 0) {
    const next = r.nextBatch as number;
    const held = new Set((r.snapshots as Array<{ boundary: number }>).map((x) => x.boundary));
    for (let b = guideBoundary(next, every); b <= next; b += every) {
      if (!held.has(b)) return `snapshots lacks batch ${b}'s, which guides the batches from ${next} on`;
    }
  }
  return undefined;
}


