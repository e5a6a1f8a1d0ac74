// An implementation whose run() never returns: every command reports the op
// as a finding, hang:<op>, shrunk, replayable and reported, instead of
// hanging with it. Each run is a process with a deadline, so a regression
// fails rather than holds the suite; the deadlines leave a loaded machine
// twice the time these take on an idle one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../api/index.ts';
import type { BatchResult } from '../fuzz/campaign/batch.ts';
import type { FailureReport } from '../reports/failure.ts';
import { decodeToken } from '../reports/token.ts';
import { builtImport, compiledFixture, SAVEDSYN } from './built.ts';

const FIXTURE = compiledFixture('hangs-in-accept');
const out = () => mkdtempSync(join(tmpdir(), 'savedsyn-hang-'));

function savedsyn(args: string[], seconds: number) {
  const r = spawnSync(process.execPath, [SAVEDSYN, ...args], { encoding: 'utf8', timeout: seconds * 1000 });
  expect(r.signal, `savedsyn ${args[0]} did not finish within ${seconds} s`).toBeNull();
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The compiled library, in a process of its own for the same reason:
 * `script` runs as a module and prints its result as JSON. */
function library<T>(script: string): T {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 90_000 });
  expect(r.signal, 'the library did not finish within 90 s').toBeNull();
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** The minimal case: a listener with an empty queue, and the accept on it. */
const MINIMAL = [{ kind: 'listen', fd: 0 }, { kind: 'accept', fd: 0 }];

let checkedToken: string | undefined;

describe('an op that never returns', () => {
  it('is a finding of check, hang:accept, shrunk to the op and what it needs, with a replay token', () => {
    const r = savedsyn(['check', '--impl', FIXTURE, '--runs', '300', '--op-timeout', '150', '--out', out()], 30);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('hang:accept');
    expect(r.out).toContain('the implementation did not return from accept within 150 ms');
    expect(r.out).toMatch(/minimal case \(2 ops\)/);
    expect(r.out).toMatch(/>> +1 accept\(fd 0\) = did not return/);
    checkedToken = /replay: npx savedsyn replay (\S+)/.exec(r.out)?.[1];
    expect(checkedToken).toBeDefined();
    const c = decodeToken(checkedToken!);
    expect(c.kind === 'sequential' && c.ops).toMatchObject(MINIMAL);
  });

  it('fails the replay of its token within about the bound, with a report whose failing step is the op', () => {
    const token = checkedToken ?? 'missing';
    const dir = out();
    const r = savedsyn(['replay', token, '--impl', FIXTURE, '--op-timeout', '150', '--out', dir], 10);
    expect(r.code, r.err).toBe(1);
    expect(r.out).toContain('fails: hang:accept');
    const json = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const report = JSON.parse(readFileSync(join(dir, json), 'utf8')) as FailureReport;
    expect(report.oracle).toBe('hang');
    expect(report.steps.filter((s) => s.failing).map((s) => s.op)).toEqual(['accept(fd 0)']);
    expect(readFileSync(join(dir, json.replace(/json$/, 'md')), 'utf8')).toContain('did not return (spec: -1 EAGAIN)');
  });

  it('is found by the library, with the same case and token as the command', () => {
    const r = library<CheckResult>(`import { check } from ${builtImport('dist/api/index.js')};
      console.log(JSON.stringify(await check('${FIXTURE}', { runs: 300, opTimeout: 150 })));`);
    expect(r.findings.map((f) => f.signature)).toEqual(['hang:accept']);
    expect(r.findings[0].oracle).toBe('hang');
    expect(r.findings[0].ops).toMatchObject(MINIMAL);
    expect(r.findings[0].failingStep).toBe(1);
    // What the bound decides is only whether an op returned: the search
    // around it is the same in another process, at another speed.
    if (checkedToken !== undefined) expect(r.findings[0].token).toBe(checkedToken);
  });

  it('does not hold a campaign: the stuck batch is a finding', () => {
    const dir = out();
    const r = savedsyn(['fuzz', '--impl', FIXTURE, '--runs', '200', '--batch', '100', '--workers', '1', '--op-timeout', '150', '--out', dir], 30);
    expect(r.code, r.err).toBe(0);
    const found = readdirSync(join(dir, 'findings')).filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, 'findings', f), 'utf8')) as { signature: string; token: string });
    expect(found.map((f) => f.signature)).toEqual(['hang:accept']);
  });

  it('gives a campaign batch the same hang finding whatever the bound', () => {
    type Batch = Omit<BatchResult, 'counts'> & { counts: Array<[string, number]> };
    const [a, b] = library<Batch[]>(`import { runBatch } from ${builtImport('dist/fuzz/campaign/batch.js')};
      const spec = { index: 0, impl: '${FIXTURE}', mode: 'sequential', seed: 3, runs: 100, maxOps: 30, schedulers: ['random'] };
      const runs = [await runBatch({ ...spec, opTimeout: 150 }), await runBatch({ ...spec, opTimeout: 300 })];
      console.log(JSON.stringify(runs.map((r) => ({ ...r, counts: [...r.counts] }))));`);
    expect(a.findings.map((f) => f.signature)).toEqual(['hang:accept']);
    expect(a.findings.map((f) => f.token)).toEqual(b.findings.map((f) => f.token));
    expect([a.cases, a.steps, a.counts, a.candidates]).toEqual([b.cases, b.steps, b.counts, b.candidates]);
  });

  it('is a race when only an interleaving makes it hang, and replays on its schedule', () => {
    type Threads = Array<{ ops: Array<{ kind: string }> }>;
    const r = library<{ races: string[]; replayed: string | undefined; case: { setup: unknown[]; threads: Threads } }>(`import { check, replay } from ${builtImport('dist/api/index.js')};
      const fixture = ${JSON.stringify(compiledFixture('spins-on-a-race'))};
      const r = await check(fixture, { runs: 1, threadRuns: 300, opTimeout: 150 });
      const again = await replay(r.races[0].token, { implementation: fixture, opTimeout: 150 });
      console.log(JSON.stringify({ races: r.races.map((f) => f.signature), replayed: again.signature, case: r.races[0].case }));`);
    expect(r.races).toEqual(['hang:accept']);
    expect(r.replayed).toBe('hang:accept');
    // Which thread the accept lands on is the generator's choice, not the
    // race's: an accept against one op that holds the flag.
    expect(r.case.setup).toEqual([]);
    expect(r.case.threads.map((t) => t.ops.length)).toEqual([1, 1]);
    expect(r.case.threads.flatMap((t) => t.ops.map((op) => op.kind))).toContain('accept');
  });
});
