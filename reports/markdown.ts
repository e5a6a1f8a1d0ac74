// A failure as Markdown that reads in a mail client and on a code host: the
// lanes both as a Mermaid sequence diagram and as a plain-text table.

import { noOutcome, type FailureReport } from './failure.ts';

const mermaidText = (s: string): string => s.replace(/[;#<>]/g, ' ').replace(/\s+/g, ' ').trim();

export function mermaid(r: FailureReport): string {
  const out = ['sequenceDiagram', '    participant K as kernel'];
  for (const lane of r.lanes) out.push(`    participant ${lane}`);
  for (const s of r.steps) {
    out.push(`    ${s.lane}->>K: ${mermaidText(s.op)}`);
    const verdict = s.actual === null ? noOutcome(r, s) : s.expected !== null && s.expected !== s.actual ? `${s.actual} (spec: ${s.expected})` : s.actual;
    out.push(`    K-->>${s.lane}: ${mermaidText(verdict)}`);
    if (s.failing) out.push(`    Note over K,${s.lane}: ${mermaidText(r.signature)}`);
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
  const out: string[] = [`# ${r.title}`, ''];
  out.push(`| | |`, `| --- | --- |`);
  out.push(`| signature | \`${r.signature}\` |`, `| severity | ${r.severity} |`, `| profile | ${r.profile}: ${r.profileTitle} |`, `| implementation | ${r.implementation} |`);
  out.push('', '## What went wrong', '', r.message, '');
  if (r.repair) out.push(`${r.repair.finding}.`, '', `**Suggested repair** (\`rfc-v1-fixed\`, ${r.repair.id}): ${r.repair.repair}.`, '');
  out.push('## The minimal case', '', '```mermaid', mermaid(r), '```', '', 'For mail:', '', '```', laneTable(r), '```', '');
  out.push('## Step by step', '');
  for (const s of r.steps) {
    const got = s.actual ?? noOutcome(r, s);
    const verdict = s.expected !== null && s.expected !== got ? `**${got}**, the spec says ${s.expected}` : got;
    out.push(`${s.failing ? '**>>** ' : ''}${s.index}. \`${s.lane}\` ${s.op} = ${verdict}`);
    for (const e of s.excerpts) out.push('', `   \`${e.where}\``, '', '   ```diff', ...e.lines.map((l) => `   ${l}`), '   ```');
    if (s.excerpts.length > 0) out.push('');
  }
  if (r.interleaving.length > 0) {
    out.push('', '## The interleaving', '', 'Each line is a preemption point, in the order the threads passed them:', '', '```');
    for (const e of r.interleaving) out.push(`${e.lane.padEnd(4)} ${e.site}`);
    out.push('```');
  }
  if (r.references.length > 0) {
    out.push('', '## Reference history of the buffer', '', '| step | event | by | refs after | where |', '| --- | --- | --- | --- | --- |');
    const cellText = (t: string): string => t.replace(/\|/g, '\\|');
    for (const e of r.references) out.push(`| ${e.step} | ${e.event} | ${e.owner} | ${e.refs} | \`${cellText(e.site)}\` |`);
    if (r.oracle === 'leak') out.push('', `After teardown: ${r.message}.`);
  }
  out.push('', '## Replay', '', '```sh', r.replay, '```', '');
  return out.join('\n');
}
