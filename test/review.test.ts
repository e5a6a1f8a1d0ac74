// The reply to the 2015 patch (reports/rfc-v1/review.txt) and the repairs as
// C diffs: every line the repaired implementation labels as a repair is a
// line its diff adds, each diff is well formed against the patched tree,
// each finding stands under the line its failing step names, and the reply
// keeps to 72 columns but for the two kinds of line mail never rewraps.
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { opsArb } from '../fuzz/arbitraries.ts';
import { generateRfcV1Reports } from '../fuzz/committed-reports.ts';
import { concurrentArb } from '../fuzz/concurrent-cases.ts';
import { chooserFor } from '../fuzz/schedulers.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { REPAIR_DIFFS, REPAIRS, type RepairId } from '../model/impl/rfc-v1-fixed.ts';
import { RFC_V1 } from '../model/profile.ts';
import { replay, runConcurrent, type ConcurrentCase } from '../properties/concurrent.ts';
import { runLockstep, type RunResult } from '../properties/lockstep.ts';
import type { FailureReport } from '../reports/failure.ts';
import { patchedLines, postedFiles, siteInPatch } from '../reports/patch.ts';
import { columns, concernedSite, quoted, replayLine, REVIEW_WIDTH } from '../reports/review.ts';
import { decodeToken } from '../reports/token.ts';

const ROOT = join(import.meta.dirname, '..');
const DIR = join(ROOT, 'reports/rfc-v1');
const IDS = Object.keys(REPAIRS) as RepairId[];
const fixed = bundledByName('rfc-v1-fixed')!;
const review = readFileSync(join(DIR, 'review.txt'), 'utf8');
const lines = review.replace(/\n$/, '').split('\n');
const reports = new Map(IDS.map((id) => [id, JSON.parse(readFileSync(join(DIR, `${id}.json`), 'utf8')) as FailureReport]));
const squash = (s: string): string => s.replace(/\s+/g, '');
const REPAIR_MARK = /\/\* repair: ([\w-]+) \*\//;

/** Every label the repaired implementation passed in a run: its steps'
 * preemption points, and the sites of its buffers' reference events. */
function labels(result: RunResult): string[] {
  const out = result.steps.flatMap((s) => s.sites);
  for (const h of result.ledger.handles()) out.push(...result.ledger.history(h).map((e) => e.site));
  return out;
}

function fixedLabels(): Set<string> {
  const seen = new Set<string>();
  const add = (r: RunResult): void => { for (const l of labels(r)) seen.add(l); };
  for (const report of reports.values()) {
    const c = decodeToken(report.token);
    add(c.kind === 'sequential'
      ? runLockstep(fixed, RFC_V1, c.ops, { recordSites: true })
      : runConcurrent(fixed, RFC_V1, c.case, replay(c.case.schedule), { recordSites: true }));
  }
  for (const ops of fc.sample(opsArb(RFC_V1), { seed: 26, numRuns: 40 })) add(runLockstep(fixed, RFC_V1, ops, { recordSites: true }));
  for (const g of fc.sample(concurrentArb(RFC_V1, ['random']), { seed: 26, numRuns: 20 })) {
    const c: ConcurrentCase = g.case;
    add(runConcurrent(fixed, RFC_V1, c, chooserFor(g.scheduler, g.seed, c.threads.length), { recordSites: true }));
  }
  return seen;
}

/** A diff's hunks with the old line number of each line. */
function hunks(diff: string): Array<{ path: string; header: string; oldStart: number; oldCount: number; newCount: number; lines: string[] }> {
  const out: ReturnType<typeof hunks> = [];
  let path = '';
  for (const line of diff.split('\n')) {
    if (line.startsWith('--- a/')) continue;
    if (line.startsWith('+++ b/')) { path = line.slice(6); continue; }
    const h = /^@@ -(\d+),(\d+) \+\d+,(\d+) @@/.exec(line);
    if (h) { out.push({ path, header: line, oldStart: Number(h[1]), oldCount: Number(h[2]), newCount: Number(h[3]), lines: [] }); continue; }
    out[out.length - 1].lines.push(line);
  }
  return out;
}

/** The quoted line of the patch a site label stands for, if it is one. */
function quotedLine(site: string): string[] {
  const at = siteInPatch(site);
  return at ? [quoted(postedFiles()[at.file].hunks[at.hunk].lines[at.line])] : [];
}

const added = (diff: string): string[] => diff.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++ ')).map((l) => squash(l.slice(1)));

describe('the repairs as C diffs', () => {
  it('every line rfc-v1-fixed labels as a repair is a line its diff adds, and every labelled line is reached', () => {
    const repaired = [...fixedLabels()].filter((l) => REPAIR_MARK.test(l));
    const byId = new Map<string, Set<string>>();
    for (const label of repaired) {
      const id = REPAIR_MARK.exec(label)![1];
      expect(IDS, label).toContain(id);
      const code = squash(label.slice(label.indexOf(' | ') + 3).replace(REPAIR_MARK, ''));
      expect(added(REPAIR_DIFFS[id as RepairId].diff), `${label} is not a + line of ${id}'s diff`).toContain(code);
      byId.set(id, (byId.get(id) ?? new Set()).add(label));
    }
    // Every repair labels what it changes (a repair that is another's
    // change, diff for diff, through that one's labels), and the runs reach
    // every label the source writes.
    const covered = IDS.filter((id) => byId.has(id) || [...byId.keys()].some((other) => REPAIR_DIFFS[other as RepairId].diff === REPAIR_DIFFS[id].diff));
    expect(covered.sort()).toEqual([...IDS].sort());
    expect([...byId.keys()].length).toBeGreaterThanOrEqual(IDS.length - 1);
    const source = readFileSync(join(ROOT, 'model/impl/rfc-v1-fixed.ts'), 'utf8');
    expect(repaired.length).toBe(source.match(/\/\* \$\{FIXED\}: [\w-]+ \*\//g)!.length);
  });

  for (const id of IDS) {
    it(`${id}: each hunk's counts hold, and it agrees with the patched tree wherever the patch shows it`, () => {
      const diff = REPAIR_DIFFS[id].diff;
      expect(diff.split('\n')[0]).toMatch(/^--- a\//);
      for (const h of hunks(diff)) {
        expect(h.lines.filter((l) => !l.startsWith('+')).length, h.header).toBe(h.oldCount);
        expect(h.lines.filter((l) => !l.startsWith('-')).length, h.header).toBe(h.newCount);
        const shown = patchedLines(h.path);
        let n = h.oldStart;
        for (const line of h.lines) {
          if (line.startsWith('+')) continue;
          const patched = shown.get(n++);
          if (patched !== undefined) expect(squash(line.slice(1)), `${h.path}:${n - 1}`).toBe(squash(patched));
        }
      }
      expect(readFileSync(join(DIR, `repairs/${id}.diff`), 'utf8')).toBe(`${diff}\n`);
    });
  }
});

describe('reports/rfc-v1/review.txt', () => {
  const patchLines = new Set(postedFiles().flatMap((f) => [...f.header, ...f.hunks.flatMap((h) => [h.header, ...h.lines])]));

  it(`keeps to ${REVIEW_WIDTH} columns (tabs as 8), but for verbatim quotes of the patch and one-line replay commands`, () => {
    const replays = new Set([...reports.values()].map((r) => replayLine(r.token)));
    // A repair diff's context and removed lines quote the patched tree.
    const tree = new Set(postedFiles().flatMap((f) => [...patchedLines(f.path).values()].map(squash)));
    for (const line of lines) {
      if (columns(line) <= REVIEW_WIDTH) continue;
      if (line.startsWith('>')) expect(patchLines.has(line.replace(/^> ?/, '')), line).toBe(true);
      else if (/^[- ]\t/.test(line)) expect(tree.has(squash(line.slice(1))), `${line.slice(0, 40)}… is over ${REVIEW_WIDTH} columns`).toBe(true);
      else expect(replays.has(line), `${line.slice(0, 40)}… is over ${REVIEW_WIDTH} columns`).toBe(true);
    }
    // Every quote is the patch as posted, and every replay line stands alone.
    for (const line of lines.filter((l) => l.startsWith('>') && l !== '> [...]')) expect(patchLines.has(line.replace(/^> ?/, '')), line).toBe(true);
    for (const r of reports.values()) expect(lines.filter((l) => l === replayLine(r.token))).toHaveLength(1);
  });

  it('opens with what was checked and how, and signs off as savedsyn', () => {
    expect(review.slice(0, 400).replace(/\s+/g, ' ')).toContain('a model of the patch checked against the promise of its cover letter');
    expect(lines[lines.length - 1]).toMatch(/savedsyn/);
    expect(review).not.toMatch(/\b(19|20)\d\d-\d\d-\d\d\b|\d\d:\d\d:\d\d/);
  });

  for (const id of IDS) {
    it(`${id}: stands directly under the quoted line its failing step names, with its case, replay and repair`, () => {
      const report = reports.get(id)!;
      const anchor = lines.findIndex((l) => l.includes(`reports/rfc-v1/${id}.md`));
      expect(anchor, 'the finding is in the reply').toBeGreaterThan(0);
      let q = anchor;
      while (!lines[q].startsWith('>')) q--;
      // One blank line, then the finding's text, none of it quoted.
      expect(lines[q + 1]).toBe('');
      expect(lines[q + 2]).not.toBe('');
      // The line is one the failing step passed; a leak's is where its
      // pointer was lost, else where the reference never released was
      // taken; the race's is where the reader takes the skb.
      const failing = report.steps.find((s) => s.failing);
      const lost = report.violations.find((v) => v.names)?.site ?? null;
      const named = report.oracle !== 'leak' ? failing!.sites.map((s) => s.label)
        : lost !== null && quotedLine(lost).length > 0 ? [lost]
          : report.references.filter((e) => e.event === 'get' || e.event === 'alloc').map((e) => e.site);
      expect(named.flatMap(quotedLine)).toContain(lines[q]);
      expect(quotedLine(concernedSite(report)!)).toEqual([lines[q]]);
      if (REPAIRS[id].concurrent) expect(lines[q]).toContain(report.oracle === 'leak' ? 'tp->syn_skb = syn;' : 'xchg(&tp->syn_skb, NULL)');
      // Its case, as the reports write each call, its replay and its repair,
      // before the quote resumes.
      const end = lines.findIndex((l, i) => i > q && l.startsWith('>'));
      const block = lines.slice(q + 1, end).join('\n');
      // A line too long for mail is cut at the width, never wrapped.
      for (const s of report.steps) expect(block).toContain(`${s.op} = ${s.actual}`.slice(0, REVIEW_WIDTH - 16));
      expect(block).toContain(replayLine(report.token));
      expect(block).toContain(`\n${REPAIR_DIFFS[id].diff}\n`);
      expect(`${REPAIR_DIFFS[id].diff}\n`).toBe(readFileSync(join(DIR, `repairs/${id}.diff`), 'utf8'));
    });
  }

  it('npm run reports writes it and the diffs, byte for byte', () => {
    const generated = generateRfcV1Reports();
    expect(generated.get('reports/rfc-v1/review.txt')).toBe(review);
    for (const id of IDS) expect(generated.get(`reports/rfc-v1/repairs/${id}.diff`), id).toBe(readFileSync(join(DIR, `repairs/${id}.diff`), 'utf8'));
  });
});
