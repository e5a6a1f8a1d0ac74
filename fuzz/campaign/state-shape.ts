// What a state.json must hold to be resumed from. It is read back from a
// folder anyone may have edited or damaged, and every field steers the
// resume (which batch is next, how much of the corpus is committed, what
// guided each batch), so a field of the wrong kind is an unreadable state,
// never a value to run with.


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
  }
  return undefined;
}


