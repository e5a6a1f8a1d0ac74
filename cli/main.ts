// The savedsyn command line.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { check } from '../api/check.ts';
import { replay } from '../api/replay.ts';
import { DEFAULT_GUIDE_EVERY, runCampaign } from '../fuzz/campaign/run.ts';
import { stopOnSignals } from '../fuzz/campaign/signals.ts';
import { writeDashboard } from '../fuzz/campaign/dashboard-folder.ts';
import { DEFAULT_OP_TIMEOUT } from '../fuzz/watchdog/host.ts';
import { mergeCampaigns } from '../fuzz/campaign/merge.ts';
import { CampaignStore } from '../fuzz/campaign/store.ts';
import { renderCensus } from '../fuzz/kernel-census.ts';
import { CONFIRM_SETTLE_MS, searchKernel } from '../fuzz/kernel-search.ts';
import { loadImplementation } from '../model/impl/load.ts';
import { BUNDLED } from '../model/impl/registry.ts';
import type { Implementation } from '../model/impl/types.ts';
import { unrealisable } from '../model/kernel/lane.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { LINUX, PROFILE_NAMES, type ProfileName } from '../model/profile.ts';
import { makeFolder, writeOutput } from '../model/output-folder.ts';
import { UserError } from '../model/user-error.ts';
import { specOutcomes, type DifferentialResult } from '../properties/differential.ts';
import type { SchedulerName } from '../properties/findings.ts';
import { reportFiles } from '../reports/committed.ts';
import { laneTable } from '../reports/markdown.ts';
import { cReproducer } from '../reports/reproducers.ts';
import { appendStepSummary } from '../reports/step-summary.ts';
import { failed, renderJson, renderMarkdown, renderStepSummary, type CheckResult } from '../reports/summary.ts';
import { renderKernelFinding } from '../reports/text.ts';
import { TOKEN_VERSION } from '../reports/token.ts';

export const USAGE = `usage: savedsyn [command] [options]

commands:
  run      (default) search every given implementation for failures, shrink
           each distinct one, print it and write a report
  check    like run, for one implementation (bundled name or module path);
           exits 1 if anything fails
  fuzz     a campaign: coverage-guided batches of single-thread and
           concurrent cases over worker threads until --runs or --seconds
           is spent; findings, corpus, coverage and stats go to --out, and
           a killed campaign resumes from the same folder
  merge DIR...
           combine campaign folders (shards, machines) into --out:
           findings deduplicated by implementation and signature, cases and
           coverage counts summed, corpora joined
  kernel   run generated sequences on the live kernel (a private network
           namespace, loopback only) and on the linux spec; print every
           disagreement, shrunk; exits 1 if there is any
  replay TOKEN|-
           re-run the case a token encodes (- reads it from standard input);
           print the verdict and write its report; exits 1 if the case
           fails. A token that names a module is run only with --impl
  list     list the bundled implementations and profiles
  help     show this text

options:
  --impl NAME|PATH   implementation to check; repeatable (default: all bundled)
  --profile NAME     rfc-v1 or linux: only the implementations of that profile
  --runs N           generated cases per implementation (default 2000)
  --seed N           master seed (default 1)
  --max-ops N        longest generated case (default 30)
  --thread-runs N    generated concurrent cases per implementation (default:
                     the same as --runs; 0 skips interleavings)
  --schedulers LIST  schedulers for concurrent cases: random,pct (default both)
  --out DIR          where the report goes (default ./out)
  --seconds N        fuzz: stop starting batches after N seconds
  --workers N        fuzz: worker threads (default: one per core; 0 runs
                     batches on the main thread)
  --batch N          fuzz: cases per batch (default 200)
  --shard I/N        fuzz: run the I-th of N disjoint streams of batches
  --guide-every N    fuzz: batches per coverage-guidance epoch (default 64);
                     batches are guided by what the campaign had covered and
                     kept one epoch earlier; 0 runs unguided
  --token-file FILE  replay: read the token from FILE
  --op-timeout MS    run, check, replay, fuzz: an op that has not returned
                     after MS milliseconds is a finding, hang:<op> (default
                     2000; 0 runs without the watchdog)
  --allow-mixed      merge: allow folders of different seeds or implementations
  --quiet            print only the summary

Each command refuses the options it does not use. Exit codes: 0 done,
1 a failure found (check, replay, kernel), 2 bad input, 70 a defect in
savedsyn.
`;

interface Options {
  impls: string[];
  profile: ProfileName | undefined;
  runs: number;
  runsGiven: boolean;
  seconds: number | undefined;
  workers: number;
  batch: number;
  batchGiven: boolean;
  shard: { index: number; count: number };
  guideEvery: number;
  threadRuns: number;
  schedulers: SchedulerName[];
  seed: number;
  maxOps: number;
  out: string;
  outGiven: boolean;
  quiet: boolean;
  tokenFile: string | undefined;
  opTimeout: number;
  allowMixed: boolean;
}

const OPTIONS = {
  impl: { type: 'string', multiple: true },
  profile: { type: 'string' },
  runs: { type: 'string' },
  seed: { type: 'string' },
  'max-ops': { type: 'string' },
  'thread-runs': { type: 'string' },
  seconds: { type: 'string' },
  workers: { type: 'string' },
  batch: { type: 'string' },
  shard: { type: 'string' },
  'guide-every': { type: 'string' },
  schedulers: { type: 'string' },
  out: { type: 'string' },
  'token-file': { type: 'string' },
  'op-timeout': { type: 'string' },
  'allow-mixed': { type: 'boolean' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Flag = keyof typeof OPTIONS;

/** The flags each command reads; any other is refused rather than ignored. */
const FLAGS: Record<string, readonly Flag[]> = {
  run: ['impl', 'profile', 'runs', 'seed', 'max-ops', 'thread-runs', 'schedulers', 'out', 'quiet', 'op-timeout'],
  check: ['impl', 'profile', 'runs', 'seed', 'max-ops', 'thread-runs', 'schedulers', 'out', 'quiet', 'op-timeout'],
  fuzz: ['impl', 'profile', 'runs', 'seconds', 'seed', 'max-ops', 'schedulers', 'out', 'quiet', 'workers', 'batch', 'shard', 'guide-every', 'op-timeout'],
  merge: ['out', 'quiet', 'allow-mixed'],
  kernel: ['runs', 'seed', 'out', 'quiet'],
  replay: ['impl', 'out', 'quiet', 'token-file', 'op-timeout'],
  list: [],
  help: [],
};
const COMMANDS = new Set(Object.keys(FLAGS));

/** `--seed -1` as parseArgs wants it (`--seed=-1`): a negative number after
 * a flag that takes a value is that value, not a flag of its own. */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].startsWith('--') ? argv[i].slice(2) : '';
    const takesValue = name in OPTIONS && OPTIONS[name as Flag].type === 'string';
    if (takesValue && i + 1 < argv.length && /^-\d+$/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

function parse(argv: string[]): { command: string; opts: Options; arg: string | undefined; rest: string[] } {
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeValues(argv), allowPositionals: true, strict: true, options: OPTIONS });
  } catch (e) {
    // Node's message runs on with advice about '--'; its first sentence is the point.
    const first = (e instanceof Error ? e.message : String(e)).split(/\. /)[0].replace(/\.$/, '');
    throw new UserError(`${first} (savedsyn help lists the options)`);
  }
  const { values, positionals } = parsed;
  const command = values.help ? 'help' : positionals[0] ?? 'run';
  if (!COMMANDS.has(command)) throw new UserError(`unknown command '${command}': one of ${[...COMMANDS].join(', ')}`);
  const given = (Object.keys(values) as Flag[]).filter((f) => f !== 'help');
  const stray = values.help ? undefined : given.find((f) => !FLAGS[command].includes(f));
  if (stray !== undefined) {
    const takes = FLAGS[command].length === 0 ? 'no options' : FLAGS[command].map((f) => `--${f}`).join(', ');
    throw new UserError(`${command} does not use --${stray}: it takes ${takes}`);
  }
  const fromFile = values['token-file'] !== undefined;
  if (command === 'replay' && fromFile && positionals.length > 1) throw new UserError('replay takes a token or --token-file, not both');
  const arity = command === 'replay' ? (fromFile ? 1 : 2) : command === 'merge' ? Infinity : 1;
  if (command === 'merge' && positionals.length < 2) throw new UserError('merge takes the campaign folders to combine: savedsyn merge --out DIR A B …');
  if (command === 'merge' && values.out === undefined) throw new UserError('merge writes a new folder and needs it named: savedsyn merge --out DIR A B …');
  if (command === 'replay' && positionals.length < 2 && !fromFile) {
    throw new UserError(`replay takes the token to replay: savedsyn replay ssyn${TOKEN_VERSION}.… (or - to read it from standard input, or --token-file FILE)`);
  }
  if (positionals.length > arity) throw new UserError(`unexpected argument '${positionals[arity]}' (savedsyn help lists the options)`);
  const runs = integer('--runs', values.runs, 2000, 1);
  const batch = integer('--batch', values.batch, 200, 1, MAX_BATCH);
  if (values.batch !== undefined && values.runs !== undefined && batch > runs) {
    throw new UserError(`--batch ${batch} is more than --runs ${runs}: a campaign runs whole batches`);
  }
  return {
    command,
    arg: positionals[1],
    rest: positionals.slice(1),
    opts: {
      impls: values.impl ?? [],
      profile: profileOption(values.profile),
      runs,
      runsGiven: values.runs !== undefined,
      seconds: values.seconds === undefined ? undefined : integer('--seconds', values.seconds, 60, 1),
      workers: integer('--workers', values.workers, availableParallelism(), 0, MAX_WORKERS),
      // A short campaign is one batch of what it asks, not one giant default.
      batch: values.batch === undefined && values.runs !== undefined ? Math.min(batch, runs) : batch,
      batchGiven: values.batch !== undefined,
      shard: shardOf(values.shard),
      guideEvery: integer('--guide-every', values['guide-every'], DEFAULT_GUIDE_EVERY, 0),
      threadRuns: integer('--thread-runs', values['thread-runs'], runs, 0),
      schedulers: schedulerList(values.schedulers),
      seed: integer('--seed', values.seed, 1, -2147483648),
      maxOps: integer('--max-ops', values['max-ops'], 30, 1, MAX_OPS),
      out: values.out ?? 'out',
      outGiven: values.out !== undefined,
      quiet: values.quiet ?? false,
      tokenFile: values['token-file'],
      opTimeout: integer('--op-timeout', values['op-timeout'], DEFAULT_OP_TIMEOUT, 0),
      allowMixed: values['allow-mixed'] ?? false,
    },
  };
}

/** Bounds on what one run can ask for: past them a run never ends or never
 * fits in memory, and no use needs them. */
const MAX_BATCH = 1_000_000;
const MAX_WORKERS = 256;
const MAX_OPS = 1000;

function profileOption(raw: string | undefined): ProfileName | undefined {
  if (raw === undefined) return undefined;
  if (!(PROFILE_NAMES as readonly string[]).includes(raw)) throw new UserError(`--profile takes ${PROFILE_NAMES.join(' or ')}, got '${raw}'`);
  return raw as ProfileName;
}

function shardOf(raw: string | undefined): { index: number; count: number } {
  if (raw === undefined) return { index: 0, count: 1 };
  const m = /^(\d+)\/(\d+)$/.exec(raw);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!m || count < 1 || count > 2147483647 || index >= count) throw new UserError(`--shard expects I/N with 0 <= I < N <= 2147483647, got '${raw}'`);
  return { index, count };
}

function schedulerList(raw: string | undefined): SchedulerName[] {
  if (raw === undefined) return ['random', 'pct'];
  const names = raw.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = names.filter((n) => n !== 'random' && n !== 'pct');
  if (names.length === 0 || bad.length > 0) throw new UserError(`--schedulers takes random and/or pct, comma-separated; got '${raw}'`);
  return names as SchedulerName[];
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max = 2147483647): number {
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new UserError(`${flag} expects an integer, got '${raw}'`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UserError(`${flag} must be between ${min} and ${max}, got ${raw}`);
  return n;
}

/** The command as a process runs it: the exit code, and one line on
 * standard error for anything that went wrong. */
export async function cli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`savedsyn: ${e.message}`);
      return 2;
    }
    console.error(`savedsyn: internal error: ${e instanceof Error ? e.message : String(e)}`);
    console.error('This is a defect in savedsyn; rerun with SAVEDSYN_DEBUG=1 for the stack trace.');
    if (process.env.SAVEDSYN_DEBUG) console.error(e);
    return 70;
  }
}

export async function main(argv: string[], log: (s: string) => void = console.log): Promise<number> {
  const { command, opts, arg, rest } = parse(argv);
  if (command === 'help') {
    log(USAGE);
    return 0;
  }
  if (command === 'list') {
    for (const i of BUNDLED) log(`${i.name.padEnd(14)} profile ${i.profile.padEnd(7)} ${i.description}`);
    return 0;
  }
  if (command === 'kernel') return kernelCommand(opts, log);
  if (command === 'fuzz') return fuzzCommand(opts, log);
  if (command === 'merge') return mergeCommand(rest, opts, log);
  if (command === 'replay') return replayCommand(arg, opts, log);
  if (command === 'check' && opts.impls.length !== 1) throw new UserError('check takes exactly one --impl NAME|PATH');
  const { sources, impls } = await selected(opts);
  // Before the search, so a folder that cannot be written costs nothing.
  const dir = makeFolder(opts.out);
  const runs: CheckResult[] = [];
  for (const [n, impl] of impls.entries()) {
    // On a terminal, a line redrawn after each round of the searches.
    const tty = process.stderr.isTTY === true && !opts.quiet;
    const onProgress = tty
      ? (which: string, done: number, total: number, found: number) => process.stderr.write(`\r\x1b[K${impl.name}: ${which} ${done}/${total} cases, ${found} finding(s)`)
      : undefined;
    const r = await check(impl, {
      source: sources[n], seed: opts.seed, runs: opts.runs, threadRuns: opts.threadRuns, maxOps: opts.maxOps, schedulers: opts.schedulers, onProgress, opTimeout: opts.opTimeout,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    runs.push(r);
    log(`${r.name} (${r.profile}): ${r.cases} single-thread cases, ${r.findings.length} distinct finding(s); `
      + `${r.concurrentCases} concurrent cases, ${r.races.length} distinct race(s)`);
    if (!opts.quiet) for (const f of [...r.findings, ...r.races]) log(`\n${f.text}\n  replay: npx savedsyn replay ${f.token}\n`);
  }
  writeOutput(join(dir, 'report.md'), renderMarkdown(runs, opts.seed));
  writeOutput(join(dir, 'report.json'), renderJson(runs, opts.seed));
  appendStepSummary(renderStepSummary(runs, opts.seed));
  log(`report: ${join(dir, 'report.md')} (and report.json)`);
  return command === 'check' && runs.some(failed) ? 1 : 0;
}

function kernelCommand(opts: Options, log: (s: string) => void): number {
  if (opts.impls.length > 0) throw new UserError('kernel runs the live kernel against the linux spec; it takes no --impl');
  const lane = kernelLane();
  if (!lane.ok) throw new UserError(`the live-kernel lane cannot run here: ${lane.reason}`);
  const dir = makeFolder(opts.out);
  const tty = process.stderr.isTTY === true && !opts.quiet;
  const onProgress = tty ? (done: number) => process.stderr.write(`\r\x1b[Kkernel: ${done}/${opts.runs} sequences`) : undefined;
  const { findings, flaky, laneFailures, runs, census } = searchKernel({ seed: opts.seed, runs: opts.runs, onProgress });
  if (tty) process.stderr.write('\r\x1b[K');
  log(`live kernel vs linux spec: ${runs} sequences, ${findings.length} distinct disagreement(s)${flaky.length ? `, ${flaky.length} flaky (not findings)` : ''}`);
  log(renderCensus(census));
  if (!opts.quiet) {
    for (const f of findings) log(`\n${renderKernelFinding(f, LINUX)}\n  confirmed on a fresh namespace, ${CONFIRM_SETTLE_MS} ms settling after every op\n`);
    for (const f of flaky) {
      log(`\nflaky, not a finding: ${f.signature} did not persist on a fresh namespace`);
      log(`${renderKernelFinding({ signature: `${f.signature} (first run)`, ops: f.ops, result: f.shown, runsToFind: 0 }, LINUX)}`);
      log(`${renderKernelFinding({ signature: `${f.signature} (second run)`, ops: f.ops, result: f.rerun, runsToFind: 0 }, LINUX)}\n`);
    }
    for (const f of laneFailures) log(`\nthe lane failed on a ${f.ops.length}-op sequence: ${f.error}`);
  }
  const runJson = (r: DifferentialResult) => ({ step: r.disagreement?.step ?? null, differences: r.disagreement?.differences ?? [] });
  writeOutput(join(dir, 'kernel.json'), JSON.stringify({
    version: 2, seed: opts.seed, sequences: runs, census,
    disagreements: findings.map((f) => ({ signature: f.signature, ops: f.ops, differences: f.result.disagreement?.differences ?? [], confirmation: runJson(f.confirmation) })),
    flaky: flaky.map((f) => ({ signature: f.signature, ops: f.ops, first: runJson(f.shown), second: runJson(f.rerun) })),
    laneFailures,
  }, null, 2) + '\n');
  log(`report: ${join(dir, 'kernel.json')}`);
  return findings.length > 0 ? 1 : 0;
}

async function replayCommand(arg: string | undefined, opts: Options, log: (s: string) => void): Promise<number> {
  // A token names an implementation; --impl runs the case on another one.
  if (opts.impls.length > 1) throw new UserError('replay takes at most one --impl NAME|PATH');
  const token = readToken(arg, opts.tokenFile);
  const { case: c, signature, report } = await replay(token, { implementation: opts.impls[0], opTimeout: opts.opTimeout });
  const name = opts.impls[0] ?? c.impl;
  log(signature ? `fails: ${signature} (${name}, profile ${c.profile})` : `passes (${name}, profile ${c.profile})`);
  if (report === undefined) return 0;
  const dir = makeFolder(opts.out);
  const base = `replay-${createHash('sha256').update(token.trim()).digest('hex').slice(0, 12)}`;
  for (const [file, text] of reportFiles(report, base)) writeOutput(join(dir, file), text);
  if (c.kind === 'sequential' && c.profile === 'linux' && c.ops.every((op) => unrealisable(op) === undefined)) {
    writeOutput(join(dir, `${base}.c`), cReproducer(report.title, c.ops, specOutcomes(c.ops)));
  }
  if (!opts.quiet) log(`\n${laneTable(report)}\n`);
  log(`report: ${join(dir, `${base}.md`)} (and .html, .json${c.profile === 'linux' && c.kind === 'sequential' ? ', and .c where the kernel can run it' : ''})`);
  return 1;
}

/** A token as an argument, from standard input (-), or from a file: one
 * longer than the argument limit (about 128 KiB) fits only the last two. */
function readToken(arg: string | undefined, file: string | undefined): string {
  if (arg !== undefined && arg !== '-') return arg;
  const from = file ?? 'standard input';
  let text: string;
  try {
    text = readFileSync(file ?? 0, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read the token from ${from}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new UserError(`no token in ${from}`);
  return token;
}

/** The implementations --impl and --profile name: every bundled one of the
 * profile when no --impl is given; an --impl of another profile is refused. */
async function selected(opts: Options): Promise<{ sources: string[]; impls: Implementation[] }> {
  const sources = opts.impls.length === 0
    ? BUNDLED.filter((i) => opts.profile === undefined || i.profile === opts.profile).map((i) => i.name)
    : opts.impls;
  const impls = await Promise.all(sources.map(loadImplementation));
  const other = impls.find((i) => opts.profile !== undefined && i.profile !== opts.profile);
  if (other) throw new UserError(`--profile ${opts.profile}, but ${other.name} implements ${other.profile}`);
  return { sources, impls };
}

async function fuzzCommand(opts: Options, log: (s: string) => void): Promise<number> {
  // Every implementation must load, and the folder be writable, before any worker starts.
  const { sources } = await selected(opts);
  const out = makeFolder(opts.out);
  // A resumed campaign keeps its batch size unless told otherwise: the
  // default depends on --runs, which a resume may raise.
  const batchRuns = opts.batchGiven || !existsSync(join(out, 'state.json')) ? opts.batch : new CampaignStore(out).readState()?.batchRuns ?? opts.batch;
  const seconds = opts.seconds ?? (opts.runsGiven ? undefined : 60);
  const stop = stopOnSignals();
  const summary = await runCampaign({
    out: resolve(opts.out), seed: opts.seed, impls: sources, runs: opts.runsGiven ? opts.runs : undefined, seconds,
    workers: opts.workers, batchRuns, maxOps: opts.maxOps, schedulers: opts.schedulers, shard: opts.shard, guideEvery: opts.guideEvery, opTimeout: opts.opTimeout, log,
    tty: process.stdout.isTTY === true && log === console.log, stop: stop.signal,
  }).finally(stop.dispose);
  const c = summary.coverage;
  log(`campaign: ${summary.cases} cases (${summary.steps} steps) in ${summary.batches} batches (${summary.session.batches} this run); ${summary.findings.length} distinct finding(s), ${summary.newFindings} new; `
    + `coverage: ${c.transitions} spec transitions, ${c.sites} implementation sites, ${c.interleavings} interleavings (coverage.json); `
    + `corpus: ${summary.corpus} cases (corpus/)`);
  for (const f of summary.findings) log(`  ${f.impl}: ${f.signature}\n    npx savedsyn replay ${f.token}`);
  log(`findings and stats: ${resolve(opts.out)}`);
  return stop.exitCode() ?? 0;
}

function mergeCommand(dirs: string[], opts: Options, log: (s: string) => void): number {
  const m = mergeCampaigns({ out: opts.out, inputs: dirs, allowMixed: opts.allowMixed, log });
  log(`merged: ${m.cases} cases, ${m.findings.length} distinct finding(s), coverage ${m.coverage.transitions} transitions / ${m.coverage.sites} sites / `
    + `${m.coverage.interleavings} interleavings, corpus ${m.corpus} in ${m.out}`);
  log(`dashboard: ${writeDashboard(m.out, { mergedFrom: dirs })}`);
  return 0;
}
