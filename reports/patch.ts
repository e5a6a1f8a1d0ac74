// Quoting the 2015 patch: a step's label names the file, the hunk header and
// the line it stands for; a report shows that line in its hunk.

import { readFileSync } from 'node:fs';
import { packageFile } from '../model/package-files.ts';

const PATCH = packageFile('reference/rfc-v1-tcp-saved-syn.patch.txt');

interface Hunk {
  file: string;
  header: string;
  lines: string[];
}

let hunks: Hunk[] | undefined;

function load(): Hunk[] {
  if (hunks) return hunks;
  hunks = [];
  let file = '';
  let cur: Hunk | undefined;
  for (const line of readFileSync(PATCH, 'utf8').split('\n')) {
    const d = /^diff --git a\/(\S+)/.exec(line);
    if (d) { file = d[1]; cur = undefined; continue; }
    const h = /^(@@ -\d+,\d+ \+\d+,\d+ @@)/.exec(line);
    if (h) { cur = { file, header: h[1], lines: [] }; hunks.push(cur); continue; }
    if (line.startsWith('--') && line.trim() === '--') cur = undefined;
    if (cur && /^[ +-]/.test(line)) cur.lines.push(line);
  }
  return hunks;
}

const squash = (s: string): string => s.replace(/\s+/g, '');

/** Where in the patch a site label's line is: its hunk and line index. */
function locateSite(site: string): { hunk: Hunk; at: number } | undefined {
  const m = /^(\S+) (@@ -\d+,\d+ \+\d+,\d+ @@) \S+ \| (.*)$/.exec(site);
  if (!m) return undefined;
  const [, file, header, code] = m;
  const hunk = load().find((h) => h.file === file && h.header === header);
  if (!hunk) return undefined;
  const want = squash(code.replace(/\/\*.*?\*\//g, ''));
  const at = hunk.lines.findIndex((l) => want !== '' && squash(l.slice(1)).includes(want));
  return at < 0 ? undefined : { hunk, at };
}

/** The patch lines around the line a site label stands for (up to two either
 * side), or [] when the label is not one of the patch's. */
export function quote(site: string): string[] {
  const loc = locateSite(site);
  return loc ? loc.hunk.lines.slice(Math.max(0, loc.at - 2), loc.at + 3) : [];
}

/** The excerpts of the patch that a run of site labels passes through: per
 * hunk, from two lines before the first to two after the last. */
export function excerpts(sites: readonly string[]): Array<{ where: string; lines: string[] }> {
  const spans = new Map<Hunk, { from: number; to: number }>();
  for (const site of sites) {
    const loc = locateSite(site);
    if (!loc) continue;
    const span = spans.get(loc.hunk);
    if (span) { span.from = Math.min(span.from, loc.at); span.to = Math.max(span.to, loc.at); }
    else spans.set(loc.hunk, { from: loc.at, to: loc.at });
  }
  return [...spans].map(([h, { from, to }]) => ({
    where: `${h.file} ${h.header}`,
    lines: h.lines.slice(Math.max(0, from - 2), to + 3),
  }));
}
