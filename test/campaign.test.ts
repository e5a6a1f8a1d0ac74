// Campaigns: a campaign killed with SIGKILL and started again on the same
// folder loses no finding; foreign and corrupt files are reported, skipped.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ARGS = ['--impl', 'rfc-v1', '--runs', '3000', '--batch', '250', '--workers', '1', '--seed', '5'];

function fuzz(out: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'fuzz', ...ARGS, '--out', out, ...extra], { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

const findings = (out: string): string[] =>
  readdirSync(join(out, 'findings')).filter((f) => f.endsWith('.json'))
    .map((f) => { const x = JSON.parse(readFileSync(join(out, 'findings', f), 'utf8')); return `${x.signature} ${x.token}`; }).sort();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('savedsyn fuzz', () => {
  it('killed with SIGKILL mid-campaign and resumed, it ends with exactly the findings of an uninterrupted campaign', async () => {
    const whole = mkdtempSync(join(tmpdir(), 'savedsyn-whole-'));
    fuzz(whole);
    const expected = findings(whole);
    expect(expected.length).toBeGreaterThanOrEqual(3);

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

    const resumed = fuzz(cut);
    expect(resumed).toMatch(/resuming at batch (\d+)/);
    const at = Number(/resuming at batch (\d+)/.exec(resumed)![1]);
    // At most the batch in flight was lost.
    expect(at).toBeGreaterThanOrEqual(progress);
    expect(findings(cut)).toEqual(expected);
  });

  it('reports and skips foreign and corrupt files, and refuses a folder of another campaign', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-junk-'));
    fuzz(out, ['--runs', '250']);
    writeFileSync(join(out, 'findings', 'broken.json'), '{"signature": ');
    writeFileSync(join(out, 'findings', 'notes.txt'), 'hello');
    const before = JSON.parse(readFileSync(join(out, 'coverage.json'), 'utf8')) as string[];
    expect(before.some((k) => k.startsWith('rfc-v1|t:getsockopt:'))).toBe(true);
    expect(before.some((k) => k.startsWith('rfc-v1|s:net/ipv4/tcp.c @@ -2738'))).toBe(true);
    const again = fuzz(out, ['--runs', '500']);
    expect(again).toMatch(/coverage: \d+ spec transitions, \d+ implementation sites/);
    // Coverage carries over a resume: nothing seen before is forgotten.
    const after = new Set(JSON.parse(readFileSync(join(out, 'coverage.json'), 'utf8')) as string[]);
    for (const k of before) expect(after.has(k), k).toBe(true);
    expect(again).toContain('warning: skipping findings/broken.json: unreadable');
    expect(again).toContain('warning: skipping findings/notes.txt: not a savedsyn finding');
    const other = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'fuzz', ...ARGS, '--seed', '6', '--out', out], { encoding: 'utf8' });
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/holds a campaign with seed 5/);
  });
});

describe('shards and merge', () => {
  it('two shards merged find what they found, deduplicated, with the cases summed', () => {
    const run = (shard: string) => {
      const out = mkdtempSync(join(tmpdir(), `savedsyn-shard-`));
      const r = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'fuzz', '--impl', 'rfc-v1', '--runs', '1000', '--batch', '250', '--workers', '1', '--shard', shard, '--out', out], { encoding: 'utf8' });
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
  });
});
