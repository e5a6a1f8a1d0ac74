// verify figures from one run: distinct states and transitions per second
// of CPU time on one core, branching by copying the session versus
// replaying the path, for each bundled implementation at depth
// BENCH_VERIFY_DEPTH (6 by default); then the ceiling set by the
// implementation alone, and verify as a ratio to it; then the same search on two worker
// threads, whose figures must match; then pairs and schedules per second;
// then what pairs of socket options beyond the pair depth cost against
// every pair up to it (BENCH_OPTION_DEPTH, 6 by default).
// Not part of npm test.

import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { verify } from '../api/verify.ts';
import { Bfs, pathOf } from '../fuzz/verify/bfs.ts';
import { explorePairs, pairStarts } from '../fuzz/verify/pairs.ts';
import { DEFAULT_BOUNDS } from '../fuzz/verify/alphabet.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { profileByName } from '../model/profile.ts';
import { Ledger } from '../model/ledger.ts';
import { completed } from './lib/completed.ts';

const depth = Number(process.env.BENCH_VERIFY_DEPTH ?? 6);

console.log(`## breadth-first search, depth ${depth}, one thread (per second of CPU time)`);
for (const name of ['linux', 'rfc-v1-fixed', 'rfc-v1']) {
  const impl = bundledByName(name)!;
  const profile = profileByName(impl.profile)!;
  for (const branching of ['fork', 'replay'] as const) {
    const cpu = process.cpuUsage();
    const r = new Bfs(impl, profile, { ...DEFAULT_BOUNDS, depth }, -1, branching).run();
    const used = process.cpuUsage(cpu);
    const s = (used.user + used.system) / 1e6;
    console.log(`${name.padEnd(13)} ${branching.padEnd(6)} ${r.states} states, ${r.transitions} transitions: `
      + `${Math.round(r.states / s)} states/s, ${Math.round(r.transitions / s)} transitions/s per core`);
  }
}

// The ceiling: a search that runs every transition's op through the
// implementation can go no faster than the implementation alone runs those
// ops, with no spec, oracle, copy or hash beside it. Each op runs on an
// instance that has replayed the path to its state (untimed), so only the
// transition's own op is timed.
console.log(`\n## the ceiling: the implementation alone, each transition's op once (depth ${depth}, one thread)`);
for (const name of ['linux', 'rfc-v1-fixed']) {
  const impl = bundledByName(name)!;
  const profile = profileByName(impl.profile)!;
  const bfs = new Bfs(impl, profile, { ...DEFAULT_BOUNDS, depth }, depth - 1);
  const cpu = process.cpuUsage();
  const r = bfs.run();
  const used = process.cpuUsage(cpu);
  const perState = (used.user + used.system) / r.states;
  let opsMs = 0;
  for (const node of bfs.retained) {
    const path = pathOf(node);
    const ops = bfs.alphabetOf(node);
    const instances = ops.map(() => {
      const inst = impl.create({ profile, ledger: new Ledger() });
      for (const op of path) completed(inst.run(op, 0));
      return inst;
    });
    const t0 = performance.now();
    for (let i = 0; i < ops.length; i++) completed(instances[i].run(ops[i], 0));
    opsMs += performance.now() - t0;
  }
  const perTransition = (opsMs * 1000) / r.transitions;
  const floor = (perTransition * r.transitions) / r.states;
  console.log(`${name.padEnd(13)} ${(r.transitions / r.states).toFixed(1)} transitions per distinct state, `
    + `the implementation alone ${perTransition.toFixed(2)} µs per transition: at most ${Math.round(1e6 / floor)} states/s per core; `
    + `verify ${Math.round(1e6 / perState)} states/s per core, ${(floor / perState).toFixed(2)} of the ceiling`);
}

console.log(`\n## the same search on 1 and 2 worker threads (${cpus().length} cores; wall clock)`);
for (const workers of [1, 2]) {
  const t0 = performance.now();
  const r = await verify('linux', { depth, pairDepth: -1, workers });
  const s = (performance.now() - t0) / 1000;
  console.log(`workers ${workers}: ${r.states} states, ${r.transitions} transitions in ${s.toFixed(1)} s (${Math.round(r.states / s)} states/s)`);
}

const pairDepth = Number(process.env.BENCH_PAIR_DEPTH ?? 2);
console.log(`\n## pairs from every state up to depth ${pairDepth}, one thread (per second of CPU time)`);
for (const name of ['linux', 'rfc-v1']) {
  const cpu = process.cpuUsage();
  const r = await verify(name, { depth: pairDepth, pairDepth, workers: 0 });
  const used = process.cpuUsage(cpu);
  const s = (used.user + used.system) / 1e6;
  const p = r.pairs!;
  console.log(`${name.padEnd(13)} ${p.pairs} pairs (${p.commuting} skipped as commuting), ${p.schedules} schedules: `
    + `${Math.round(p.pairs / s)} pairs/s, ${Math.round(p.schedules / s)} schedules/s per core`);
}

const optionDepth = Number(process.env.BENCH_OPTION_DEPTH ?? 6);
const pb = { depth: 2, from: 0, preemptions: 3 };
console.log(`\n## pairs up to depth ${pb.depth}, and of socket options beyond it to depth ${optionDepth}, one thread (CPU time)`);
for (const name of ['linux', 'rfc-v1']) {
  const impl = bundledByName(name)!;
  const profile = profileByName(impl.profile)!;
  const bounds = { ...DEFAULT_BOUNDS, depth: optionDepth };
  const bfs = new Bfs(impl, profile, bounds, pb.depth);
  bfs.pairedDepths = { from: pb.from, to: pb.depth };
  bfs.run();
  for (const [label, starts] of [
    ['every pair', pairStarts(pb, bfs.retained)],
    ['socket options', bfs.optionStarts.map((o) => ({ node: o.node, socket: o.fd }))],
  ] as const) {
    const cpu = process.cpuUsage();
    const r = explorePairs(impl, profile, bounds, pb, starts);
    const used = process.cpuUsage(cpu);
    console.log(`${name.padEnd(13)} ${label.padEnd(15)} from ${starts.length} states: ${r.pairs} pairs, ${r.schedules} schedules, `
      + `${((used.user + used.system) / 1e6).toFixed(1)} s; races: ${r.failures.map((f) => f.signature).join(', ') || 'none'}`);
  }
}

