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

/** One file of the patch as posted: its diff header lines and its hunks. */
export interface PostedFile {
  path: string;
  header: string[];
  hunks: PostedHunk[];
}

/** A hunk as posted: its whole header line (with the function context) and
 * every line it spans, context included, found by the header's counts. */
export interface PostedHunk {
  header: string;
  /** The first line of the patched file the hunk shows. */
  newStart: number;
  lines: string[];
}

let posted: PostedFile[] | undefined;

/** The patch file by file, as the mail shows it. The archived mail lost the
 * leading blank of context lines, so a hunk ends where its counts say. */
export function postedFiles(): PostedFile[] {
  if (posted) return posted;
  posted = [];
  const text = readFileSync(PATCH, 'utf8').split('\n');
  for (let i = 0; i < text.length; i++) {
    const d = /^diff --git a\/(\S+)/.exec(text[i]);
    if (!d) continue;
    const file: PostedFile = { path: d[1], header: [text[i]], hunks: [] };
    posted.push(file);
    while (i + 1 < text.length && /^(index |--- |\+\+\+ )/.test(text[i + 1])) file.header.push(text[++i]);
    for (;;) {
      const h = /^@@ -\d+,(\d+) \+(\d+),(\d+) @@/.exec(text[i + 1] ?? '');
      if (!h) break;
      const hunk: PostedHunk = { header: text[++i], newStart: Number(h[2]), lines: [] };
      let old = Number(h[1]);
      let neu = Number(h[3]);
      while (old > 0 || neu > 0) {
        const line = text[++i];
        hunk.lines.push(line);
        if (!line.startsWith('+')) old--;
        if (!line.startsWith('-')) neu--;
      }
      file.hunks.push(hunk);
    }
  }
  return posted;
}

/** Where in the posted patch a site label's line is: the same line `quote`
 * finds, as indexes into postedFiles(). */
export function siteInPatch(site: string): { file: number; hunk: number; line: number } | undefined {
  const loc = locateSite(site);
  if (!loc) return undefined;
  const files = postedFiles();
  for (const [f, file] of files.entries()) {
    if (file.path !== loc.hunk.file) continue;
    const h = file.hunks.findIndex((x) => x.header.startsWith(loc.hunk.header));
    if (h < 0) continue;
    // The nth line that carries a diff marker is the nth line of the parsed hunk.
    let nth = -1;
    const line = file.hunks[h].lines.findIndex((l) => /^[ +-]/.test(l) && ++nth === loc.at);
    return line < 0 ? undefined : { file: f, hunk: h, line };
  }
  return undefined;
}

/** The lines of a patched file that the patch shows, by line number, without
 * their diff marker: what a diff against the patched tree must agree with. */
export function patchedLines(path: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const hunk of postedFiles().find((f) => f.path === path)?.hunks ?? []) {
    let n = hunk.newStart;
    for (const line of hunk.lines) {
      if (line.startsWith('-')) continue;
      out.set(n++, line.startsWith('+') ? line.slice(1) : line);
    }
  }
  return out;
}

/** A hunk quoted once for a whole run: its lines from two before the first
 * one any step passed to two after the last, each with its number in the
 * patched file (none for a removed line) and the steps that passed it. */
export interface QuotedHunk {
  where: string;
  lines: Array<{ n: number | null; text: string; steps: number[] }>;
}

/** Where a site label's line is, by hunk and line number in the patched file. */
export function patchLineOf(site: string): { where: string; n: number } | undefined {
  const at = siteInPatch(site);
  if (!at) return undefined;
  const file = postedFiles()[at.file];
  const hunk = file.hunks[at.hunk];
  return { where: `${file.path} ${hunk.header}`, n: numbered(hunk)[at.line] ?? 0 };
}

/** Every hunk the steps pass through, in patch order, each quoted once. */
export function quoteHunks(steps: ReadonlyArray<{ index: number; sites: readonly string[] }>): QuotedHunk[] {
  const passed = new Map<string, Map<number, Set<number>>>();
  for (const s of steps) {
    for (const site of s.sites) {
      const at = siteInPatch(site);
      if (!at) continue;
      const key = `${at.file}:${at.hunk}`;
      const lines = passed.get(key) ?? new Map<number, Set<number>>();
      passed.set(key, lines);
      const by = lines.get(at.line) ?? new Set<number>();
      lines.set(at.line, by);
      by.add(s.index);
    }
  }
  const out: QuotedHunk[] = [];
  for (const [f, file] of postedFiles().entries()) {
    for (const [h, hunk] of file.hunks.entries()) {
      const lines = passed.get(`${f}:${h}`);
      if (!lines) continue;
      const touched = [...lines.keys()];
      const from = Math.max(0, Math.min(...touched) - 2);
      const to = Math.min(hunk.lines.length, Math.max(...touched) + 3);
      const numbers = numbered(hunk);
      out.push({
        where: `${file.path} ${hunk.header}`,
        lines: hunk.lines.slice(from, to).map((text, i) => ({
          n: numbers[from + i], text, steps: [...(lines.get(from + i) ?? [])].sort((a, b) => a - b),
        })),
      });
    }
  }
  return out;
}

/** Each line's number in the patched file; null for a removed line. */
function numbered(hunk: PostedHunk): Array<number | null> {
  let n = hunk.newStart;
  return hunk.lines.map((l) => (l.startsWith('-') ? null : n++));
}
