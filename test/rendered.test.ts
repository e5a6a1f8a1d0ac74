// The reports as a person sees them: each committed HTML page rendered by
// headless Chromium, its screenshot checked for the lanes, the failing step
// and the reference-count line; each Mermaid diagram parsed by Mermaid; a
// campaign's dashboard opened from disk, its plots drawn and its links whole.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { SERIES_COLORS } from '../fuzz/campaign/dashboard.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import type { FailureReport } from '../reports/failure.ts';
import { mermaid } from '../reports/markdown.ts';
import { SAVEDSYN } from './built.ts';

const ROOT = join(import.meta.dirname, '..');
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const profileDir = mkdtempSync(join(tmpdir(), 'savedsyn-chromium-'));

function chromium(args: string[]): string {
  const r = spawnSync(CHROMIUM!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profileDir}`, ...args,
  ], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`chromium failed: ${r.stderr}`);
  return r.stdout;
}

/** How many pixels of the screenshot are (nearly) this colour. */
function count(png: PNG, [r, g, b]: [number, number, number]): number {
  let n = 0;
  for (let i = 0; i < png.data.length; i += 4) {
    if (Math.abs(png.data[i] - r) < 6 && Math.abs(png.data[i + 1] - g) < 6 && Math.abs(png.data[i + 2] - b) < 6) n++;
  }
  return n;
}

const STEP_FILL: [number, number, number] = [0xdb, 0xe7, 0xf5];
const FAILING_FILL: [number, number, number] = [0xf3, 0xb6, 0xb6];
const REFCOUNT: [number, number, number] = [0xb0, 0x30, 0x30];

it.runIf(CHROMIUM === undefined)('Chromium is not installed here (.ci/run installs it), so reports are not rendered', () => {
  expect(CHROMIUM).toBeUndefined();
});

it.runIf(CHROMIUM === undefined)('Chromium is not installed here (.ci/run installs it), so the campaign dashboard is not rendered', () => {
  expect(CHROMIUM).toBeUndefined();
});

const rgb = (hex: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16)) as [number, number, number];

describe.runIf(CHROMIUM !== undefined)('the campaign dashboard rendered in headless Chromium', () => {
  it('opened from disk, it draws every plot\'s lines, and every link on it resolves to a file of the folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'savedsyn-dashboard-'));
    const r = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', '--impl', 'rfc-v1', '--runs', '1200', '--batch', '200', '--workers', '1', '--out', dir], {
      encoding: 'utf8', timeout: 120_000, env: { ...process.env, GITHUB_STEP_SUMMARY: '' },
    });
    expect(r.status, r.stderr).toBe(0);
    const page = pathToFileURL(join(dir, 'index.html'));
    const dom = chromium(['--dump-dom', page.href]);
    // Each plot, as the browser built it, has its lines with their points.
    const plots = [...dom.matchAll(/<svg [^>]*data-plot="([^"]+)"[^>]*>([\s\S]*?)<\/svg>/g)];
    expect(plots.map((m) => m[1]).sort()).toEqual(['cases-per-second', 'coverage-cases', 'coverage-time', 'steps-per-second']);
    for (const [, plot, body] of plots) {
      const lines = [...body.matchAll(/<polyline data-series="([^"]+)"[^>]* points="([^"]+)"/g)];
      expect(lines.length, plot).toBeGreaterThan(0);
      for (const [, series, points] of lines) expect(points.trim().split(/\s+/).length, `${plot} ${series}`).toBeGreaterThanOrEqual(2);
    }
    // Every link resolves, and each finding's report and JSON are among them.
    const targets = [...dom.matchAll(/href="([^"]*)"/g)].map((m) => fileURLToPath(new URL(m[1].replace(/&amp;/g, '&'), page)));
    for (const t of targets) expect(existsSync(t), t).toBe(true);
    const findings = readdirSync(join(dir, 'findings'));
    expect(findings.length).toBeGreaterThanOrEqual(6);
    for (const f of findings) expect(targets).toContain(join(dir, 'findings', f));
    // And the lines are on screen: a legend swatch is about 54 pixels of a
    // series' colour, a line across a plot many hundreds.
    const shot = join(profileDir, 'dashboard.png');
    chromium(['--window-size=1280,4000', `--screenshot=${shot}`, page.href]);
    const png = PNG.sync.read(readFileSync(shot));
    for (const [series, colour] of Object.entries(SERIES_COLORS)) expect(count(png, rgb(colour)), series).toBeGreaterThan(400);
  });
});

describe.runIf(CHROMIUM !== undefined)('reports rendered in headless Chromium', () => {
  for (const [id, r] of Object.entries(REPAIRS)) {
    it(`${id}: the lanes, the failing step and the reference timeline are drawn`, () => {
      const report = JSON.parse(readFileSync(join(ROOT, `reports/rfc-v1/${id}.json`), 'utf8')) as FailureReport;
      const shot = join(profileDir, `${id}.png`);
      chromium(['--window-size=1100,900', `--screenshot=${shot}`, pathToFileURL(join(ROOT, `reports/rfc-v1/${id}.html`)).href]);
      const png = PNG.sync.read(readFileSync(shot));
      // Every lane box is drawn: a box is at least 20x20 pixels of fill.
      expect(count(png, STEP_FILL)).toBeGreaterThanOrEqual(300 * (report.steps.length - 1));
      if (r.severity === 'leak') {
        expect(count(png, REFCOUNT)).toBeGreaterThan(100);
      } else {
        expect(count(png, FAILING_FILL)).toBeGreaterThan(300);
      }
    });
  }

  it('every Mermaid diagram parses, and a broken one does not', () => {
    const diagrams = Object.keys(REPAIRS).map((id) => mermaid(JSON.parse(readFileSync(join(ROOT, `reports/rfc-v1/${id}.json`), 'utf8')) as FailureReport));
    const check = (texts: string[]): string => {
      const page = join(profileDir, 'mermaid.html');
      writeFileSync(page, `<!doctype html><html><head><title>pending</title>
<script src="${pathToFileURL(join(ROOT, 'node_modules/mermaid/dist/mermaid.min.js')).href}"></script></head><body><script>
(async () => {
  const out = [];
  for (const t of ${JSON.stringify(texts)}) {
    try { await mermaid.parse(t); out.push('ok'); } catch (e) { out.push('error: ' + String(e.message || e).split('\\n')[0]); }
  }
  document.title = 'mermaid ' + out.join(' | ');
})();
</script></body></html>`);
      const dom = chromium(['--dump-dom', '--virtual-time-budget=10000', '--allow-file-access-from-files', pathToFileURL(page).href]);
      return /<title>([^<]*)<\/title>/.exec(dom)?.[1] ?? 'no title';
    };
    expect(check(diagrams)).toBe(`mermaid ${diagrams.map(() => 'ok').join(' | ')}`);
    expect(check(['sequenceDiagram\n    A->>: missing target'])).toMatch(/^mermaid error/);
  });
});
