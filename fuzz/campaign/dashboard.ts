// A campaign folder as one page: what was found and how to replay it, how
// coverage and speed went over time, and what is still barely reached. A
// pure function of a plain data object, so it is tested without a folder,
// and the page is self-contained: no script, no fetch, plots inline.

import type { CoverageFigures } from './coverage.ts';
import { esc, linePlot, type Series } from './plot.ts';
import type { Sample } from './timeline.ts';
import { replayCommand } from '../../reports/replay-command.ts';

export interface DashboardFinding {
  /** The file name under findings/, without .md or .json. */
  name: string;
  impl: string;
  signature: string;
  title: string;
  message: string;
  token: string;
  /** Which of findings/<name>.md and .json exist, so no link dangles. */
  files: { md: boolean; json: boolean };
}

interface Common {
  /** The folder, as the page names it. */
  folder: string;
  /** When the page was written, for telling a stale page from a live one. */
  written: string;
  cases: number;
  corpus: number;
  coverage: CoverageFigures;
  findings: DashboardFinding[];
  /** Disagreements with the live kernel that did not persist (flaky/). */
  flaky?: number;
  leastReached: Array<{ key: string; cases: number }>;
  /** Other files of the folder worth a link, relative to it. */
  files: string[];
  warnings: string[];
}

export interface CampaignDashboard extends Common {
  kind: 'campaign';
  seed: number;
  shard: string;
  impls: string[];
  guideEvery: number;
  steps: number;
  /** Batches committed, over every run of the campaign. */
  batches: number;
  samples: Sample[];
}

export interface MergedInput {
  /** The folder as it was given to merge. */
  label: string;
  seed?: number;
  shard?: string;
  impls: string[];
  cases: number;
  steps: number;
  samples: Sample[];
}

export interface MergeDashboard extends Common {
  kind: 'merge';
  inputs: MergedInput[];
}

export type DashboardData = CampaignDashboard | MergeDashboard;

/** Each series' colour, one for each, used nowhere else on the page, so a
 * screenshot's pixels of that colour are that series' line. */
export const SERIES_COLORS = {
  transitions: '#1f5fbf', sites: '#c0392b', interleavings: '#1e8c4e', cases: '#7b3fa0', steps: '#d9822b',
} as const;

const COVERAGE: Array<{ id: keyof CoverageFigures; label: string }> = [
  { id: 'transitions', label: 'spec transitions' },
  { id: 'sites', label: 'implementation sites' },
  { id: 'interleavings', label: 'interleavings' },
];

/** Whether the campaign has finished: only its final sample says so. A
 * campaign killed mid-run leaves a page that still says running, with the
 * time it was written to tell. */
export function status(samples: readonly Sample[]): 'running' | 'finished' | 'unknown' {
  if (samples.length === 0) return 'unknown';
  return samples[samples.length - 1].end ? 'finished' : 'running';
}

export function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** A time axis in a unit its numbers read well in. Time a campaign was
 * stopped for is not on it: a resume goes on from its last sample. */
function timeAxis(samples: readonly Sample[]): { div: number; label: string } {
  const max = samples.length ? samples[samples.length - 1].seconds : 0;
  if (max >= 3 * 3600) return { div: 3600, label: 'hours running' };
  if (max >= 300) return { div: 60, label: 'minutes running' };
  return { div: 1, label: 'seconds running' };
}

/** Average rate over each interval between samples of one run, drawn flat
 * across the interval: a rate is a property of an interval, not a point. */
function rate(samples: readonly Sample[], of: 'cases' | 'steps', div: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    const dt = b.seconds - a.seconds;
    if (b.run !== a.run || dt <= 0) continue;
    const r = (b[of] - a[of]) / dt;
    out.push([a.seconds / div, r], [b.seconds / div, r]);
  }
  return out;
}

/** The four plots of one campaign's timeline. */
function timePlots(samples: readonly Sample[], attrs?: Record<string, string>): string {
  const t = timeAxis(samples);
  const resumes = samples.filter((s, i) => i > 0 && s.run !== samples[i - 1].run).map((s) => ({ x: s.seconds / t.div, label: `resumed at ${s.cases} cases` }));
  const coverage = (x: (s: Sample) => number): Series[] =>
    COVERAGE.map((c) => ({ id: c.id, label: c.label, color: SERIES_COLORS[c.id], points: samples.map((s): [number, number] => [x(s), s[c.id]]) }));
  return [
    linePlot({ id: 'coverage-cases', title: 'Coverage against cases', x: 'cases', y: 'distinct keys reached', series: coverage((s) => s.cases), attrs }),
    linePlot({ id: 'coverage-time', title: 'Coverage against wall time', x: t.label, y: 'distinct keys reached', series: coverage((s) => s.seconds / t.div), marks: resumes, attrs }),
    linePlot({ id: 'cases-per-second', title: 'Cases per second', x: t.label, y: 'cases/s', series: [{ id: 'cases', label: 'cases/s', color: SERIES_COLORS.cases, points: rate(samples, 'cases', t.div) }], marks: resumes, attrs }),
    linePlot({ id: 'steps-per-second', title: 'Steps per second', x: t.label, y: 'steps/s', series: [{ id: 'steps', label: 'steps/s', color: SERIES_COLORS.steps, points: rate(samples, 'steps', t.div) }], marks: resumes, attrs }),
  ].join('\n');
}

/** A relative link to a file of the folder, each path segment encoded. */
const href = (path: string): string => esc(path.split('/').map(encodeURIComponent).join('/'));

/** Cells are HTML already: the caller escapes what it puts in. */
const row = (cells: Array<string | number>): string => `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`;

function findingsSection(d: DashboardData): string {
  if (d.findings.length === 0) return '<section id="findings"><h2>Findings</h2><p class="none">No findings yet.</p></section>';
  const items = d.findings.map((f) => {
    const links = [
      f.files.md ? `<a href="${href(`findings/${f.name}.md`)}">report</a>` : '<span class="missing">report missing</span>',
      f.files.json ? `<a href="${href(`findings/${f.name}.json`)}">JSON</a>` : '<span class="missing">JSON missing</span>',
    ].join(' · ');
    return `<article class="finding" data-signature="${esc(f.signature)}">
<h3><span class="impl">${esc(f.impl)}</span> <code class="signature">${esc(f.signature)}</code></h3>
<p class="title">${esc(f.title)}</p>
<p class="message">${esc(f.message)}</p>
<p class="links">${links}</p>
<pre class="replay"><code>${esc(replayCommand(f.token, f.impl))}</code></pre>
</article>`;
  });
  return `<section id="findings"><h2>Findings (${d.findings.length})</h2>\n${items.join('\n')}\n</section>`;
}

function leastReachedSection(d: DashboardData): string {
  if (d.leastReached.length === 0) return '<section id="least-reached"><h2>Least-reached coverage keys</h2><p class="none">No coverage recorded yet.</p></section>';
  const kinds: Record<string, string> = { t: 'transition', s: 'site', i: 'interleaving' };
  const rows = d.leastReached.map(({ key, cases }) => {
    const bar = key.indexOf('|');
    const rest = key.slice(bar + 1);
    return row([esc(key.slice(0, bar)), esc(kinds[rest.charAt(0)] ?? rest.charAt(0)), `<code>${esc(rest.slice(2))}</code>`, cases]);
  });
  return `<section id="least-reached"><h2>Least-reached coverage keys</h2>
<p>The ${d.leastReached.length} keys the fewest cases reached: what guidance works on next.</p>
<table class="least-reached"><thead><tr><th>implementation</th><th>kind</th><th>key</th><th>cases</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></section>`;
}

function headline(d: DashboardData): string {
  const c = d.coverage;
  const cells: Array<[string, string]> = [];
  if (d.kind === 'campaign') {
    const last = d.samples[d.samples.length - 1];
    const st = status(d.samples);
    cells.push(
      ['status', st === 'unknown' ? 'unknown (no timeline.json)' : st],
      ['seed', String(d.seed)], ['shard', d.shard], ['implementations', d.impls.join(', ')],
      ['cases', String(d.cases)], ['steps', String(d.steps)], ['batches', String(d.batches)],
      ['guidance', d.guideEvery > 0 ? `every ${d.guideEvery} batches` : 'off'],
      ['elapsed', last ? duration(last.seconds) : 'unknown'],
    );
  } else {
    cells.push(['status', `merged from ${d.inputs.length} folder${d.inputs.length === 1 ? '' : 's'}`], ['cases', String(d.cases)]);
  }
  cells.push(
    ['corpus', `${d.corpus} cases`], ['findings', String(d.findings.length)],
    ...(d.flaky ? [['flaky', `${d.flaky} kernel disagreement${d.flaky === 1 ? '' : 's'} that did not persist, not findings (flaky/)`] as [string, string]] : []),
    ['coverage', `${c.transitions} spec transitions, ${c.sites} implementation sites, ${c.interleavings} interleavings`],
  );
  return `<table class="headline"><tbody>
${cells.map(([k, v]) => `<tr><th>${esc(k)}</th><td data-field="${esc(k)}">${esc(v)}</td></tr>`).join('\n')}
</tbody></table>`;
}

function timeSection(d: DashboardData): string {
  if (d.kind === 'campaign') {
    return `<section id="over-time"><h2>Over time</h2>
<p>One sample each time the campaign saved its state (at most once a second); a dashed line marks a resume, timed from where the campaign stopped.</p>
<div class="plots">${timePlots(d.samples)}</div></section>`;
  }
  const per = d.inputs.map((inp) => `<div class="input" data-input="${esc(inp.label)}"><h3>${esc(inp.label)}${inp.shard ? ` (shard ${esc(inp.shard)})` : ''}</h3>
<div class="plots">${timePlots(inp.samples, { 'data-input': inp.label })}</div></div>`);
  return `<section id="over-time"><h2>Over time, per input</h2>
<p>Each input ran on its own clock, so time plots are per input folder; the merged coverage is not the sum of theirs, and has no timeline of its own.</p>
${per.join('\n')}</section>`;
}

function inputsSection(d: MergeDashboard): string {
  const rows = d.inputs.map((i) => {
    const last = i.samples[i.samples.length - 1];
    return row([esc(i.label), esc(i.seed === undefined ? '?' : String(i.seed)), esc(i.shard ?? '?'), esc(i.impls.join(', ')), i.cases, i.steps,
      esc(last ? duration(last.seconds) : 'unknown'), esc(status(i.samples))]);
  });
  return `<section id="inputs"><h2>Inputs</h2>
<table class="inputs"><thead><tr><th>folder</th><th>seed</th><th>shard</th><th>implementations</th><th>cases</th><th>steps</th><th>elapsed</th><th>status</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table></section>`;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1340px; padding: 0 16px; color: #1b1b1b; background: #fff; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; } h3 { font-size: 15px; margin: 8px 0 4px; }
table { border-collapse: collapse; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
.headline th { background: #f4f4f4; font-weight: 600; }
.finding { border: 1px solid #ddd; border-radius: 6px; padding: 6px 12px; margin: 10px 0; }
.finding .impl { color: #555; font-weight: normal; } .finding .title { font-weight: 600; margin: 4px 0; } .finding .message { margin: 4px 0; color: #333; }
pre.replay { background: #f6f6f6; padding: 6px 8px; white-space: pre-wrap; word-break: break-all; margin: 6px 0; }
.plots { display: flex; flex-wrap: wrap; gap: 8px 24px; } .plot-box { margin: 0; }
svg.plot { background: #fff; } svg.plot .grid { stroke: #e6e6e6; } svg.plot .axis { stroke: #555; } svg.plot .mark { stroke: #888; stroke-dasharray: 4 3; }
svg.plot text { font: 11px system-ui, sans-serif; fill: #333; } svg.plot .axis-label { font-size: 12px; }
p.plot.empty { width: 600px; height: 60px; line-height: 60px; text-align: center; color: #777; border: 1px dashed #ccc; margin: 0; }
.least-reached code { white-space: pre-wrap; word-break: break-all; }
.warnings { color: #8a4b00; } .missing, .none, .written { color: #777; }
`;

/** What marks a page as a dashboard savedsyn wrote, and so its own to
 * write over. */
export const GENERATOR = '<meta name="generator" content="savedsyn">';

/** Whether `html` is a dashboard savedsyn wrote (pages from before the
 * mark have its title and the line that says when they were written). */
export function isDashboard(html: string): boolean {
  return html.includes(GENERATOR) || (/<title>savedsyn (campaign|merged campaigns): /.test(html) && html.includes('<p class="written">'));
}

export function renderDashboard(d: DashboardData): string {
  const title = d.kind === 'campaign'
    ? `savedsyn campaign: ${d.findings.length} finding${d.findings.length === 1 ? '' : 's'}, ${d.cases} cases`
    : `savedsyn merged campaigns: ${d.findings.length} finding${d.findings.length === 1 ? '' : 's'}, ${d.cases} cases`;
  // A running campaign's page reloads itself, so a browser left open on it
  // follows the campaign; a finished one stays put.
  const refresh = d.kind === 'campaign' && status(d.samples) === 'running' ? '\n<meta http-equiv="refresh" content="5">' : '';
  const files = d.files.length
    ? `<p class="files">Files: ${d.files.map((f) => `<a href="${href(f)}">${esc(f)}</a>`).join(' · ')}</p>`
    : '';
  const warnings = d.warnings.length
    ? `<section class="warnings"><h2>Warnings</h2><ul>${d.warnings.map((w) => `<li>${esc(w)}</li>`).join('')}</ul></section>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">${refresh}
${GENERATOR}
<title>${esc(title)}</title>
<style>${STYLE}</style>
</head><body>
<h1>${esc(title)}</h1>
<p class="written">${esc(d.folder)} · page written ${esc(d.written)}</p>
${headline(d)}
${files}
${warnings}
${findingsSection(d)}
${d.kind === 'merge' ? inputsSection(d) : ''}
${timeSection(d)}
${leastReachedSection(d)}
</body></html>
`;
}

