// A failure as one self-contained HTML page: no script, no fetch. The lanes
// and the buffer's reference count are drawn as an inline SVG timeline.

import { noOutcome, siteLine, stretchWords, type FailureReport } from './failure.ts';
import { hunkLines, laneTable, passesText } from './markdown.ts';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface Column { lane: string; label: string; title: string; failing: boolean; step: number; from: string | null }

/** One column per step of the run: each sequential op, and for threads
 * each stretch, in schedule order. */
function columns(r: FailureReport): Column[] {
  const cols: Column[] = [];
  let threadsDrawn = false;
  for (const s of r.steps) {
    const threadStep = /^T\d+$/.test(s.lane);
    if (threadStep && r.interleaving.length > 0) {
      if (threadsDrawn) continue;
      threadsDrawn = true;
      const byIndex = new Map(r.steps.map((x) => [x.index, x]));
      r.interleaving.forEach((e, i) => {
        const step = byIndex.get(e.step)!;
        const lastOfOp = r.interleaving.slice(i + 1).every((x) => x.step !== e.step);
        const words = stretchWords(e);
        const paused = e.paused.map((p) => `; ${p.lane} paused ${p.at === null ? 'at its start' : `before ${siteLine(p.at)}`}`).join('');
        const end = e.end === 'returned' ? ` = ${step.actual ?? noOutcome(r, step)}` : '';
        cols.push({ lane: e.lane, label: e.lane, title: `${step.index}: ${step.op}: from ${words.from} to ${words.to}${end}${paused}`, failing: lastOfOp && step.failing, step: e.step, from: e.from });
      });
      continue;
    }
    cols.push({ lane: s.lane, label: String(s.index), title: `${s.index}: ${s.op} = ${s.actual ?? noOutcome(r, s)}`, failing: s.failing, step: s.index, from: null });
  }
  return cols;
}

export function timelineSvg(r: FailureReport): string {
  const stepW = 30;
  const laneH = 34;
  const left = 90;
  const top = 20;
  const chartH = 70;
  const cols = columns(r);
  const width = left + cols.length * stepW + 20;
  const lanesH = r.lanes.length * laneH;
  const height = top + lanesH + 30 + chartH + 30;
  const parts: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="lanes and reference count over the steps">`];
  r.lanes.forEach((lane, i) => {
    const y = top + i * laneH;
    parts.push(`<text class="lane-name" x="4" y="${y + laneH / 2 + 4}">${esc(lane)}</text>`);
    parts.push(`<line x1="${left}" y1="${y + laneH / 2}" x2="${width - 10}" y2="${y + laneH / 2}" stroke="#ccc"/>`);
  });
  cols.forEach((c, i) => {
    const x = left + i * stepW;
    const y = top + r.lanes.indexOf(c.lane) * laneH + 5;
    parts.push(`<rect class="step${c.failing ? ' failing' : ''}" data-step="${c.step}" x="${x + 2}" y="${y}" width="${stepW - 4}" height="${laneH - 10}" rx="4"><title>${esc(c.title)}</title></rect>`);
    parts.push(`<text class="step-no" x="${x + stepW / 2}" y="${y + laneH / 2}" text-anchor="middle">${esc(c.label)}</text>`);
  });
  const base = top + lanesH + 30 + chartH;
  parts.push(`<text class="lane-name" x="4" y="${base - chartH / 2}">refs</text>`);
  parts.push(`<line x1="${left}" y1="${base}" x2="${width - 10}" y2="${base}" stroke="#999"/>`);
  const maxRefs = Math.max(1, ...r.references.map((e) => e.refs));
  const points = r.references.map((e) => {
    // The stretch that resumed at the event's line ran it; else the op's first.
    const exact = cols.findIndex((c) => c.step === e.step && c.from === e.site);
    const col = exact >= 0 ? exact : cols.findIndex((c) => c.step === e.step);
    const x = left + Math.max(0, col) * stepW + stepW / 2;
    return `${x},${base - (e.refs / maxRefs) * (chartH - 10)}`;
  });
  if (points.length > 0 && r.oracle === 'leak') {
    // Nothing ever drops the last reference: carry the line to the end.
    const lastRefs = r.references[r.references.length - 1].refs;
    const endX = left + cols.length * stepW;
    const endY = base - (lastRefs / maxRefs) * (chartH - 10);
    points.push(`${endX},${endY}`);
    parts.push(`<text class="leak-label" x="${endX - 30}" y="${endY - 8}" fill="#b03030">leaked</text>`);
  }
  if (points.length > 0) {
    parts.push(`<polyline class="refcount" fill="none" stroke="#b03030" stroke-width="2" points="${points.join(' ')}"/>`);
    r.references.forEach((e, i) => {
      if (i >= points.length) return;
      const [x, y] = points[i].split(',');
      parts.push(`<circle class="ref-event" cx="${x}" cy="${y}" r="4"><title>${esc(`step ${e.step}: ${e.event} by ${e.owner}, refs ${e.refs} (${e.site})`)}</title></circle>`);
    });
  } else {
    parts.push(`<text class="lane-name" x="${left + 6}" y="${base - 8}">no buffer is at fault in this failure</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

export function renderReportHtml(r: FailureReport): string {
  const rows = r.steps.map((s) => {
    const got = s.actual ?? noOutcome(r, s);
    const differs = s.expected !== null && s.expected !== got;
    const passes = s.passes.length > 0 ? `<div class="passes">passes ${esc(passesText(s))}</div>` : '';
    return `<tr class="${s.failing ? 'failing' : ''}"><td>${s.index}</td><td>${esc(s.lane)}</td><td>${esc(s.op)}${passes}</td><td>${esc(got)}</td><td>${differs ? esc(s.expected!) : ''}</td></tr>`;
  }).join('\n');
  const refs = r.references.map((e) => `<tr><td>${e.step}</td><td>${esc(e.event)}</td><td>${esc(e.owner)}</td><td>${e.refs}</td><td><code>${esc(e.site)}</code></td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(r.title)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
code,pre{font:13px ui-monospace,monospace}pre{background:#f6f6f6;padding:.5em;overflow:auto;margin:.3em 0}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3em .5em;vertical-align:top;text-align:left}
tr.failing td{background:#fde8e8}mark{background:#fff2a8}.passes{font-size:12px;color:#555}.step{fill:#dbe7f5;stroke:#5b7fa6}.step.failing{fill:#f3b6b6;stroke:#b03030}
.step-no{font:11px sans-serif}.lane-name{font:12px ui-monospace,monospace}.ref-event{fill:#b03030}
</style></head><body>
<h1>${esc(r.title)}</h1>
<p><b>Signature</b> <code>${esc(r.signature)}</code> · <b>severity</b> ${esc(r.severity)} · <b>profile</b> ${esc(r.profile)} (${esc(r.profileTitle)}) · <b>implementation</b> ${esc(r.implementation)}</p>
<h2>What went wrong</h2><p>${esc(r.message)}</p>
${r.violations.length > 1 ? `<p>Every violation the case shows, through teardown; the most severe names it:</p><table class="violations"><thead><tr><th>step</th><th>severity</th><th>signature</th><th>what</th></tr></thead><tbody>${r.violations.map((v) => `<tr${v.names ? ' class="names"' : ''}><td>${v.step}</td><td>${esc(v.severity)}${v.names ? ' (names it)' : ''}</td><td><code>${esc(v.signature)}</code></td><td>${esc(v.message)}</td></tr>`).join('')}</tbody></table>` : ''}
${r.repair ? `<p>${esc(r.repair.finding)}.</p><p><b>Suggested repair</b> (${esc(r.repair.id)}): ${esc(r.repair.repair)}.</p>` : ''}
<h2>Timeline</h2>
${timelineSvg(r)}
<h2>Steps</h2>
<table><thead><tr><th>#</th><th>lane</th><th>op</th><th>result</th><th>spec expected</th></tr></thead><tbody>
${rows}
</tbody></table>
${r.patch.length > 0 ? `<h2>The patch, as the case ran it</h2><p>Each hunk the case passes through, quoted once, with the line numbers of the patched file; a marked line names the steps that passed it.</p>${r.patch.map((h) => `<div class="site"><code>${esc(h.where)}</code><pre>${hunkLines(h).map((l, i) => (h.lines[i].steps.length > 0 ? `<mark>${esc(l)}</mark>` : esc(l))).join('\n')}</pre></div>`).join('')}` : ''}
<h2>Lanes, for mail</h2><pre>${esc(laneTable(r))}</pre>
${refs ? `<h2>Reference history</h2><table><thead><tr><th>step</th><th>event</th><th>by</th><th>refs after</th><th>where</th></tr></thead><tbody>${refs}</tbody></table>${r.oracle === 'leak' ? `<p>After teardown: ${esc(r.message)}.</p>` : ''}` : ''}
<h2>Replay</h2><pre>${esc(r.replay)}</pre>
</body></html>
`;
}
