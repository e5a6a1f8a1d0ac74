// verify figures from one run: distinct states and transitions per second
// of CPU time on one core, branching by copying the session versus
// replaying the path, for each bundled implementation at depth
// BENCH_VERIFY_DEPTH (6 by default); then the same search on two worker
// threads, whose figures must match; then pairs and schedules per second;
// then what pairs of socket options beyond the pair depth cost against
// every pair up to it (BENCH_OPTION_DEPTH, 6 by default).
// Not part of npm test.

import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { verify } from '../api/verify.ts';
import { Bfs } from '../fuzz/verify/bfs.ts';
import { explorePairs, pairStarts } from '../fuzz/verify/pairs.ts';
import { DEFAULT_BOUNDS } from '../fuzz/verify/alphabet.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { profileByName } from '../model/profile.ts';

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
