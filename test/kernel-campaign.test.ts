// Campaigns on the live kernel: `fuzz --impl kernel` runs kernel-lane
// sequences in batches and leaves the folder any campaign leaves (corpus,
// coverage, state, findings), resumes where it stopped, and its tokens
// replay on the kernel. A disagreement is a finding only once confirmed;
// with the spec made wrong on purpose, the campaign must catch it. Where
// the lane cannot run, the command and a kernel token exit 2.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { campaign } from '../api/campaign.ts';
import { cli, main } from '../cli/main.ts';
import { mergeCampaigns } from '../fuzz/campaign/merge.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { TCP_SAVED_SYN, type Op, type Outcome } from '../model/ops.ts';
import type { SpecWorld } from '../model/spec/world.ts';
import { decodeToken, encodeToken } from '../reports/token.ts';
import { SAVEDSYN } from './built.ts';

/** The linux spec made wrong on purpose: while `flips` lasts, inside a
 * differential run (not while generating), it expects each saved SYN with
 * its last byte flipped, a wrong expectation the kernel must contradict. */
const wrong = vi.hoisted(() => ({ flips: 0, inRun: false }));
vi.mock('../model/spec/index.ts', async (original) => {
  const real = await original<typeof import('../model/spec/index.ts')>();
  return {
    ...real,
    createSpec: (...args: Parameters<typeof real.createSpec>): SpecWorld => {
      const world = real.createSpec(...args);
      const apply = world.apply.bind(world);
      world.apply = (op: Op): Outcome => {
        const o = apply(op);
        if (!wrong.inRun || wrong.flips <= 0 || op.kind !== 'getsockopt' || op.optname !== TCP_SAVED_SYN || o.bytes === undefined || o.bytes.length === 0) return o;
        wrong.flips--;
        const bytes = Uint8Array.from(o.bytes);
        bytes[bytes.length - 1] ^= 1;
        return { ...o, bytes };
      };
      return world;
    },
  };
});
vi.mock('../properties/differential.ts', async (original) => {
  const real = await original<typeof import('../properties/differential.ts')>();
  return {
    ...real,
    runDifferential: (...args: Parameters<typeof real.runDifferential>) => {
      wrong.inRun = true;
      try {
        return real.runDifferential(...args);
      } finally {
        wrong.inRun = false;
      }
    },
  };
});

afterEach(() => {
  wrong.flips = 0;
});

const lane = kernelLane();
const ROOT = resolve(import.meta.dirname, '..');
const folder = (name: string): string => mkdtempSync(join(tmpdir(), `savedsyn-kc-${name}-`));
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const corpusTokens = (dir: string): string[] => readdirSync(join(dir, 'corpus')).sort().map((f) => json(join(dir, 'corpus', f)).token as string);

/** Run the command, its output lines collected. */
async function command(args: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await main(args, (l) => lines.push(l));
  return { code, lines };
}

it.runIf(!lane.ok)(`live-kernel lane unavailable here, so kernel campaigns do not run: ${lane.ok ? '' : lane.reason}`, () => {
  expect(lane.ok).toBe(false);
});

describe.runIf(lane.ok)('a campaign on the live kernel', () => {
  // Guided every batch, so from the third batch on half the cases are
  // mutations of the corpus.
  const options = { implementations: ['kernel'], batch: 10, workers: 0, guideEvery: 1, seed: 3 };
  const dir = folder('short');

  it('writes a corpus and coverage of spec transitions and kernel answers, and no finding', async () => {
    const s = await campaign({ ...options, out: dir, runs: 30 });
    expect(s.findings).toEqual([]);
    expect(s.flaky).toBe(0);
    expect([s.cases, s.batches]).toEqual([30, 3]);
    expect(s.coverage.transitions).toBeGreaterThan(20);
    expect(s.coverage.sites).toBeGreaterThan(20);
    expect(s.coverage.interleavings).toBe(0);
    const coverage = Object.keys(json(join(dir, 'coverage.json')));
    expect(coverage.every((k) => k.startsWith('kernel|t:') || k.startsWith('kernel|s:'))).toBe(true);
    // What the kernel answered: a saved SYN read back, and a SYN answered.
    expect(coverage.some((k) => /^kernel\|s:read:\d+ bytes$/.test(k))).toBe(true);
    expect(coverage.some((k) => /^kernel\|s:(syn|fastOpenSyn) IPv[46].*:(synack|cookie)$/.test(k))).toBe(true);
    const tokens = corpusTokens(dir);
    expect(tokens.length).toBe(s.corpus);
    for (const t of tokens) expect(decodeToken(t)).toMatchObject({ profile: 'linux', impl: 'kernel', kind: 'sequential' });
    expect(readdirSync(join(dir, 'findings'))).toEqual([]);
    expect(existsSync(join(dir, 'index.html'))).toBe(true);
  });

  it('resumes where it stopped, and ends as an uninterrupted campaign does', async () => {
    const before = corpusTokens(dir);
    const s = await campaign({ ...options, out: dir, runs: 50 });
    expect([s.cases, s.batches, s.session.batches]).toEqual([50, 5, 2]);
    expect(corpusTokens(dir).slice(0, before.length)).toEqual(before);
    expect(json(join(dir, 'state.json'))).toMatchObject({ nextBatch: 5, cases: 50, impls: ['kernel'] });
    // The kernel answers a sequence the same way each time, so the resumed
    // campaign ends where an uninterrupted one does.
    const whole = folder('whole');
    await campaign({ ...options, out: whole, runs: 50 });
    expect(corpusTokens(dir)).toEqual(corpusTokens(whole));
    expect(json(join(dir, 'coverage.json'))).toEqual(json(join(whole, 'coverage.json')));
  });

  it('replays a corpus token on the live kernel', async () => {
    const { code, lines } = await command(['replay', corpusTokens(dir)[0], '--out', folder('replay')]);
    expect(lines).toEqual(['passes (kernel, profile linux)']);
    expect(code).toBe(0);
  });

  it('runs from the command on worker threads, each with lanes of its own', async () => {
    const out = folder('cli');
    const { code, lines } = await command(['fuzz', '--impl', 'kernel', '--runs', '20', '--batch', '10', '--workers', '2', '--quiet', '--out', out]);
    expect(code).toBe(0);
    expect(lines.find((l) => l.startsWith('campaign:'))).toMatch(/^campaign: 20 cases \(\d+ steps\) in 2 batches .* 0 distinct finding\(s\)/);
    expect(json(join(out, 'state.json'))).toMatchObject({ nextBatch: 2, cases: 20 });
  });

  it('catches a disagreement, confirms it and records it as a finding whose token fails on replay', async () => {
    wrong.flips = Infinity;
    const out = folder('wrong');
    const s = await campaign({ ...options, out, runs: 10, maxOps: 10 });
    expect(s.flaky).toBe(0);
    expect(s.findings.length).toBeGreaterThan(0);
    const [f] = s.findings;
    expect(f.impl).toBe('kernel');
    expect(f.signature).toMatch(/^kernel:getsockopt:syn\./);
    const stored = readdirSync(join(out, 'findings'));
    expect(stored.some((n) => n.endsWith('.md'))).toBe(true);
    const md = readFileSync(join(out, 'findings', stored.find((n) => n.endsWith('.md'))!), 'utf8');
    expect(md).toContain('Confirmed on a fresh namespace');
    // Shrunk: the read that disagrees is the last op.
    const c = decodeToken(f.token);
    expect(c.kind === 'sequential' && c.ops.at(-1)).toMatchObject({ kind: 'getsockopt', optname: TCP_SAVED_SYN });
    const replayDir = folder('replay-wrong');
    const replayed = await command(['replay', f.token, '--quiet', '--out', replayDir]);
    expect(replayed.lines[0]).toBe(`fails: ${f.signature} (kernel, profile linux)`);
    expect(replayed.code).toBe(1);
    expect(readdirSync(replayDir).some((n) => n.endsWith('.c'))).toBe(true);
    wrong.flips = 0;
    expect((await command(['replay', f.token, '--out', replayDir])).code).toBe(0);
  });

  it('records a disagreement that does not come back as flaky, never as a finding', async () => {
    wrong.flips = 1;
    const out = folder('flaky');
    const s = await campaign({ ...options, out, runs: 10, maxOps: 10 });
    expect(wrong.flips).toBe(0);
    expect(s.findings).toEqual([]);
    expect(readdirSync(join(out, 'findings'))).toEqual([]);
    expect(s.flaky).toBe(1);
    const [name] = readdirSync(join(out, 'flaky'));
    const f = json(join(out, 'flaky', name));
    expect(f.signature).toMatch(/^kernel:getsockopt:syn\./);
    expect(f.shown.length).toBeGreaterThan(1);
    expect(f.rerun).toEqual([]);
    expect(decodeToken(f.token)).toMatchObject({ impl: 'kernel', kind: 'sequential' });
    expect(readFileSync(join(out, 'index.html'), 'utf8')).toMatch(/data-field="flaky">1 kernel disagreement that did not persist/);
  });

  it('shards merge as any campaign\'s do, flaky records included', async () => {
    const shards = [0, 1].map((index) => folder(`shard${index}`));
    const parts = [];
    for (const [index, out] of shards.entries()) parts.push(await campaign({ ...options, out, runs: 10, shard: { index, count: 2 } }));
    wrong.flips = 1;
    await campaign({ ...options, out: shards[1], runs: 20, shard: { index: 1, count: 2 } });
    const out = join(folder('merged'), 'all');
    const m = mergeCampaigns({ out, inputs: shards });
    expect(m.cases).toBe(10 + 20);
    expect(m.findings).toEqual([]);
    expect(readdirSync(join(out, 'flaky'))).toHaveLength(1);
    const merged = json(join(out, 'coverage.json')) as Record<string, number>;
    const counts = shards.map((d) => json(join(d, 'coverage.json')) as Record<string, number>);
    for (const [k, n] of Object.entries(merged)) expect(n).toBe((counts[0][k] ?? 0) + (counts[1][k] ?? 0));
    expect(parts.map((p) => p.cases)).toEqual([10, 10]);
  });
});

describe('what a kernel campaign refuses', () => {
  const errors = (): { lines: string[]; restore: () => void } => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((l: string) => { lines.push(l); });
    return { lines, restore: () => spy.mockRestore() };
  };

  it('concurrent cases, and a profile other than linux: exit 2, one line', async () => {
    const e = errors();
    try {
      expect(await cli(['fuzz', '--impl', 'kernel', '--thread-runs', '5', '--out', folder('bad')])).toBe(2);
      expect(await cli(['fuzz', '--impl', 'kernel', '--profile', 'rfc-v1', '--runs', '10', '--out', folder('bad')])).toBe(2);
    } finally {
      e.restore();
    }
    expect(e.lines).toHaveLength(2);
    expect(e.lines[0]).toBe('savedsyn: a campaign on the live kernel runs no concurrent cases: the kernel is asked one op at a time, with nothing to interleave (fuzz takes no --thread-runs)');
    expect(e.lines[1]).toBe('savedsyn: --profile rfc-v1, but the live kernel is judged by the linux spec');
  });

  it('a kernel token with an op the kernel cannot be asked: exit 2', async () => {
    const token = encodeToken({ profile: 'linux', impl: 'kernel', kind: 'sequential', ops: [{ kind: 'socket' }, { kind: 'expireAll' }] });
    const e = errors();
    try {
      expect(await cli(['replay', token, '--out', folder('bad')])).toBe(2);
    } finally {
      e.restore();
    }
    expect(e.lines).toEqual(["savedsyn: the token's op 1 (expireAll) cannot run on the live kernel: timers are not advanced on the live kernel"]);
  });

  it('without the lane (no unshare on the PATH): fuzz --impl kernel and a kernel token exit 2 with one line', () => {
    const token = encodeToken({ profile: 'linux', impl: 'kernel', kind: 'sequential', ops: [{ kind: 'socket' }] });
    const env = { ...process.env, PATH: folder('empty-path'), GITHUB_STEP_SUMMARY: '' };
    const run = (args: string[]) => spawnSync(process.execPath, [SAVEDSYN, ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    const fuzz = run(['fuzz', '--impl', 'kernel', '--runs', '10', '--out', folder('nolane')]);
    expect(fuzz.status).toBe(2);
    expect(fuzz.stderr).toMatch(/^savedsyn: fuzz --impl kernel needs the live-kernel lane, which cannot run here: .+\n$/);
    const replay = run(['replay', token, '--out', folder('nolane')]);
    expect(replay.status).toBe(2);
    expect(replay.stderr).toMatch(/^savedsyn: the token's case runs on the live kernel, and its lane cannot run here: .+\n$/);
  });
});
