// Campaign figures from one run: lockstep steps per second of the campaign
// engine, of the implementation alone (the ceiling) and of plain
// fc.commands + fc.modelRun on the same ops, teardown included (the peer),
// as ratios (each the median of three timed runs); time to the first
// failure of each rfc-v1 finding (median over 20 seeds); what
// coverage guidance buys: two campaigns of the same size, guided and not,
// their coverage and their speed (BENCH_GUIDE_RUNS cases each, 200000 by
// default; 0 skips it); resident memory at the start and end of a campaign
// (BENCH_CAMPAIGN_SECONDS, 300 by default; 0 skips it).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { opsArb } from '../fuzz/arbitraries.ts';
import { searchConcurrent } from '../fuzz/concurrent-search.ts';
import { search } from '../fuzz/search.ts';
import { formatOutcome, sameOutcome } from '../model/format.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import type { ImplInstance } from '../model/impl/types.ts';
import { Ledger } from '../model/ledger.ts';
import type { Op } from '../model/ops.ts';
import { LINUX, RFC_V1 } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import type { SpecWorld } from '../model/spec/world.ts';
import { runLockstep, teardownOps } from '../properties/lockstep.ts';
import { completed } from './lib/completed.ts';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const linux = bundledByName('linux')!;
const cases = fc.sample(opsArb(LINUX), { seed: 1, numRuns: 3000 });
// The engine ends each case with its teardown (close every descriptor,
// expire every timer), which the leak oracle needs: the implementation
// alone and the peer run those ops too, so all three run the same steps.
const withTeardown = cases.map((ops) => {
  const spec = createSpec(LINUX);
  for (const op of ops) spec.apply(op);
  return [...ops, ...teardownOps(spec.openFds())];
});
const steps = withTeardown.reduce((n, c) => n + c.length, 0);

/** Steps per second of `f` over every case: the median of three timed
 * runs after two to warm the JIT, so one pause of the machine or the
 * collector does not decide a ratio. */
function rate(label: string, f: () => void): number {
  f();
  f();
  const runs: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    f();
    runs.push(steps / ((performance.now() - t0) / 1000));
  }
  const perSecond = median(runs);
  console.log(`${label.padEnd(44)} ${Math.round(perSecond)} steps/s`);
  return perSecond;
}

console.log(`## lockstep steps per second (linux, ${cases.length} generated cases, ${steps} ops with their teardown)`);
const engine = rate('campaign engine (spec + implementation + oracles)', () => {
  for (const ops of cases) runLockstep(linux, LINUX, ops);
});
const ceiling = rate('implementation alone', () => {
  for (const ops of withTeardown) {
    const inst = linux.create({ profile: LINUX, ledger: new Ledger() });
    for (const op of ops) completed(inst.run(op, 0));
  }
});

class OpCommand implements fc.Command<{ spec: SpecWorld }, { inst: ImplInstance }> {
  constructor(readonly op: Op) {}
  check(): boolean { return true; }
  run(m: { spec: SpecWorld }, r: { inst: ImplInstance }): void {
    const expected = m.spec.apply(this.op);
    const actual = completed(r.inst.run(this.op, 0));
    if (!sameOutcome(expected, actual)) throw new Error(`${this.op.kind}: ${formatOutcome(expected)} vs ${formatOutcome(actual)}`);
  }
  toString(): string { return this.op.kind; }
}
const commands = withTeardown.map((ops) => ops.map((op) => new OpCommand(op)));
const peer = rate('fc.commands + fc.modelRun (results only)', () => {
  for (const cmds of commands) {
    fc.modelRun(() => ({ model: { spec: createSpec(LINUX) }, real: { inst: linux.create({ profile: LINUX, ledger: new Ledger() }) } }), cmds);
  }
});
console.log(`ratios: engine / implementation alone = ${(engine / ceiling).toFixed(2)}, engine / fc.modelRun = ${(engine / peer).toFixed(2)}`);

console.log('\n## time to the first failure of each rfc-v1 finding (median over 20 seeds)');
const rfcV1 = bundledByName('rfc-v1')!;
for (const [id, r] of Object.entries(REPAIRS)) {
  const runs: number[] = [];
  const ms: number[] = [];
  for (let seed = 1; seed <= 20; seed++) {
    const t0 = performance.now();
    const found = r.concurrent
      ? searchConcurrent(rfcV1, RFC_V1, { seed, runs: 20_000, schedulers: ['random', 'pct'], only: r.signature }).findings[0]
      : search(rfcV1, RFC_V1, { seed, runs: 20_000, only: r.signature }).findings[0];
    ms.push(performance.now() - t0);
    runs.push(found?.runsToFind ?? Infinity);
  }
  console.log(`${id.padEnd(32)} median ${median(runs)} cases (max ${Math.max(...runs)}), median ${Math.round(median(ms))} ms including shrinking`);
}

const guideRuns = Number(process.env.BENCH_GUIDE_RUNS ?? 200_000);
if (guideRuns > 0) {
  console.log(`\n## coverage guidance: two campaigns of ${guideRuns} cases, all bundled implementations, seed 1`);
  const campaign = (guideEvery: number) => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-guide-'));
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['bin/savedsyn.mjs', 'fuzz', '--runs', String(guideRuns), '--guide-every', String(guideEvery), '--seed', '1', '--out', out], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    const seconds = (performance.now() - t0) / 1000;
    const counts = Object.values(JSON.parse(readFileSync(join(out, 'coverage.json'), 'utf8')) as Record<string, number>);
    const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { cases: number; coverage: { transitions: number; sites: number; interleavings: number } };
    const c = stats.coverage;
    // Keys reached at most three times: where the campaign barely went.
    const thin = counts.filter((n) => n <= 3).length;
    console.log(`${(guideEvery === 0 ? 'unguided' : `guided every ${guideEvery} batches`).padEnd(26)} ${c.transitions} transitions, ${c.sites} sites, `
      + `${c.interleavings} interleavings; ${thin} keys reached at most 3 times; ${Math.round(stats.cases / seconds)} cases/s`);
    return { keys: counts.length, thin, rate: stats.cases / seconds };
  };
  const plain = campaign(0);
  const guided = campaign(64);
  console.log(`ratios: guided / unguided keys = ${(guided.keys / plain.keys).toFixed(2)}, keys reached at most 3 times = ${(guided.thin / Math.max(1, plain.thin)).toFixed(2)}, cases/s = ${(guided.rate / plain.rate).toFixed(2)}`);
}

const seconds = Number(process.env.BENCH_CAMPAIGN_SECONDS ?? 300);
if (seconds > 0) {
  console.log(`\n## resident memory of a ${seconds}-second campaign (all bundled implementations, one worker per core)`);
  const out = mkdtempSync(join(tmpdir(), 'savedsyn-bench-'));
  const child = spawn(process.execPath, ['bin/savedsyn.mjs', 'fuzz', '--seconds', String(seconds), '--out', out], { stdio: 'ignore' });
  const rss = (): number => {
    const status = `/proc/${child.pid}/status`;
    if (!existsSync(status)) return NaN;
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  };
  const samples: number[] = [];
  const timer = setInterval(() => samples.push(rss()), 1000);
  await new Promise((r) => child.on('exit', r));
  clearInterval(timer);
  const seen = samples.filter((x) => !Number.isNaN(x));
  const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { cases: number; findings: unknown[] };
  console.log(`RSS after 5 s: ${seen[4]?.toFixed(0)} MiB; at the end: ${seen[seen.length - 1]?.toFixed(0)} MiB; peak ${Math.max(...seen).toFixed(0)} MiB`);
  console.log(`${stats.cases} cases, ${stats.findings.length} distinct findings`);
}
