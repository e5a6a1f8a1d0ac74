// The campaign dashboard: the page renders every finding with working links
// and its replay command, escapes what campaigns put in it, draws each plot
// from the samples it has; a campaign keeps the page and its timeline up to
// date across resumes, merge writes one for the merged folder, and the
// GitHub step summary is appended to, never overwritten.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderDashboard, type CampaignDashboard, type DashboardFinding, type MergeDashboard } from '../fuzz/campaign/dashboard.ts';
import { appendSample, readTimeline, type Sample } from '../fuzz/campaign/timeline.ts';
import { appendStepSummary, campaignStepSummary } from '../reports/step-summary.ts';
import { SAVEDSYN } from './built.ts';

const tmp = (name: string) => mkdtempSync(join(tmpdir(), `savedsyn-${name}-`));

const sample = (i: number, over: Partial<Sample> = {}): Sample =>
  ({ seconds: i * 1.5, run: 0, cases: i * 200, steps: i * 2500, transitions: 10 + i, sites: 5 + i, interleavings: 20 + 3 * i, ...over });

const finding = (name: string, signature: string, over: Partial<DashboardFinding> = {}): DashboardFinding => ({
  name, impl: 'rfc-v1', signature, title: `title of ${name}`, message: `message of ${name}`, token: `ssyn1.${name}Token.0123abcd`,
  files: { md: true, json: true }, ...over,
});

function campaign(over: Partial<CampaignDashboard> = {}): CampaignDashboard {
  return {
    kind: 'campaign', folder: '/tmp/c', written: '2024-01-01T00:00:00.000Z', seed: 7, shard: '0/1', impls: ['rfc-v1'], guideEvery: 64,
    cases: 1000, steps: 12500, batches: 5, corpus: 42, coverage: { transitions: 15, sites: 10, interleavings: 35 },
    findings: [finding('rfc-v1-state_accept_flag-91d86e93', 'state:accept:flag'), finding('rfc-v1-leak-3734673e', 'leak:net/ipv4/x.c f')],
    leastReached: [{ key: 'rfc-v1|s:net/ipv4/tcp.c | if ((1 << sk->sk_state) & TCPF_LISTEN)', cases: 1 }, { key: 'rfc-v1|t:listen:ok', cases: 3 }],
    files: ['stats.json', 'coverage.json', 'timeline.json'], warnings: [],
    samples: [0, 1, 2, 3, 4, 5].map((i) => sample(i)), ...over,
  };
}

/** Each polyline of plot `plot` (and input `input`, on a merged page), by
 * series, as its number of points. */
function polylines(html: string, plot: string, input?: string): Record<string, number> {
  const svgs = [...html.matchAll(/<svg [^>]*class="plot" data-plot="([^"]+)"(?: data-input="([^"]*)")?[^>]*>([\s\S]*?)<\/svg>/g)]
    .filter((m) => m[1] === plot && (input === undefined || m[2] === input));
  expect(svgs, `one ${plot} plot${input ? ` for ${input}` : ''}`).toHaveLength(1);
  const out: Record<string, number> = {};
  for (const m of svgs[0][3].matchAll(/<polyline data-series="([^"]+)"[^>]* points="([^"]*)"/g)) out[m[1]] = m[2].trim().split(/\s+/).length;
  return out;
}

/** Every href of the page, resolved against the page's own file. */
function links(page: string, html: string): string[] {
  const base = pathToFileURL(page);
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => fileURLToPath(new URL(m[1].replace(/&amp;/g, '&'), base)));
}

describe('the dashboard page', () => {
  it('shows every finding with relative links to its report and JSON, and its replay command in a code block', () => {
    const d = campaign();
    const html = renderDashboard(d);
    for (const f of d.findings) {
      expect(html).toContain(`href="findings/${f.name}.md"`);
      expect(html).toContain(`href="findings/${f.name}.json"`);
      expect(html).toContain(`<code>npx savedsyn replay ${f.token}</code>`);
      expect(html).toContain(f.title);
      expect(html).toContain(f.message);
    }
    // A report that is not on disk is said to be missing, not linked.
    const gone = renderDashboard(campaign({ findings: [finding('gone', 'state:x', { files: { md: false, json: true } })] }));
    expect(gone).not.toContain('href="findings/gone.md"');
    expect(gone).toContain('report missing');
    // Self-contained: nothing is fetched.
    expect(html).not.toMatch(/<script|<link|src=|@import|url\(/);
    expect(html).toMatch(/<td data-field="seed">7<\/td>/);
    expect(html).toMatch(/<td data-field="status">running<\/td>/);
  });

  it('escapes HTML special characters in signatures, titles, messages, coverage keys and warnings', () => {
    const nasty = `state:<script>alert("x")</script>&'|`;
    const html = renderDashboard(campaign({
      findings: [finding('n', nasty, { title: '<b>t</b>', message: 'a & b < c' })],
      leastReached: [{ key: 'rfc-v1|i:a <x> & "y" | z', cases: 1 }],
      warnings: ['skipping findings/<img>.json'],
    }));
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>t</b>');
    expect(html).not.toContain('<img>');
    expect(html).not.toContain('<x>');
    expect(html).toContain('state:&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;|');
    expect(html).toContain('a &amp; b &lt; c');
    expect(html).toContain('a &lt;x&gt; &amp; &quot;y&quot; | z');
  });

  it('draws each plot with one polyline per series, a point per sample (throughput: each interval flat)', () => {
    const html = renderDashboard(campaign());
    const three = { transitions: 6, sites: 6, interleavings: 6 };
    expect(polylines(html, 'coverage-cases')).toEqual(three);
    expect(polylines(html, 'coverage-time')).toEqual(three);
    expect(polylines(html, 'cases-per-second')).toEqual({ cases: 10 });
    expect(polylines(html, 'steps-per-second')).toEqual({ steps: 10 });
    // Axes carry tick labels and the plot a legend.
    const svg = /<svg [^>]*data-plot="coverage-cases"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(svg.match(/class="tick"/g)!.length).toBeGreaterThanOrEqual(6);
    expect(svg).toContain('>spec transitions</text>');
    expect(svg).toContain('>cases</text>');
    expect(html).not.toContain('not enough samples yet');
  });

  it('says "not enough samples yet" for a plot with fewer than two points, and draws no line', () => {
    const html = renderDashboard(campaign({ samples: [sample(0)] }));
    for (const p of ['coverage-cases', 'coverage-time', 'cases-per-second', 'steps-per-second']) {
      expect(html).toMatch(new RegExp(`<p class="plot empty" data-plot="${p}">not enough samples yet</p>`));
    }
    expect(html).not.toContain('<polyline');
  });

  it('does not draw a rate across a resume, and marks the resume', () => {
    const samples = [sample(0), sample(1), sample(2, { end: true }), sample(2, { run: 1 }), sample(3, { run: 1, end: true })];
    const html = renderDashboard(campaign({ samples }));
    // Two intervals before the resume, one after; none across it.
    expect(polylines(html, 'cases-per-second')).toEqual({ cases: 6 });
    expect(html).toContain('resumed at 400 cases');
    expect(html).toMatch(/<td data-field="status">finished<\/td>/);
    // Only a running campaign's page reloads itself.
    expect(html).not.toContain('http-equiv="refresh"');
    expect(renderDashboard(campaign())).toContain('http-equiv="refresh"');
  });

  it('on a merged page, shows each input\'s timeline as its own plots', () => {
    const d: MergeDashboard = {
      kind: 'merge', folder: '/tmp/m', written: 'now', cases: 2000, corpus: 80, coverage: { transitions: 20, sites: 12, interleavings: 50 },
      findings: [finding('a', 'state:accept:flag')], leastReached: [], files: ['stats.json'], warnings: [],
      inputs: [
        { label: 'shard-0', seed: 1, shard: '0/2', impls: ['rfc-v1'], cases: 1000, steps: 1, samples: [sample(0), sample(1), sample(2)] },
        { label: 'shard-1', seed: 1, shard: '1/2', impls: ['rfc-v1'], cases: 1000, steps: 1, samples: [sample(0)] },
      ],
    };
    const html = renderDashboard(d);
    expect(polylines(html, 'coverage-cases', 'shard-0')).toEqual({ transitions: 3, sites: 3, interleavings: 3 });
    expect(html).toContain('<p class="plot empty" data-plot="coverage-time" data-input="shard-1">not enough samples yet</p>');
    expect(html).toContain('time plots are per input folder');
    expect(html).toMatch(/<td data-field="cases">2000<\/td>/);
  });
});

describe('the timeline file', () => {
  it('a damaged timeline.json is reported and reads as empty', () => {
    const dir = tmp('timeline');
    writeFileSync(join(dir, 'timeline.json'), '{"version":1,"samples":[{"seconds":');
    const warnings: string[] = [];
    expect(readTimeline(dir, warnings)).toEqual([]);
    expect(warnings).toEqual([expect.stringMatching(/^timeline\.json unreadable/)]);
  });

  it('stays bounded however long the campaign, keeping the first, the newest and each resume', () => {
    let samples: Sample[] = [];
    for (let i = 0; i < 5000; i++) samples = appendSample(samples, sample(i, { run: i < 3000 ? 0 : 1 }), 100);
    expect(samples.length).toBeLessThanOrEqual(100);
    expect(samples.length).toBeGreaterThan(40);
    expect(samples[0].cases).toBe(0);
    expect(samples.at(-1)!.cases).toBe(4999 * 200);
    expect(samples.find((s) => s.run === 1)!.cases).toBe(3000 * 200);
    expect(samples.map((s) => s.cases)).toEqual([...samples.map((s) => s.cases)].sort((a, b) => a - b));
  });
});

describe('the step summary', () => {
  it('is written only where GITHUB_STEP_SUMMARY names a file, and escapes table cells', () => {
    const file = join(tmp('summary'), 'summary.md');
    writeFileSync(file, 'before\n');
    appendStepSummary('# not written', {});
    expect(readFileSync(file, 'utf8')).toBe('before\n');
    const md = campaignStepSummary({
      folder: '/x', cases: 10, steps: 100, corpus: 3, newFindings: 1, coverage: { transitions: 1, sites: 2, interleavings: 3 },
      findings: [{ impl: 'rfc-v1', signature: 'a|b<c>', token: 'ssyn1.T.00' }],
    });
    appendStepSummary(md, { GITHUB_STEP_SUMMARY: file });
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('before\n')).toBe(true);
    expect(text).toContain('| rfc-v1 | a\\|b&lt;c&gt; | `npx savedsyn replay ssyn1.T.00` |');
  });
});

/** `savedsyn` with these arguments, its step summary going to `summary`
 * (or nowhere: tests must not write to the summary of the CI job running them). */
function savedsyn(args: string[], summary = ''): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SAVEDSYN, ...args], { env: { ...process.env, GITHUB_STEP_SUMMARY: summary } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const fuzzArgs = (out: string, runs: number, extra: string[] = []) =>
  ['fuzz', '--impl', 'rfc-v1', '--runs', String(runs), '--batch', '200', '--workers', '1', '--out', out, ...extra];

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

describe('savedsyn fuzz and merge keep the dashboard', () => {
  const whole = tmp('dash');
  const shards = [tmp('dash-shard'), tmp('dash-shard')];
  const resumed = tmp('dash-resumed');
  const summary = join(tmp('dash-summary'), 'summary.md');
  let wholeRun: Awaited<ReturnType<typeof savedsyn>>;

  beforeAll(async () => {
    writeFileSync(summary, 'a line from an earlier step\n');
    // Independent campaigns, run side by side to keep the suite short.
    const runs = await Promise.all([
      savedsyn(fuzzArgs(whole, 1200), summary),
      savedsyn(fuzzArgs(shards[0], 400, ['--shard', '0/2'])),
      savedsyn(fuzzArgs(shards[1], 400, ['--shard', '1/2'])),
      savedsyn(fuzzArgs(resumed, 400)),
    ]);
    for (const r of runs) expect(r.status, r.stderr).toBe(0);
    wholeRun = runs[0];
  }, 120_000);

  it('writes index.html and a timeline from 0 cases to the end, and every link of the page resolves', () => {
    const page = join(whole, 'index.html');
    expect(wholeRun.stdout).toContain(`dashboard: ${page}`);
    const samples = json(join(whole, 'timeline.json')).samples as Sample[];
    expect(samples.length).toBeGreaterThanOrEqual(2);
    expect(samples[0]).toMatchObject({ cases: 0, run: 0 });
    expect(samples[0].seconds).toBeLessThan(1);
    expect(samples.at(-1)).toMatchObject({ cases: 1200, end: true });
    const html = readFileSync(page, 'utf8');
    const hrefs = links(page, html);
    const names = readdirSync(join(whole, 'findings')).filter((f) => f.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const n of names) {
      expect(hrefs).toContain(join(whole, 'findings', n));
      expect(hrefs).toContain(join(whole, 'findings', n.replace(/\.json$/, '.md')));
      expect(html).toContain(`npx savedsyn replay ${json(join(whole, 'findings', n)).token}`);
    }
    for (const h of hrefs) expect(existsSync(h), h).toBe(true);
    expect(Object.keys(polylines(html, 'coverage-cases'))).toEqual(['transitions', 'sites', 'interleavings']);
    expect(Object.values(polylines(html, 'coverage-time'))).toEqual([samples.length, samples.length, samples.length]);
    const stats = json(join(whole, 'stats.json'));
    expect(html).toMatch(/<td data-field="status">finished<\/td>/);
    expect(html).toContain(`<td data-field="cases">1200</td>`);
    expect(html).toContain(`${stats.coverage.transitions} spec transitions, ${stats.coverage.sites} implementation sites, ${stats.coverage.interleavings} interleavings`);
    // The least-reached keys, as stats.json has them.
    const rows = [...html.matchAll(/<table class="least-reached">[\s\S]*?<\/table>/g)][0][0].match(/<tr>/g)!.length - 1;
    expect(rows).toBe(stats.rarest.length);
  });

  it('appends a Markdown summary to GITHUB_STEP_SUMMARY, keeping what was there', () => {
    const text = readFileSync(summary, 'utf8');
    expect(text.startsWith('a line from an earlier step\n')).toBe(true);
    expect(text).toContain('### savedsyn fuzz:');
    expect(text).toContain('| Implementation | Signature | Replay |');
    for (const n of readdirSync(join(whole, 'findings')).filter((f) => f.endsWith('.json'))) {
      expect(text).toContain(`\`npx savedsyn replay ${json(join(whole, 'findings', n)).token}\``);
    }
    expect(text).toContain(`\`${whole}\``);
  });

  it('a resumed campaign appends to its timeline, timed on from its last sample; a damaged one is reported and started again', async () => {
    const before = json(join(resumed, 'timeline.json')).samples as Sample[];
    const again = await savedsyn(fuzzArgs(resumed, 600));
    expect(again.status, again.stderr).toBe(0);
    const after = json(join(resumed, 'timeline.json')).samples as Sample[];
    expect(after.slice(0, before.length)).toEqual(before);
    const next = after[before.length];
    expect(next).toMatchObject({ run: 1, cases: 400 });
    expect(next.seconds).toBeGreaterThanOrEqual(before.at(-1)!.seconds);
    expect(after.at(-1)).toMatchObject({ run: 1, cases: 600, end: true });
    for (let i = 1; i < after.length; i++) expect(after[i].seconds).toBeGreaterThanOrEqual(after[i - 1].seconds);
    const coverage = readFileSync(join(resumed, 'coverage.json'), 'utf8');

    writeFileSync(join(resumed, 'timeline.json'), '{"version":1,"samples":[{"seconds":"soon"}]}');
    const damaged = await savedsyn(fuzzArgs(resumed, 600));
    expect(damaged.status, damaged.stderr).toBe(0);
    expect(damaged.stdout).toContain('warning: timeline.json unreadable');
    expect(damaged.stdout).toContain('(the file is kept as timeline.json.unreadable)');
    expect(readFileSync(join(resumed, 'timeline.json.unreadable'), 'utf8')).toBe('{"version":1,"samples":[{"seconds":"soon"}]}');
    expect(json(join(resumed, 'timeline.json')).samples).toEqual([
      expect.objectContaining({ run: 0, cases: 600 }), expect.objectContaining({ run: 0, cases: 600, end: true }),
    ]);
    // Nothing else is lost.
    expect(readFileSync(join(resumed, 'coverage.json'), 'utf8')).toBe(coverage);
    expect(existsSync(join(resumed, 'index.html'))).toBe(true);

    // A second damaged timeline is kept beside the first.
    writeFileSync(join(resumed, 'timeline.json'), 'not json');
    const twice = await savedsyn(fuzzArgs(resumed, 600));
    expect(twice.stdout).toContain('(the file is kept as timeline.json.unreadable-2)');
    expect(readFileSync(join(resumed, 'timeline.json.unreadable'), 'utf8')).toBe('{"version":1,"samples":[{"seconds":"soon"}]}');

    // A page someone else wrote is theirs: the campaign will not write over
    // it, even one that looks like a dashboard's.
    writeFileSync(join(resumed, 'index.html'), '<html><body><p class="written">My notes</p></body></html>\n');
    expect((await savedsyn(fuzzArgs(resumed, 800))).status).toBe(2);
    writeFileSync(join(resumed, 'index.html'), '<h1>my own page</h1>\n');
    const foreign = await savedsyn(fuzzArgs(resumed, 800));
    expect(foreign.status).toBe(2);
    expect(foreign.stderr).toBe(`savedsyn: ${join(resumed, 'index.html')} is not a page savedsyn wrote, and the campaign's dashboard would overwrite it: move it, or give another --out\n`);
    expect(readFileSync(join(resumed, 'index.html'), 'utf8')).toBe('<h1>my own page</h1>\n');
  });

  it('merge writes a page for the merged folder: merged findings, summed cases, each input\'s timeline', async () => {
    const merged = tmp('dash-merged');
    const m = await savedsyn(['merge', '--out', merged, ...shards]);
    expect(m.status, m.stderr).toBe(0);
    const page = join(merged, 'index.html');
    expect(m.stdout).toContain(`dashboard: ${page}`);
    const html = readFileSync(page, 'utf8');
    for (const h of links(page, html)) expect(existsSync(h), h).toBe(true);
    const names = readdirSync(join(merged, 'findings')).filter((f) => f.endsWith('.json'));
    expect(names.length).toBeGreaterThanOrEqual(3);
    for (const n of names) {
      expect(html).toContain(`href="findings/${n}"`);
      expect(html).toContain(`npx savedsyn replay ${json(join(merged, 'findings', n)).token}`);
    }
    expect(html).toContain('<td data-field="cases">800</td>');
    const coverage = json(join(merged, 'stats.json')).coverage;
    expect(html).toContain(`${coverage.transitions} spec transitions, ${coverage.sites} implementation sites, ${coverage.interleavings} interleavings`);
    expect(html).toMatch(/<table class="least-reached">(?:[\s\S]*?<tr>){21}/);
    for (const s of shards) {
      const n = (json(join(s, 'timeline.json')).samples as Sample[]).length;
      expect(polylines(html, 'coverage-cases', s)).toEqual({ transitions: n, sites: n, interleavings: n });
    }
    // The inputs' timelines are kept with the merged folder.
    expect(json(join(merged, 'inputs.json')).inputs.map((i: { label: string }) => i.label)).toEqual(shards);
  });
});
