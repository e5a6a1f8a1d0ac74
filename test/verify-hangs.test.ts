// verify on an implementation whose ops may never return: on worker
// threads, such an op is a counterexample of its own, hang:<op>, shortest
// like any other, and the search goes on past it. The runs are in a
// process of their own with a deadline, so a regression that hangs fails
// the suite instead of holding it.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { VerifyResult } from '../api/index.ts';
import { replay } from '../api/index.ts';
import { decodeToken } from '../reports/token.ts';
import { builtImport, compiledFixture } from './built.ts';

const ACCEPT = compiledFixture('hangs-in-accept');
const RACE = compiledFixture('spins-on-a-race');
const CLOSE = compiledFixture('hangs-in-close');

type Runs = Record<'one' | 'two' | 'race' | 'many' | 'budget' | 'root', VerifyResult & { wall: number }>;

let runs: Runs;

beforeAll(() => {
  const script = `import { verify } from ${builtImport('dist/api/index.js')};
    const timed = async (impl, opts) => { const t = Date.now(); const r = await verify(impl, opts); return { ...r, wall: Date.now() - t }; };
    const small = { depth: 3, pairDepth: -1, kinds: ['listen=0', 'accept'], opTimeout: 150 };
    console.log(JSON.stringify({
      one: await timed('${ACCEPT}', { ...small, workers: 1 }),
      two: await timed('${ACCEPT}', { ...small, workers: 2 }),
      race: await timed('${RACE}', { depth: 0, pairDepth: 0, kinds: ['listen=0', 'accept', 'setsockopt=1'], workers: 2, opTimeout: 150 }),
      many: await timed('${ACCEPT}', { depth: 4, pairDepth: -1, kinds: ['listen', 'accept', 'setsockopt=1'], workers: 2, opTimeout: 100, maxHangs: 2 }),
      budget: await timed('${ACCEPT}', { depth: 3, pairDepth: -1, kinds: ['listen=0', 'accept'], workers: 2, opTimeout: 0, timeBudget: 1 }),
      root: await timed('${CLOSE}', { depth: 1, pairDepth: -1, kinds: ['listen=0'], workers: 1, opTimeout: 150 }),
    }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 120_000 });
  expect(r.signal, 'verify did not finish within 120 s').toBeNull();
  expect(r.status, r.stderr).toBe(0);
  runs = JSON.parse(r.stdout) as Runs;
}, 130_000);

describe('verify, where an op never returns', () => {
  it('reports hang:<op> at its shortest sequence, and explores the rest', () => {
    const r = runs.one;
    expect(r.findings.map((f) => f.signature)).toEqual(['hang:accept']);
    expect(r.findings[0].oracle).toBe('hang');
    const c = decodeToken(r.findings[0].token);
    expect(c.kind === 'sequential' && c.ops).toEqual([{ kind: 'listen', fd: 0, backlog: 0 }, { kind: 'accept', fd: 0 }]);
    // Every state was expanded: the hangs were failed and gone past.
    expect(r.outOfTime).toBe(false);
    expect(r.depthCompleted).toBe(3);
    expect(r.hangs).toBeGreaterThan(1);
    expect(r.certificate).toContain('depth completed  3 of 3');
  });

  it('finds the same on any number of workers', () => {
    const [a, b] = [runs.one, runs.two];
    expect([b.states, b.transitions, b.statesPerDepth, b.hangs]).toEqual([a.states, a.transitions, a.statesPerDepth, a.hangs]);
    expect(b.findings.map((f) => f.token)).toEqual(a.findings.map((f) => f.token));
  });

  it('its token replays the hang', async () => {
    const again = await replay(runs.one.findings[0].token, { implementation: ACCEPT, opTimeout: 150 });
    expect(again.signature).toBe('hang:accept');
  });

  it('reports a hang only an interleaving makes as a race', () => {
    const r = runs.race;
    expect(r.findings).toEqual([]);
    expect(r.races.map((f) => f.signature)).toEqual(['hang:accept']);
    expect(r.races[0].case.threads.flatMap((t) => t.ops.map((op) => op.kind))).toContain('accept');
    expect(r.races[0].text).toContain('did not return');
  });

  it('stops at the hang past the limit, keeping what it found, and says so', () => {
    const r = runs.many;
    expect(r.hangs).toBe(3);
    expect(r.outOfTime).toBe(true);
    expect(r.depthCompleted).toBeLessThan(4);
    expect(r.findings.map((f) => f.signature)).toEqual(['hang:accept']);
    expect(r.certificate).toMatch(/depth completed {2}\d of 4 \(stopped after 3 ops did not return within 100 ms\)/);
  });

  it('a teardown that never returns from the initial state is a counterexample of no ops, not a held main thread', () => {
    const r = runs.root;
    expect(r.findings.map((f) => [f.signature, f.ops.length])).toEqual([['hang:close', 0]]);
    expect(r.findings[0].text).toContain('teardown close(fd 0) = did not return');
    expect(r.hangs).toBeGreaterThan(0);
  });

  it('without the watchdog, the time budget does not wait for a worker stuck in an op', () => {
    const r = runs.budget;
    expect(r.outOfTime).toBe(true);
    expect(r.hangs).toBe(0);
    expect(r.certificate).toContain('stopped by the time budget');
    // The op never returns: only not waiting for it ends the run this soon.
    expect(r.wall).toBeLessThan(30_000);
  });
});
