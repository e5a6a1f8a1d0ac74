// The reports as a person sees them: each committed HTML page rendered by
// headless Chromium, its screenshot checked for the lanes, the failing step
// and the reference-count line; each Mermaid diagram parsed by Mermaid.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import type { FailureReport } from '../reports/failure.ts';
import { mermaid } from '../reports/markdown.ts';

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
