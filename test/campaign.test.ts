// Campaigns: a campaign killed with SIGKILL and started again on the same
// folder loses no finding and ends exactly where an uninterrupted one does,
// corpus and coverage included; foreign and corrupt files are reported and
// skipped; shards merge.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Guidance every two batches, so most of these batches are guided.
const ARGS = ['--impl', 'rfc-v1', '--runs', '3000', '--batch', '250', '--workers', '1', '--seed', '5', '--guide-every', '2'];

function fuzz(out: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'fuzz', ...ARGS, '--out', out, ...extra], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const findings = (out: string): string[] =>
  readdirSync(join(out, 'findings')).filter((f) => f.endsWith('.json'))
    .map((f) => { const x = JSON.parse(readFileSync(join(out, 'findings', f), 'utf8')); return `${x.signature} ${x.token}`; }).sort();

/** The corpus, file by file, and the coverage counts. */
const guidance = (out: string) => ({
  corpus: readdirSync(join(out, 'corpus')).sort().map((f) => `${f} ${readFileSync(join(out, 'corpus', f), 'utf8')}`),
  coverage: JSON.parse(readFileSync(join(out, 'coverage.json'), 'utf8')) as Record<string, number>,
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('savedsyn fuzz', () => {
  it('killed with SIGKILL mid-campaign and resumed on more workers, it ends with exactly the findings, corpus and coverage of an uninterrupted campaign', async () => {
    const whole = mkdtempSync(join(tmpdir(), 'savedsyn-whole-'));
    fuzz(whole);
    const expected = findings(whole);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    const expectedGuidance = guidance(whole);
    // Guided batches kept cases that reached something new.
    expect(expectedGuidance.corpus.length).toBeGreaterThan(10);
    expect(expectedGuidance.corpus.some((f) => /"batch": ([4-9]|1\d)/.test(f))).toBe(true);

    const cut = mkdtempSync(join(tmpdir(), 'savedsyn-cut-'));
    const child = spawn(process.execPath, ['bin/savedsyn.mjs', 'fuzz', ...ARGS, '--out', cut], { stdio: 'ignore' });
    // Kill it once it has finished a few batches and before it is done.
    let progress = 0;
    for (let i = 0; i < 400 && progress < 3; i++) {
      await sleep(50);
      const state = join(cut, 'state.json');
      if (existsSync(state)) progress = JSON.parse(readFileSync(state, 'utf8')).nextBatch;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));
    expect(progress).toBeGreaterThanOrEqual(3);
    expect(progress).toBeLessThan(12);

    const resumed = fuzz(cut, ['--workers', '2']);
    expect(resumed).toMatch(/resuming at batch (\d+)/);
    const at = Number(/resuming at batch (\d+)/.exec(resumed)![1]);
    // At most the batch in flight was lost.
    expect(at).toBeGreaterThanOrEqual(progress);
    expect(findings(cut)).toEqual(expected);
    expect(guidance(cut)).toEqual(expectedGuidance);
    const stats = (d: string) => JSON.parse(readFileSync(join(d, 'stats.json'), 'utf8'));
    expect(stats(cut).cases).toBe(3000);
    expect(stats(cut).steps).toBe(stats(whole).steps);
  });

  it('reports and skips foreign and corrupt files, and refuses a folder of another campaign', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-junk-'));
    fuzz(out, ['--runs', '1000']);
    writeFileSync(join(out, 'findings', 'broken.json'), '{"signature": ');
    writeFileSync(join(out, 'findings', 'notes.txt'), 'hello');
    const entries = readdirSync(join(out, 'corpus')).sort();
    expect(entries.length).toBeGreaterThan(2);
    writeFileSync(join(out, 'corpus', entries[0]), '{"index": 0, "batch"');
    const second = JSON.parse(readFileSync(join(out, 'corpus', entries[1]), 'utf8'));
    writeFileSync(join(out, 'corpus', entries[1]), JSON.stringify({ ...second, token: `${second.token.slice(0, -3)}abc` }));
    writeFileSync(join(out, 'corpus', 'README'), 'mine');
    const before = JSON.parse(readFileSync(join(out, 'coverage.json'), 'utf8')) as Record<string, number>;
    expect(Object.keys(before).some((k) => k.startsWith('rfc-v1|t:getsockopt:'))).toBe(true);
    expect(Object.keys(before).some((k) => k.startsWith('rfc-v1|s:net/ipv4/tcp.c @@ -2738'))).toBe(true);
    expect(Object.keys(before).some((k) => k.startsWith('rfc-v1|i:'))).toBe(true);
    const again = fuzz(out, ['--runs', '1500']);
    expect(again).toMatch(/coverage: \d+ spec transitions, \d+ implementation sites, \d+ interleavings/);
    // Coverage carries over a resume: counts only grow.
    const after = JSON.parse(readFileSync(join(out, 'coverage.json'), 'utf8')) as Record<string, number>;
    for (const [k, n] of Object.entries(before)) expect(after[k], k).toBeGreaterThanOrEqual(n);
    expect(again).toContain('warning: skipping findings/broken.json: unreadable');
    expect(again).toContain('warning: skipping findings/notes.txt: not a savedsyn finding');
    expect(again).toContain(`warning: skipping corpus/${entries[0]}: unreadable`);
    expect(again).toMatch(new RegExp(`warning: skipping corpus/${entries[1]}: unreadable \\(the token is damaged`));
    expect(again).toContain('warning: skipping corpus/README: not a savedsyn corpus entry');
    const other = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'fuzz', ...ARGS, '--seed', '6', '--out', out], { encoding: 'utf8' });
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/holds a campaign with seed 5/);
    const unguided = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'fuzz', ...ARGS, '--guide-every', '0', '--out', out], { encoding: 'utf8' });
    expect(unguided.status).toBe(2);
    expect(unguided.stderr).toMatch(/--guide-every 2: resume it with the same options/);
  });
});

describe('shards and merge', () => {
  it('two shards merged find what they found, deduplicated, with cases and coverage summed and corpora joined', () => {
    const run = (shard: string) => {
      const out = mkdtempSync(join(tmpdir(), `savedsyn-shard-`));
      const r = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'fuzz', '--impl', 'rfc-v1', '--runs', '1000', '--batch', '250', '--workers', '1', '--guide-every', '1', '--shard', shard, '--out', out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return out;
    };
    const a = run('0/2');
    const b = run('1/2');
    const merged = mkdtempSync(join(tmpdir(), 'savedsyn-merged-'));
    const m = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'merge', '--out', merged, a, b], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/merged: 2000 cases/);
    const names = (d: string) => readdirSync(join(d, 'findings')).filter((f) => f.endsWith('.json'));
    const union = new Set([...names(a), ...names(b)]);
    expect(names(merged).sort()).toEqual([...union].sort());
    expect(JSON.parse(readFileSync(join(merged, 'stats.json'), 'utf8')).cases).toBe(2000);
    const coverage = (d: string) => JSON.parse(readFileSync(join(d, 'coverage.json'), 'utf8')) as Record<string, number>;
    const ca = coverage(a);
    const cb = coverage(b);
    const sum: Record<string, number> = { ...ca };
    for (const [k, n] of Object.entries(cb)) sum[k] = (sum[k] ?? 0) + n;
    expect(coverage(merged)).toEqual(sum);
    const tokens = (d: string) => readdirSync(join(d, 'corpus')).map((f) => JSON.parse(readFileSync(join(d, 'corpus', f), 'utf8')).token as string);
    expect(new Set(tokens(merged))).toEqual(new Set([...tokens(a), ...tokens(b)]));
    expect(tokens(merged).length).toBe(new Set(tokens(merged)).size);
  });
});
