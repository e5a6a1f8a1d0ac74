// Interleaving figures from one run: schedules per second per scheduler,
// the exhaustive scheduler's states and schedules with and without the
// reduction, and runs to the first failure of the rfc-v1 race for random
// versus PCT. Not part of npm test: it measures, it does not judge.

import { performance } from 'node:perf_hooks';
import { runWith, searchConcurrent } from '../fuzz/concurrent-search.ts';
import { explore } from '../fuzz/explore.ts';
import type { SchedulerName } from '../properties/findings.ts';
import { SCOPES, scopeByName } from '../fuzz/scopes.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import { profileByName, RFC_V1 } from '../model/profile.ts';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const rfcV1 = bundledByName('rfc-v1')!;
const race = REPAIRS['unlocked-getsockopt-races'].signature;

console.log('## schedules per second (scope ack-and-retransmission, linux)');
const linux = bundledByName('linux')!;
const linuxProfile = profileByName('linux')!;
const busy = scopeByName('ack-and-retransmission')!.build(linuxProfile);
for (let i = 0; i < 2000; i++) runWith(linux, linuxProfile, busy, i % 2 ? 'pct' : 'random', i); // warm the JIT
for (const s of ['random', 'pct'] as SchedulerName[]) {
  const n = 3000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) runWith(linux, linuxProfile, busy, s, i);
  console.log(`${s.padEnd(10)} ${Math.round(n / ((performance.now() - t0) / 1000))} schedules/s`);
}
{
  const t0 = performance.now();
  const r = explore(linux, linuxProfile, busy, { preemptions: 2, reduction: true });
  console.log(`${'exhaustive'.padEnd(10)} ${Math.round(r.schedules / ((performance.now() - t0) / 1000))} schedules/s`);
}

console.log('\n## exhaustive exploration, 2 preemptions: without / with the reduction');
for (const name of ['rfc-v1', 'rfc-v1-fixed', 'linux']) {
  const impl = bundledByName(name)!;
  const p = profileByName(impl.profile)!;
  for (const scope of SCOPES) {
    const c = scope.build(p);
    const full = explore(impl, p, c, { preemptions: 2, reduction: false });
    const red = explore(impl, p, c, { preemptions: 2, reduction: true });
    console.log(`${name.padEnd(13)} ${scope.name.padEnd(27)} schedules ${full.schedules} / ${red.schedules}, states ${full.states} / ${red.states}, exhausted ${full.exhausted && red.exhausted}, ${full.failure?.failure?.signature ?? 'no failure'}`);
  }
}

console.log(`\n## runs to the first ${race} on rfc-v1 (median over 25 seeds)`);
const twoReaders = scopeByName('two-readers')!.build(RFC_V1);
for (const s of ['random', 'pct'] as SchedulerName[]) {
  const fixedScope: number[] = [];
  const generated: number[] = [];
  for (let seed = 1; seed <= 25; seed++) {
    let k = 1;
    while (runWith(rfcV1, RFC_V1, twoReaders, s, seed * 100_000 + k).failure?.signature !== race && k < 100_000) k++;
    fixedScope.push(k);
    const { findings } = searchConcurrent(rfcV1, RFC_V1, { seed, runs: 20_000, schedulers: [s], only: race });
    generated.push(findings[0]?.runsToFind ?? Infinity);
  }
  console.log(`${s.padEnd(7)} two-readers scope: median ${median(fixedScope)} schedules (max ${Math.max(...fixedScope)}); generated cases: median ${median(generated)} cases (max ${Math.max(...generated)})`);
}
