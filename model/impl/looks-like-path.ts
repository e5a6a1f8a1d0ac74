// How an implementation given by name is told from one given by path: a
// slash, or a module's extension. Kept apart from load.ts, which the
// command line must not import to parse its flags.

export function looksLikePath(s: string): boolean {
  return s.includes('/') || /\.(m?[jt]s|cjs|cts|mts)$/.test(s);
}
