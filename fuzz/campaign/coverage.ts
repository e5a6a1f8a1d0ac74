// Coverage counts reduced to what people read: how many keys of each kind
// were reached, and which were reached least often. Shared by the campaign,
// merge and the dashboard, so the three never disagree on a figure.

export interface CoverageFigures {
  transitions: number;
  sites: number;
  interleavings: number;
}

export function coverageFigures(keys: Iterable<string>): CoverageFigures {
  const f: CoverageFigures = { transitions: 0, sites: 0, interleavings: 0 };
  for (const k of keys) {
    // The implementation's name ends at the first '|'; site labels quote
    // kernel code and may hold more.
    const kind = k.charAt(k.indexOf('|') + 1);
    if (kind === 't') f.transitions++;
    else if (kind === 's') f.sites++;
    else if (kind === 'i') f.interleavings++;
  }
  return f;
}

/** The `n` keys reached by the fewest cases, ties broken by key so the list
 * does not depend on the order counts were added in. */
export function leastReached(counts: Iterable<[string, number]>, n = 20): Array<{ key: string; cases: number }> {
  return [...counts].sort(([ka, a], [kb, b]) => a - b || (ka < kb ? -1 : ka > kb ? 1 : 0)).slice(0, n).map(([key, cases]) => ({ key, cases }));
}
