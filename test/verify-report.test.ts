import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { decodeToken } from '../reports/token.ts';

/** rfc-v1's single-thread findings and races within a few seconds. */
const RACES = ['verify', '--impl', 'rfc-v1', '--depth', '6', '--pair-depth', '6', '--pair-from', '5', '--workers', '0', '--quiet',
  '--ops', 'listen=0,setsockopt=1,syn,ack,accept,getsockopt,tcp_fastopen=1'];

describe('what verify writes', () => {
  it('report.md and report.json hold every counterexample, races too, and report.md leads with the certificate', async () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-verify-report-'));
    const lines: string[] = [];
    expect(await main([...RACES, '--out', out], (l) => lines.push(l))).toBe(1);
    const result = JSON.parse(readFileSync(join(out, 'verify.json'), 'utf8')) as { findings: { signature: string }[]; races: { signature: string }[] };
    expect(result.findings.length).toBeGreaterThan(0);
    expect(result.races.length).toBeGreaterThan(0);

    const md = readFileSync(join(out, 'report.md'), 'utf8');
    const certificate = readFileSync(join(out, 'certificate.txt'), 'utf8');
    expect(md.startsWith('# savedsyn verify: rfc-v1\n\n```\nsavedsyn verify: ')).toBe(true);
    // The certificate whole but for its time, which would make two runs differ.
    expect(md).toContain(certificate.replace(/\n {2}time .*$/m, ''));
    expect(md).not.toMatch(/^ {2}time /m);
    for (const f of [...result.findings, ...result.races]) expect(md).toContain(`### ${f.signature}\n`);

    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      implementations: Array<{ findings: { signature: string }[]; races: { signature: string; scheduler: string; token: string }[]; concurrentCases: number }>;
    };
    const [impl] = json.implementations;
    expect(impl.findings.map((f) => f.signature)).toEqual(result.findings.map((f) => f.signature));
    expect(impl.races.map((f) => f.signature)).toEqual(result.races.map((f) => f.signature));
    expect(impl.races.every((r) => r.scheduler === 'exhaustive' && decodeToken(r.token).kind === 'concurrent')).toBe(true);
    expect(impl.concurrentCases).toBeGreaterThan(0);
  });

  it('without a counterexample, report.md is the certificate', async () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-verify-report-'));
    expect(await main(['verify', '--impl', 'linux', '--depth', '2', '--pair-depth', '-1', '--workers', '0', '--quiet', '--out', out], () => {})).toBe(0);
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/^# savedsyn verify: linux\n\n```\nsavedsyn verify: no counterexample in any sequence of at most 2 ops\n/);
    expect(md).not.toContain('##');
  });
});
