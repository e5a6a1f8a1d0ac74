// Campaigns: a campaign killed with SIGKILL, stopped by a signal or by a full
// disk, and started again on the same folder, loses no finding and ends
// exactly where an uninterrupted one does, corpus and coverage included, on
// any number of workers; a resume with options that change the batches is
// refused; foreign and corrupt files are reported and skipped; shards merge.
import { spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdirSync, rmSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeToken, encodeToken } from '../reports/token.ts';
import { stopOnSignals } from '../fuzz/campaign/signals.ts';
import { CampaignStore } from '../fuzz/campaign/store.ts';
import { compiledFixture, SAVEDSYN } from './built.ts';

// Guidance every two batches, so most of these batches are guided.
const ARGS = ['--impl', 'rfc-v1', '--runs', '1500', '--batch', '125', '--workers', '1', '--seed', '5', '--guide-every', '2'];

function fuzz(out: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', ...ARGS, '--out', out, ...extra], { encoding: 'utf8', timeout: 120_000 });
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

const stats = (d: string) => JSON.parse(readFileSync(join(d, 'stats.json'), 'utf8'));

/** The uninterrupted campaign of ARGS, run once for every test that compares with it. */
let wholeDir: string | undefined;
function whole(): string {
  if (wholeDir === undefined) {
    wholeDir = mkdtempSync(join(tmpdir(), 'savedsyn-whole-'));
    fuzz(wholeDir);
  }
  return wholeDir;
}

/** ARGS without its budget of cases, for a campaign stopped before it ends. */
const UNBOUNDED = ARGS.filter((a, i) => a !== '--runs' && ARGS[i - 1] !== '--runs');

/** Start a campaign of a minute and wait until it commits its first batch:
 * state.json is saved once a second, by when a fast machine is past the
 * twelve batches of ARGS, but corpus files are written as a batch commits. */
async function started(out: string): Promise<{ child: ReturnType<typeof spawn>; committed: boolean; stdout: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [SAVEDSYN, 'fuzz', ...UNBOUNDED, '--seconds', '60', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.resume();
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let committed = false;
  for (let i = 0; i < 2000 && !committed; i++) {
    await sleep(10);
    committed = existsSync(join(out, 'state.json')) && existsSync(join(out, 'corpus')) && readdirSync(join(out, 'corpus')).length > 0;
  }
  return { child, committed, stdout: () => stdout, exit };
}

/** Resolves with the exit code, or with 'timeout' after `ms`. */
const within = (exit: Promise<number | null>, ms: number) => Promise.race([exit, sleep(ms).then(() => 'timeout' as const)]);

describe('savedsyn fuzz', () => {
  it('killed with SIGKILL mid-campaign and resumed on more workers, it ends with exactly the findings, corpus and coverage of an uninterrupted campaign', async () => {
    const expected = findings(whole());
    expect(expected.length).toBeGreaterThanOrEqual(3);
    const expectedGuidance = guidance(whole());
    // Guided batches kept cases that reached something new.
    expect(expectedGuidance.corpus.length).toBeGreaterThan(10);
    expect(expectedGuidance.corpus.some((f) => /"batch": ([4-9]|1\d)/.test(f))).toBe(true);

    const cut = mkdtempSync(join(tmpdir(), 'savedsyn-cut-'));
    const child = spawn(process.execPath, [SAVEDSYN, 'fuzz', ...ARGS, '--out', cut], { stdio: 'ignore' });
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
    expect(stats(cut).cases).toBe(1500);
    expect(stats(cut).steps).toBe(stats(whole()).steps);
    // Totals cover both runs; what the resume added is told apart.
    expect(stats(cut).batches).toBe(12);
    expect(stats(cut).session.batches).toBe(12 - at);
    expect(stats(cut).session.cases).toBe(1500 - at * 125);
    expect(resumed).toMatch(new RegExp(`in 12 batches \\(${12 - at} this run\\)`));
  });

  it('reports and skips foreign and corrupt files, and refuses a folder of another campaign', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-junk-'));
    fuzz(out, ['--runs', '500']);
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
    const again = fuzz(out, ['--runs', '750']);
    expect(again).toMatch(/coverage: \d+ spec transitions, \d+ implementation sites, \d+ interleavings/);
    // Coverage carries over a resume: counts only grow.
    const after = JSON.parse(readFileSync(join(out, 'coverage.json'), 'utf8')) as Record<string, number>;
    for (const [k, n] of Object.entries(before)) expect(after[k], k).toBeGreaterThanOrEqual(n);
    expect(again).toContain('warning: skipping findings/broken.json: unreadable');
    expect(again).toContain('warning: skipping findings/notes.txt: not a savedsyn finding');
    expect(again).toContain(`warning: skipping corpus/${entries[0]}: unreadable`);
    expect(again).toMatch(new RegExp(`warning: skipping corpus/${entries[1]}: unreadable \\(the token is damaged`));
    expect(again).toContain('warning: skipping corpus/README: not a savedsyn corpus entry');
    expect(again).toContain(`warning: corpus: state.json counts ${entries.length} entries, ${entries.length - 2} of them are readable on disk`);
    const other = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', ...ARGS, '--seed', '6', '--out', out], { encoding: 'utf8' });
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/holds a campaign with --seed 5; this run asks for --seed 6:/);
    const unguided = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', ...ARGS, '--guide-every', '0', '--out', out], { encoding: 'utf8' });
    expect(unguided.status).toBe(2);
    expect(unguided.stderr).toMatch(/with --guide-every 2; this run asks for --guide-every 0: resume it with the same options, or use another --out/);
  });

  it('leaves a folder alone whose state.json is lost or damaged: its corpus and findings are not started over', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-nostate-'));
    fuzz(out, ['--runs', '125']);
    const snapshot = (): string[] => ['corpus', 'findings'].flatMap((d) => readdirSync(join(out, d)).sort().map((f) => `${d}/${f} ${readFileSync(join(out, d, f), 'utf8')}`))
      .concat(readFileSync(join(out, 'coverage.json'), 'utf8'));
    const before = snapshot();
    expect(before.filter((f) => f.startsWith('corpus/')).length).toBeGreaterThan(0);
    const state = readFileSync(join(out, 'state.json'), 'utf8');
    const damaged: Array<[string, string | undefined]> = [
      ['no state.json', undefined],
      ['an unreadable state.json (Unexpected end of JSON input)', state.slice(0, 0)],
      ['an unreadable state.json (not a state this savedsyn wrote: corpus is not a count)', JSON.stringify({ ...JSON.parse(state), corpus: -1 })],
      ['an unreadable state.json (not a state this savedsyn wrote: snapshots is not a list with the first boundary)', JSON.stringify({ ...JSON.parse(state), snapshots: [] })],
      // Snapshots that do not fit the batches: the batch they should guide
      // would wait for its snapshot forever.
      ['an unreadable state.json (not a state this savedsyn wrote: snapshots lacks batch 0\'s, which guides the batches from 1 on)', JSON.stringify({ ...JSON.parse(state), snapshots: [{ boundary: 1, corpus: 0, counts: {} }] })],
      ['an unreadable state.json (not a state this savedsyn wrote: snapshots[1] is of batch 2, past nextBatch 1)', JSON.stringify({ ...JSON.parse(state), snapshots: [{ boundary: 0, corpus: 0, counts: {} }, { boundary: 2, corpus: 0, counts: {} }] })],
      ['an unreadable state.json (not a state this savedsyn wrote: nextBatch is not a count)', JSON.stringify({ ...JSON.parse(state), nextBatch: 1.5 })],
    ];
    for (const [why, text] of damaged) {
      if (text === undefined) rmSync(join(out, 'state.json'));
      else writeFileSync(join(out, 'state.json'), text);
      const r = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', ...ARGS, '--seed', '2', '--runs', '125', '--out', out], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stdout).toBe(2);
      expect(r.stderr).toContain(`savedsyn: ${out} holds a campaign's files (`);
      expect(r.stderr).toContain(`) but ${why}, so it cannot be resumed, and starting over would overwrite them: give another --out, or merge what it holds into a new folder`);
      expect(snapshot()).toEqual(before);
    }
    // A corpus count below the entries of batches state.json counts done:
    // removing those as uncommitted would lose them for good.
    writeFileSync(join(out, 'state.json'), JSON.stringify({ ...JSON.parse(state), corpus: 0 }));
    const lowered = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', ...ARGS, '--runs', '250', '--out', out], { encoding: 'utf8', timeout: 60_000 });
    expect(lowered.status, lowered.stdout).toBe(2);
    expect(lowered.stderr).toMatch(new RegExp(`^savedsyn: ${out}: corpus/000000-[0-9a-f]{8}\\.json is from batch 0, which state\\.json counts as done \\(next batch 1\\), yet it is numbered past the 0 corpus entries state\\.json counts: state\\.json does not describe this folder, and nothing in it was changed\n$`));
    expect(snapshot()).toEqual(before);
    writeFileSync(join(out, 'state.json'), state);
    // An entry past what state.json counts, as a run killed between a
    // batch's corpus and its commit leaves: removed, and said so.
    const past = JSON.parse(state).corpus as number;
    writeFileSync(join(out, 'corpus', `${String(past + 5).padStart(6, '0')}-0123abcd.json`), '{}\n');
    const resumed = fuzz(out, ['--runs', '250']);
    expect(resumed).toContain('resuming at batch 1');
    expect(resumed).toContain('; 1 more, from batches the last run did not commit, removed: they are computed again)');
    expect(existsSync(join(out, 'corpus', `${String(past + 5).padStart(6, '0')}-0123abcd.json`))).toBe(false);
  });

  it('gives the same findings, corpus, coverage and totals on 1, 2 or 4 workers', () => {
    // With this seed two batches find the same signature, and on several
    // workers the higher one can finish first.
    const run = (workers: number) => {
      const out = mkdtempSync(join(tmpdir(), `savedsyn-w${workers}-`));
      fuzz(out, ['--seed', '1', '--workers', String(workers)]);
      return out;
    };
    const folder = (d: string) => ({
      findings: readdirSync(join(d, 'findings')).sort().map((f) => `${f} ${readFileSync(join(d, 'findings', f), 'utf8')}`),
      ...guidance(d),
      coverageFile: readFileSync(join(d, 'coverage.json'), 'utf8'),
      stats: (({ session: _, ...totals }) => totals)(stats(d)),
    });
    const one = folder(run(1));
    expect(one.findings.length).toBeGreaterThanOrEqual(5);
    // Findings first made by later batches, which other workers may finish
    // before the earlier ones.
    expect(one.findings.filter((f) => /"batch": [1-9]/.test(f)).length).toBeGreaterThanOrEqual(2);
    expect(folder(run(2))).toEqual(one);
    expect(folder(run(4))).toEqual(one);
  });

  it('warns of far more workers than cores, and runs', () => {
    const workers = 4 * availableParallelism() + 1;
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-many-'));
    const r = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', '--impl', 'rfc-v1', '--runs', '250', '--batch', '250', '--workers', String(Math.min(workers, 256)), '--out', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    if (workers <= 256) expect(r.stdout.split('\n').filter((l) => l.startsWith('warning:'))).toEqual([expect.stringMatching(new RegExp(`^warning: ${workers} workers on \\d+ cores: `))]);
    expect(stats(out).cases).toBe(250);
  });

  it('refuses to resume with a --batch, --max-ops or --schedulers that changes the batches, and reads an older state.json as --max-ops 30', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-opts-'));
    fuzz(out, ['--runs', '250']);
    const resume = (extra: string[]) => spawnSync(process.execPath, [SAVEDSYN, 'fuzz', ...ARGS, '--out', out, ...extra], { encoding: 'utf8' });
    const refused = (extra: string[], old: string, asked: string) => {
      const r = resume(extra);
      expect(r.status, r.stdout).toBe(2);
      expect(r.stderr).toBe(`savedsyn: ${out} holds a campaign with ${old}; this run asks for ${asked}: resume it with the same options, or use another --out\n`);
    };
    refused(['--batch', '100'], '--batch 125', '--batch 100');
    refused(['--max-ops', '20'], '--max-ops 30', '--max-ops 20');
    refused(['--schedulers', 'pct'], '--schedulers random,pct', '--schedulers pct');
    refused(['--seed', '6', '--max-ops', '10'], '--seed 5, --max-ops 30', '--seed 6, --max-ops 10');
    const state = JSON.parse(readFileSync(join(out, 'state.json'), 'utf8'));
    expect(state).toMatchObject({ batchRuns: 125, maxOps: 30, schedulers: ['random', 'pct'] });
    // As a savedsyn that did not record them wrote it.
    const { batchRuns: _b, maxOps: _m, schedulers: _s, ...older } = state;
    writeFileSync(join(out, 'state.json'), JSON.stringify(older));
    refused(['--max-ops', '20'], '--max-ops 30', '--max-ops 20');
    refused(['--batch', '100'], '--batch 125', '--batch 100');
    const r = resume(['--runs', '375']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('resuming at batch 2');
    expect(JSON.parse(readFileSync(join(out, 'state.json'), 'utf8'))).toMatchObject({ nextBatch: 3, maxOps: 30 });
  });

  it('names the findings of a module given by path after the implementation, never as hidden files', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-path-'));
    const r = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', '--impl', compiledFixture('leaky'), '--runs', '300', '--batch', '300', '--workers', '1', '--seed', '1', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const names = readdirSync(join(out, 'findings'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(name.startsWith('.'), name).toBe(false);
      expect(name, name).toMatch(/^leaky-/);
    }
  });

  it('a finding written before implementations were named is still the same finding, and replacing it leaves no hidden file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'savedsyn-older-'));
    const token = encodeToken({ profile: 'linux', impl: './test/fixtures/leaky.ts', kind: 'sequential', ops: [] });
    const older = { signature: 'leak:leaky.ts run', impl: './test/fixtures/leaky.ts', profile: 'linux', mode: 'sequential' as const, token, title: 't', message: 'm', report: 'r', batch: 3 };
    new CampaignStore(dir).add(older);
    expect(readdirSync(join(dir, 'findings')).every((n) => n.startsWith('.'))).toBe(true);
    const store = new CampaignStore(dir);
    expect(store.add({ ...older, implName: 'leaky' })).toBe(false);
    expect(store.offer({ ...older, implName: 'leaky', batch: 5 })).toBeUndefined();
    expect(store.offer({ ...older, implName: 'leaky', batch: 1 })).toBe('lower');
    const names = readdirSync(join(dir, 'findings')).sort();
    expect(names.map((n) => n.replace(/-[0-9a-f]{8}\./, '.'))).toEqual(['leaky-leak_leaky.ts_run.json', 'leaky-leak_leaky.ts_run.md']);
    expect(new CampaignStore(dir).findings.size).toBe(1);
    // A finding whose token no replay could read is skipped, with a warning.
    const damaged = names.find((n) => n.endsWith('.json'))!;
    writeFileSync(join(dir, 'findings', damaged), JSON.stringify({ ...older, implName: 'leaky', token: 'ssyn2.garbage.00' }));
    const again = new CampaignStore(dir);
    expect(again.findings.size).toBe(0);
    expect(again.warnings).toEqual([expect.stringMatching(new RegExp(`^skipping findings/${damaged}: unreadable \\(`))]);
    // So is one without what the campaign and merge write from it: merge
    // would have written "undefined" as its report.
    const { report: _r, batch: _b, ...bare } = { ...older, implName: 'leaky' };
    writeFileSync(join(dir, 'findings', damaged), JSON.stringify(bare));
    expect(new CampaignStore(dir).warnings).toEqual([`skipping findings/${damaged}: unreadable (missing fields: report, batch)`]);
  });

  it('takes back only the corpus files of batches not committed: a folder under an entry\'s name stays, with a warning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'savedsyn-prune-'));
    mkdirSync(join(dir, 'corpus', '000099-deadbeef.json'), { recursive: true });
    writeFileSync(join(dir, 'corpus', '000098-deadbeef.json'), '{}');
    const store = new CampaignStore(dir);
    store.pruneCorpus(50, 4);
    expect(readdirSync(join(dir, 'corpus'))).toEqual(['000099-deadbeef.json']);
    expect(store.warnings).toContain('skipping corpus/000099-deadbeef.json: not a file');
  });

  it('generates single-thread cases of at most --max-ops ops', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-maxops-'));
    fuzz(out, ['--runs', '250', '--guide-every', '1', '--max-ops', '4']);
    const kept = readdirSync(join(out, 'corpus')).map((f) => decodeToken(JSON.parse(readFileSync(join(out, 'corpus', f), 'utf8')).token));
    const sequential = kept.flatMap((c) => (c.kind === 'sequential' ? [c.ops.length] : []));
    expect(sequential.length).toBeGreaterThan(5);
    expect(Math.max(...sequential)).toBeLessThanOrEqual(4);
    expect(stats(out).maxOps).toBe(4);
  });

  it('stopped by Ctrl-C, it saves its folder, prints its summary and exits 130; resumed, it ends as an uninterrupted campaign', async () => {
    const expected = findings(whole());
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-int-'));
    const c = await started(out);
    expect(c.committed).toBe(true);
    c.child.kill('SIGINT');
    expect(await within(c.exit, 5000)).toBe(130);
    expect(c.stdout()).toMatch(/^stopped by SIGINT after (\d+) batches: the same command resumes from here$/m);
    expect(c.stdout()).toMatch(/^campaign: \d+ cases \(\d+ steps\) in \d+ batches/m);
    const at = stats(out).batches;
    expect(stats(out)).toMatchObject({ stopped: 'SIGINT', session: { batches: at } });
    expect(at).toBeGreaterThanOrEqual(1);
    expect(at).toBeLessThan(12);
    const resumed = fuzz(out);
    expect(resumed).toContain(`resuming at batch ${at}`);
    expect(findings(out)).toEqual(expected);
    expect(guidance(out)).toEqual(guidance(whole()));
    expect(stats(out)).toMatchObject({ cases: 1500, batches: 12, steps: stats(whole()).steps });
    expect(stats(out).stopped).toBeUndefined();
  });

  it('stopped by SIGTERM, it saves its folder and exits 143', async () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-term-'));
    const c = await started(out);
    expect(c.committed).toBe(true);
    c.child.kill('SIGTERM');
    expect(await within(c.exit, 5000)).toBe(143);
    expect(c.stdout()).toMatch(/^stopped by SIGTERM after \d+ batches/m);
    expect(stats(out)).toMatchObject({ stopped: 'SIGTERM' });
    expect(JSON.parse(readFileSync(join(out, 'state.json'), 'utf8')).nextBatch).toBe(stats(out).batches);
  });

  it('a second Ctrl-C exits at once with 130, without waiting for the clean stop', () => {
    const host = new EventEmitter() as EventEmitter & { exit: (code: number) => void };
    const exits: number[] = [];
    host.exit = (code) => { exits.push(code); };
    const stop = stopOnSignals(host);
    host.emit('SIGINT');
    expect([stop.signal.aborted, stop.signal.reason, stop.exitCode(), exits]).toEqual([true, 'SIGINT', 130, []]);
    host.emit('SIGINT');
    expect(exits).toEqual([130]);
    stop.dispose();
    expect(host.listenerCount('SIGINT') + host.listenerCount('SIGTERM')).toBe(0);
    const term = stopOnSignals(host);
    host.emit('SIGTERM');
    expect([term.signal.reason, term.exitCode(), exits]).toEqual(['SIGTERM', 143, [130]]);
    term.dispose();
  });

  it('on a full disk it stops with one line and exit 2, and resumes once there is room', () => {
    const expected = findings(whole());
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-full-'));
    // A few dozen files in: past the first findings, into the corpus.
    const full = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', ...ARGS, '--out', out], {
      encoding: 'utf8', env: { ...process.env, SAVEDSYN_TEST_FAIL_WRITES_AFTER: '60' },
    });
    expect(full.status, full.stderr).toBe(2);
    expect(full.stderr).toMatch(new RegExp(`^savedsyn: cannot write ${out}/\\S+: no space left on the device \\(ENOSPC\\) `
      + '\\(the campaign stopped; free space and run the same command to resume\\)\n$'));
    expect(full.stderr + full.stdout).not.toMatch(/internal error|\n\s+at /);
    expect(existsSync(join(out, 'state.json'))).toBe(true);
    const resumed = fuzz(out);
    expect(resumed).toMatch(/resuming at batch \d+/);
    expect(findings(out)).toEqual(expected);
    expect(guidance(out)).toEqual(guidance(whole()));
  });
});

describe('a module\'s campaign', () => {
  it('records a finding only if it fails alike on the module loaded afresh: one that does not ends the campaign, naming the module not deterministic', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-afresh-'));
    const r = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', '--impl', './test/fixtures/counts-instances.ts', '--runs', '40', '--batch', '20', '--workers', '1', '--out', out], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout).toBe(2);
    expect(r.stderr).toMatch(/^savedsyn: counts-instances is not deterministic: the counterexample for lockstep:listen:\S+ passes when the module is loaded afresh, as savedsyn replay loads it\./);
    const recorded = existsSync(join(out, 'findings')) ? readdirSync(join(out, 'findings')) : [];
    expect(recorded).toEqual([]);
  });

  it('resumes with the module\'s path spelled another way', () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-spelled-'));
    const run = (impl: string, runs: number) => spawnSync(process.execPath, [SAVEDSYN, 'fuzz', '--impl', impl, '--runs', String(runs), '--batch', '20', '--workers', '1', '--out', out], { encoding: 'utf8' });
    expect(run('examples/atomic-linux.ts', 40).status).toBe(0);
    const again = run('./examples/../examples/atomic-linux.ts', 60);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('resuming at batch 2');
  });
});

describe('shards and merge', () => {
  it('two shards merged find what they found, deduplicated, with cases and coverage summed and corpora joined', () => {
    const run = (shard: string) => {
      const out = mkdtempSync(join(tmpdir(), `savedsyn-shard-`));
      const r = spawnSync(process.execPath, [SAVEDSYN, 'fuzz', '--impl', 'rfc-v1', '--runs', '500', '--batch', '125', '--workers', '1', '--guide-every', '1', '--shard', shard, '--out', out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return out;
    };
    const a = run('0/2');
    const b = run('1/2');
    const merged = mkdtempSync(join(tmpdir(), 'savedsyn-merged-'));
    const m = spawnSync(process.execPath, [SAVEDSYN, 'merge', '--out', merged, a, b], { encoding: 'utf8' });
    expect(m.status, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/merged: 1000 cases/);
    const names = (d: string) => readdirSync(join(d, 'findings')).filter((f) => f.endsWith('.json'));
    const union = new Set([...names(a), ...names(b)]);
    expect(names(merged).sort()).toEqual([...union].sort());
    expect(JSON.parse(readFileSync(join(merged, 'stats.json'), 'utf8')).cases).toBe(1000);
    const coverage = (d: string) => JSON.parse(readFileSync(join(d, 'coverage.json'), 'utf8')) as Record<string, number>;
    const ca = coverage(a);
    const cb = coverage(b);
    const sum: Record<string, number> = { ...ca };
    for (const [k, n] of Object.entries(cb)) sum[k] = (sum[k] ?? 0) + n;
    expect(coverage(merged)).toEqual(sum);
    const tokens = (d: string) => readdirSync(join(d, 'corpus')).map((f) => JSON.parse(readFileSync(join(d, 'corpus', f), 'utf8')).token as string);
    expect(new Set(tokens(merged))).toEqual(new Set([...tokens(a), ...tokens(b)]));
    expect(tokens(merged).length).toBe(new Set(tokens(merged)).size);
    // A merged folder merged again: its cases count, once.
    const onlyA = mkdtempSync(join(tmpdir(), 'savedsyn-merged-'));
    expect(spawnSync(process.execPath, [SAVEDSYN, 'merge', '--out', onlyA, a], { encoding: 'utf8' }).status).toBe(0);
    const again = mkdtempSync(join(tmpdir(), 'savedsyn-merged-'));
    const m2 = spawnSync(process.execPath, [SAVEDSYN, 'merge', '--out', again, onlyA, b], { encoding: 'utf8' });
    expect(m2.status, m2.stderr).toBe(0);
    expect(m2.stdout).toMatch(/merged: 1000 cases/);
    expect(m2.stdout).not.toMatch(/warning/);
    expect(coverage(again)).toEqual(sum);
    expect(names(again).sort()).toEqual([...union].sort());
    const twice = spawnSync(process.execPath, [SAVEDSYN, 'merge', '--out', mkdtempSync(join(tmpdir(), 'savedsyn-merged-')), again, a], { encoding: 'utf8' });
    expect(twice.status).toBe(2);
    expect(twice.stderr).toBe(`savedsyn: ${a} (merged into ${onlyA}, then ${again}) and ${a} both ran shard 0/2 of the same campaign: their cases would count twice\n`);
    // Shard 0 of 4 runs batches shard 0 of 2 runs too.
    const state = JSON.parse(readFileSync(join(a, 'state.json'), 'utf8'));
    writeFileSync(join(b, 'state.json'), JSON.stringify({ ...state, shard: '0/4' }));
    const refused = spawnSync(process.execPath, [SAVEDSYN, 'merge', '--out', mkdtempSync(join(tmpdir(), 'savedsyn-merged-')), a, b], { encoding: 'utf8' });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(`savedsyn: ${a} ran shard 0/2 and ${b} shard 0/4: cut into different numbers of parts, shards share batches, whose cases would count twice\n`);
    // An --out not made yet, under a link to an input, is inside that input.
    const link = join(mkdtempSync(join(tmpdir(), 'savedsyn-link-')), 'to-a');
    symlinkSync(a, link);
    const inside = spawnSync(process.execPath, [SAVEDSYN, 'merge', '--out', join(link, 'y'), a], { encoding: 'utf8' });
    expect(inside.stderr).toBe(`savedsyn: --out ${join(link, 'y')} and the input ${a} overlap: merge never writes into its inputs\n`);
    expect(existsSync(join(a, 'y'))).toBe(false);
  });
});
