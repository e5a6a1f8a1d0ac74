// A failure as Markdown that reads in a mail client and on a code host: the
// lanes both as a Mermaid sequence diagram and as a plain-text table.

import { block, cellSpan, cellText, plain, prose, span } from './md.ts';
import { noOutcome, stretchWords, type FailureReport, type ReportStep } from './failure.ts';
import type { QuotedHunk } from './patch.ts';
import { interleavingLines } from './text.ts';

// Mermaid's entity codes keep a source line whole where `;`, `#`, `<`
// and `>` would end or garble a message.
const mermaidText = (s: string): string => s.replace(/\s+/g, ' ').trim()
  .replace(/#/g, '#35;').replace(/;(?<!#35;)/g, '#59;').replace(/</g, '#60;').replace(/>/g, '#62;');

const verdictOf = (r: FailureReport, s: ReportStep): string =>
  s.actual === null ? noOutcome(r, s) : s.expected !== null && s.expected !== s.actual ? `${s.actual} (spec: ${s.expected})` : s.actual;

/** The case as a sequence diagram. Threads are drawn stretch by stretch:
 * the call, a note per stretch naming the lines it ran between, and the
 * return, so the diagram shows where each thread was overtaken. */
export function mermaid(r: FailureReport): string {
  const out = ['sequenceDiagram', '    participant K as kernel'];
  for (const lane of r.lanes) out.push(`    participant ${lane}`);
  const byIndex = new Map(r.steps.map((s) => [s.index, s]));
  const ends = (s: ReportStep): void => {
    if (s.interrupted) out.push(`    K--x${s.lane}: ${mermaidText(verdictOf(r, s))}`);
    else out.push(`    K-->>${s.lane}: ${mermaidText(verdictOf(r, s))}`);
    if (s.failing) out.push(`    Note over K,${s.lane}: ${mermaidText(r.signature)}`);
  };
  let threadsDrawn = false;
  for (const s of r.steps) {
    if (/^T\d+$/.test(s.lane) && r.interleaving.length > 0) {
      if (threadsDrawn) continue;
      threadsDrawn = true;
      for (const st of r.interleaving) {
        const step = byIndex.get(st.step)!;
        if (st.from === null) out.push(`    ${st.lane}->>K: ${mermaidText(step.op)}`);
        const words = stretchWords(st);
        out.push(`    Note over K,${st.lane}: ${mermaidText(`${st.lane} from ${words.from} to ${words.to}`)}`);
        if (st.end !== 'paused' && st.end !== 'waiting') ends(step);
      }
      // What the run stopped in the middle of, closed where it stood.
      for (const st of r.steps) if (st.interrupted) ends(st);
      continue;
    }
    out.push(`    ${s.lane}->>K: ${mermaidText(s.op)}`);
    ends(s);
  }
  return out.join('\n');
}

/** The lanes as text columns, the op in its lane's column and the result
 * (with the spec's, where it differs) at the end of the row. */
export function laneTable(r: FailureReport): string {
  const width = Math.min(44, Math.max(...r.steps.map((s) => s.op.length), 8));
  const cell = (t: string): string => (t.length > width ? `${t.slice(0, width - 1)}…` : t.padEnd(width));
  const head = `step  ${r.lanes.map(cell).join(' | ')} | result`;
  const rows = r.steps.map((s) => {
    const col = r.lanes.map((l) => cell(l === s.lane ? s.op : ''));
    const got = s.actual ?? noOutcome(r, s);
    const result = s.expected !== null && s.expected !== got ? `${got} (spec: ${s.expected})` : got;
    return `${s.failing ? '>>' : '  '}${String(s.index).padStart(3)} ${col.join(' | ')} | ${result}`;
  });
  return [head, ...rows].join('\n');
}

export function renderReportMarkdown(r: FailureReport): string {
  const out: string[] = [`# ${plain(r.title)}`, ''];
  out.push(`| | |`, `| --- | --- |`);
  out.push(`| signature | ${cellSpan(r.signature)} |`, `| severity | ${r.severity} |`, `| profile | ${r.profile}: ${r.profileTitle} |`, `| implementation | ${plain(r.implementation)} |`);
  out.push('', '## What went wrong', '', prose(r.message), '');
  if (r.violations.length > 1) {
    out.push('Every violation the case shows, through teardown; the most severe names it:', '', '| step | severity | signature | what |', '| --- | --- | --- | --- |');
    for (const v of r.violations) out.push(`| ${v.step} | ${v.severity}${v.names ? ' (names it)' : ''} | ${cellSpan(v.signature)} | ${cellText(v.message)} |`);
    out.push('');
  }
  if (r.repair) out.push(`${r.repair.finding}.`, '', `**Suggested repair** (\`rfc-v1-fixed\`, ${r.repair.id}): ${r.repair.repair}.`, '');
  out.push('## The minimal case', '', ...block(mermaid(r), 'mermaid'), '', 'For mail:', '', ...block(laneTable(r)), '');
  out.push('## Step by step', '');
  for (const s of r.steps) {
    const got = s.actual ?? noOutcome(r, s);
    const verdict = s.expected !== null && s.expected !== got ? `**${got}**, the spec says ${s.expected}` : got;
    out.push(`${s.failing ? '**>>** ' : ''}${s.index}. ${span(s.lane)} ${s.op} = ${verdict}${s.passes.length > 0 ? `; passes ${plain(passesText(s))}` : ''}`);
  }
  if (r.patch.length > 0) {
    out.push('', '## The patch, as the case ran it', '', 'Each hunk the case passes through, quoted once, with the line numbers of the patched file; `◀` marks a line with the steps that passed it.', '');
    for (const h of r.patch) out.push(`\`${h.where}\``, '', '```', ...hunkLines(h), '```', '');
  }
  if (r.interleaving.length > 0) {
    out.push('', '## The interleaving', '', 'Each stretch runs one thread from where it resumed to just before its next preemption point or to its return, while the others stay where they were paused:', '');
    const byIndex = new Map(r.steps.map((s) => [s.index, s]));
    out.push(...block(interleavingLines(r.interleaving, (i) => byIndex.get(i)!.op, (i) => verdictOf(r, byIndex.get(i)!)).join('\n')));
  }
  if (r.references.length > 0) {
    out.push('', '## Reference history of the buffer', '', '| step | event | by | refs after | where |', '| --- | --- | --- | --- | --- |');
    for (const e of r.references) out.push(`| ${e.step} | ${e.event} | ${plain(e.owner)} | ${e.refs} | ${cellSpan(e.site)} |`);
    if (r.oracle === 'leak') out.push('', `After teardown: ${prose(r.message)}.`);
  }
  out.push('', '## Replay', '', ...block(r.replay, 'sh'), '');
  return out.join('\n');
}

/** The lines a step passed, file by file: `net/ipv4/tcp.c 2752, 2755`. */
export function passesText(s: ReportStep): string {
  return s.passes.map((p) => `${p.where.split(' ')[0]} ${p.lines.join(', ')}`).join('; ');
}

/** A quoted hunk as numbered lines, tabs expanded, each passed line marked
 * with the steps that passed it. */
export function hunkLines(h: QuotedHunk): string[] {
  const body = h.lines.map((l) => `${l.n === null ? '    ' : String(l.n).padStart(4)} ${untab(l.text)}`);
  const width = Math.max(...body.map((b) => b.length));
  return body.map((b, i) => (h.lines[i].steps.length > 0 ? `${b.padEnd(width)}  ◀ ${h.lines[i].steps.join(', ')}` : b));
}

/** Tabs to the next multiple of eight columns, as the kernel's code is read. */
function untab(line: string): string {
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}
