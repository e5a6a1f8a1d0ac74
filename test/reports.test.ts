// The committed reports regenerate byte for byte from their seeds, each
// carries a token that replays its finding, and each form shows the case.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import { generateRfcV1Reports } from '../fuzz/committed-reports.ts';
import { reportFiles, reportFor } from '../reports/committed.ts';
import type { FailureReport } from '../reports/failure.ts';
import { decodeToken } from '../reports/token.ts';

const ROOT = join(import.meta.dirname, '..');
const DIR = join(ROOT, 'reports/rfc-v1');
const generated = generateRfcV1Reports();

describe('reports/rfc-v1', () => {
  it('holds exactly what the generator writes, byte for byte (npm run reports regenerates it)', () => {
    const committed = [
      ...readdirSync(DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
        .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/')),
      ...readdirSync(join(ROOT, 'test/regressions')).map((f) => `test/regressions/${f}`),
    ];
    expect(committed.sort()).toEqual([...generated.keys()].sort());
    for (const [path, text] of generated) expect(readFileSync(join(ROOT, path), 'utf8'), path).toBe(text);
  });

  for (const [id, r] of Object.entries(REPAIRS)) {
    it(`${id}: the committed token replays ${r.signature}, and the repair passes it`, () => {
      const report = JSON.parse(readFileSync(join(DIR, `${id}.json`), 'utf8')) as FailureReport;
      const c = decodeToken(report.token);
      const again = reportFor(c)!;
      expect(again.signature).toBe(r.signature);
      // The token alone regenerates all three forms, byte for byte.
      for (const [name, text] of reportFiles(again, id)) expect(text, name).toBe(readFileSync(join(DIR, name), 'utf8'));
      expect(reportFor({ ...c, impl: 'rfc-v1-fixed' })).toBeUndefined();
      const md = readFileSync(join(DIR, `${id}.md`), 'utf8');
      expect(md).toContain(`# ${r.title}`);
      expect(md).toContain('```mermaid\nsequenceDiagram');
      expect(md).toContain(`npx savedsyn replay ${report.token}`);
      const html = readFileSync(join(DIR, `${id}.html`), 'utf8');
      expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      const drawn = report.steps.filter((s) => !/^T\d+$/.test(s.lane)).length + report.interleaving.length;
      expect(html.match(/<rect class="step/g)?.length).toBe(drawn);
      // A leak shows at quiescence, after the last step: the reference line says it instead.
      if (report.oracle === 'leak') expect(html).toContain('>leaked</text>');
      else expect(html.match(/<rect class="step failing"/g)?.length).toBe(1);
    });
  }

  it('savedsyn replay reproduces every committed token', async () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-replay-'));
    for (const [id, r] of Object.entries(REPAIRS)) {
      const { token } = JSON.parse(readFileSync(join(DIR, `${id}.json`), 'utf8')) as FailureReport;
      const lines: string[] = [];
      expect(await main(['replay', token, '--out', out, '--quiet'], (l) => lines.push(l)), id).toBe(1);
      expect(lines[0]).toBe(`fails: ${r.signature} (rfc-v1, profile rfc-v1)`);
    }
  });

  it('the index names every finding with its severity, trigger and repair', () => {
    const index = readFileSync(join(DIR, 'index.md'), 'utf8');
    for (const [id, r] of Object.entries(REPAIRS)) expect(index).toContain(`[${r.title}](${id}.md) | ${r.severity} |`);
  });
});
