// The command line as data: what each command accepts, and the options
// parsed and checked before anything runs. It loads none of the runners, so
// a mistake in the command line is answered at once.

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_GUIDE_EVERY, DEFAULT_OP_TIMEOUT, DEFAULT_RUNS } from '../fuzz/defaults.ts';
import { SHAPES, type AlphabetKind } from '../fuzz/verify/alphabet.ts';
import { ALPHABET_KINDS } from '../fuzz/verify/bounds.ts';
import { looksLikePath } from '../model/impl/looks-like-path.ts';
import { PROFILE_NAMES, type ProfileName } from '../model/profile.ts';
import { UserError } from '../model/user-error.ts';
import type { SchedulerName } from '../properties/findings.ts';
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
           a killed campaign resumes from the same folder. --impl kernel
           runs it on the live kernel: single-thread sequences, each in a
           fresh private namespace, a finding only once confirmed
  merge DIR...
           combine campaign folders (shards, machines) into --out:
           findings deduplicated by implementation and signature, cases and
           coverage counts summed, corpora joined
  kernel   run generated sequences on the live kernel (the model's own
           frames, in a private network namespace) and on the linux spec;
           print every confirmed disagreement, shrunk, and a census of what
           was tested; exits 1 if any disagreement is confirmed. With
           --depth N (and verify's alphabet flags), every transition verify
           explores from each state of fewer than N ops instead
  replay TOKEN|-
           re-run the case a token encodes (- reads it from standard input);
           print the verdict and write its report; exits 1 if the case
           fails. A token that names a module is run only with --impl
  verify   explore every op sequence up to --depth over a finite alphabet
           (--peers, --fds, --shapes, --groups, --families, --ops), states
           deduplicated, every oracle on
           every step; print the shortest counterexample of each signature,
           or a certificate of what was explored; exits 1 on a counterexample
  list     list the bundled implementations and profiles
  help     show this text

options:
  --impl NAME|PATH   implementation to check; repeatable (default: all bundled);
                     fuzz also takes kernel, the live kernel
  --profile NAME     rfc-v1 or linux: only the implementations of that profile
  --runs N           generated cases per implementation (default 2000)
  --seed N           master seed (default 1)
  --max-ops N        longest generated case (default 30)
  --thread-runs N    generated concurrent cases per implementation (default:
                     the same as --runs; 0 skips interleavings)
  --schedulers LIST  schedulers for concurrent cases: random,pct (default both)
  --out DIR          where the report goes (default ./out)
  --seconds N        fuzz: stop starting batches after N seconds
  --workers N        fuzz, verify: worker threads (default: one per core;
                     0 runs on the main thread, where an op that never
                     returns cannot be stopped); verify finds the same
                     whatever the number
  --batch N          fuzz: cases per batch (default 200)
  --shard I/N        fuzz: run the I-th of N disjoint streams of batches
  --guide-every N    fuzz: batches per coverage-guidance epoch (default 64);
                     batches are guided by what the campaign had covered and
                     kept one epoch earlier; 0 runs unguided
  --token-file FILE  replay: read the token from FILE (- is standard input)
  --op-timeout MS    run, check, replay, fuzz, verify: an op that has not
                     returned after MS milliseconds is a finding, hang:<op>
                     (default 2000; 0 runs without the watchdog); verify
                     goes on past 16 of them, each costing MS, and stops
                     at the 17th
  --allow-mixed      merge: allow folders of different seeds or implementations
  --depth N          verify: longest sequence explored (default 8; 6 for a
                     module whose state() tells its state, 3 for one
                     whose state cannot be read); kernel: run every
                     transition from each state of fewer than N ops
  --peers N          verify, kernel: peers that send packets (default 1)
  --fds N            verify, kernel: descriptors 0..N-1 operated on
                     (default 2)
  --shapes N         verify, kernel: SYN shapes sent, 1 to 4 (default 1):
                     loopback IPv4, Ethernet IPv6, IPv4 with IP options,
                     IPv6 with extension headers
  --groups           verify, kernel: SO_REUSEPORT groups too: reuseport on
                     each descriptor, SYNs steered to each group member,
                     the SYN-ACK retransmission timer, tcp_migrate_req 0|1
  --families         verify, kernel: AF_INET and IPV6_V6ONLY sockets besides
                     the dual-stack default, and IPv6 SYNs besides IPv4 ones
  --ops LIST         verify, kernel: only these kinds of op, comma-separated
                     (e.g. socket,bind,listen,syn,ack,accept); a sysctl's name
                     (tcp_migrate_req) stands for its settings alone, and
                     KIND=N for one backlog, mode, how or setting
                     (listen=0, setsockopt=1, tcp_migrate_req=1); a
                     smaller alphabet reaches a greater depth
  --pair-depth N     verify: pairs of ops on two threads, under every
                     interleaving, from every state up to depth N (default
                     3, or 1 where the state cannot be read; -1 explores none);
                     pairs of socket options on one socket go deeper, from
                     each state that first shows that socket as they see it
  --pair-from N      verify: pairs only from states at depth N or more
                     (default 0)
  --preemptions N    verify: preemptions per interleaving of a pair (default 3)
  --time-budget S    verify: stop after S seconds and report the depth
                     completed
  --quiet            print only the summary

Each command refuses the options it does not use. Exit codes: 0 done,
1 a failure found (check, replay, kernel), 2 bad input, 70 a defect in
savedsyn.
`;

export interface Options {
  impls: string[];
  profile: ProfileName | undefined;
  runs: number;
  runsGiven: boolean;
  seedGiven: boolean;
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
  verify: {
    depth?: number; peers?: number; fds?: number; shapes?: number; groups?: boolean; families?: boolean; kinds?: AlphabetKind[];
    pairDepth?: number; pairFrom?: number; preemptions?: number; timeBudget?: number;
  };
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
  depth: { type: 'string' },
  peers: { type: 'string' },
  fds: { type: 'string' },
  shapes: { type: 'string' },
  groups: { type: 'boolean' },
  families: { type: 'boolean' },
  ops: { type: 'string' },
  'time-budget': { type: 'string' },
  'pair-depth': { type: 'string' },
  'pair-from': { type: 'string' },
  preemptions: { type: 'string' },
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
  kernel: ['runs', 'seed', 'out', 'quiet', 'depth', 'peers', 'fds', 'shapes', 'groups', 'families', 'ops'],
  replay: ['impl', 'out', 'quiet', 'token-file', 'op-timeout'],
  verify: ['impl', 'workers', 'op-timeout', 'depth', 'peers', 'fds', 'shapes', 'groups', 'families', 'ops', 'pair-depth', 'pair-from', 'preemptions', 'time-budget', 'out', 'quiet'],
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
    if (takesValue && i + 1 < argv.length && /^-\d/.test(argv[i + 1])) out.push(`${argv[i]}=${argv[++i]}`);
    else out.push(argv[i]);
  }
  return out;
}

export function parse(argv: string[]): { command: string; opts: Options; arg: string | undefined; rest: string[] } {
  let parsed;
  const args = joinNegativeValues(argv);
  try {
    parsed = parseArgs({ args, allowPositionals: true, strict: true, options: OPTIONS, tokens: true });
  } catch (e) {
    // Node's message runs on with advice about '--'; its first sentence is the point.
    const message = e instanceof Error ? e.message : String(e);
    const ambiguous = /^Option '(-[-\w]+)(?: <value>)?' argument is ambiguous/.exec(message)?.[1];
    if (ambiguous !== undefined) throw new UserError(`${ambiguous} is followed by an option, not its value: give the value, or write ${ambiguous}=VALUE for one that starts with '-'`);
    const first = message.split(/\.\s/)[0].replace(/\.$/, '');
    throw new UserError(`${first} (savedsyn help lists the options)`);
  }
  const { values, positionals, tokens } = parsed;
  // A flag given again overrides it (a script's defaults, then the
  // user's), but every value given must be valid: each earlier one is
  // checked as if it were the only one.
  const occurrences = new Map<string, Array<{ index: number; width: number; value: string | undefined }>>();
  for (const t of tokens) {
    if (t.kind !== 'option' || OPTIONS[t.name as Flag]?.type !== 'string' || t.name === 'impl') continue;
    const list = occurrences.get(t.name) ?? [];
    list.push({ index: t.index, width: t.inlineValue === false ? 2 : 1, value: t.value });
    occurrences.set(t.name, list);
  }
  // The check sees each other flag once, at its last value: with every
  // repeat kept, checking k repeated flags would take k! parses.
  const span = (o: { index: number; width: number }): number[] => Array.from({ length: o.width }, (_, k) => o.index + k);
  const earlier = [...occurrences.values()].flatMap((list) => list.slice(0, -1));
  for (const list of occurrences.values()) {
    // A value given again is checked once.
    const checked = new Set([list[list.length - 1].value]);
    for (const keep of list.slice(0, -1)) {
      if (checked.has(keep.value)) continue;
      checked.add(keep.value);
      const drop = new Set([...earlier.filter((o) => o !== keep), list[list.length - 1]].flatMap(span));
      parse(args.filter((_, i) => !drop.has(i)));
    }
  }
  const command = values.help ? 'help' : positionals[0] ?? 'run';
  if (!COMMANDS.has(command)) throw new UserError(`unknown command '${command}': one of ${[...COMMANDS].join(', ')}`);
  const given = (Object.keys(values) as Flag[]).filter((f) => f !== 'help');
  const stray = values.help ? undefined : given.find((f) => !FLAGS[command].includes(f));
  if (stray === 'thread-runs' && command === 'fuzz' && values.impl?.includes('kernel')) {
    throw new UserError('a campaign on the live kernel runs no concurrent cases: the kernel is asked one op at a time, with nothing to interleave (fuzz takes no --thread-runs)');
  }
  // A module is one module however its path is spelled.
  const impls = (values.impl ?? []).map((x) => (looksLikePath(x) ? resolve(x) : x));
  const twiceAt = impls.findIndex((x, i) => impls.indexOf(x) !== i);
  const twice = twiceAt < 0 ? undefined : values.impl![twiceAt];
  if (twice !== undefined) throw new UserError(`--impl ${twice} is given twice: each implementation is searched once`);
  // A campaign on the live kernel alone runs single-thread sequences, and
  // the lane bounds its own runs: these would be taken and never used.
  if (command === 'fuzz' && impls.length > 0 && impls.every((x) => x === 'kernel')) {
    const unused = (['schedulers', 'op-timeout'] as const).find((f) => values[f] !== undefined);
    if (unused !== undefined) throw new UserError(`a campaign on the live kernel does not use --${unused}: its sequences run one op at a time, each bounded by the lane itself`);
  }
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
  const runs = integer('--runs', values.runs, DEFAULT_RUNS, 1);
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
      seedGiven: values.seed !== undefined,
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
      out: outFolder(values.out),
      outGiven: values.out !== undefined,
      quiet: values.quiet ?? false,
      tokenFile: values['token-file'],
      opTimeout: integer('--op-timeout', values['op-timeout'], DEFAULT_OP_TIMEOUT, 0),
      allowMixed: values['allow-mixed'] ?? false,
      verify: {
        // kernel --depth runs transitions, and a transition is at least one op.
        depth: optionalInteger('--depth', values.depth, command === 'kernel' ? 1 : 0, 64),
        peers: optionalInteger('--peers', values.peers, 1, 8),
        fds: optionalInteger('--fds', values.fds, 1, 16),
        shapes: optionalInteger('--shapes', values.shapes, 1, SHAPES.length),
        groups: values.groups,
        families: values.families,
        kinds: opKinds(values.ops),
        pairDepth: optionalInteger('--pair-depth', values['pair-depth'], -1, 64),
        pairFrom: optionalInteger('--pair-from', values['pair-from'], 0, 64),
        preemptions: optionalInteger('--preemptions', values.preemptions, 0, 16),
        // A timer's longest wait: about 24.8 days.
        timeBudget: optionalInteger('--time-budget', values['time-budget'], 1, Math.floor(0x7fffffff / 1000)),
      },
    },
  };
}

/** Bounds on what one run can ask for: past them a run never ends or never
 * fits in memory, and no use needs them. */
const MAX_BATCH = 1_000_000;
const MAX_WORKERS = 256;
const MAX_OPS = 1000;

function outFolder(raw: string | undefined): string {
  if (raw === undefined) return 'out';
  if (raw.trim() === '') throw new UserError('--out names no folder: give one (the default is ./out)');
  return raw;
}

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

/** --ops: kinds of op by name; whether the alphabet offers each is for
 * verify to say, knowing the other bounds. */
function opKinds(raw: string | undefined): AlphabetKind[] | undefined {
  if (raw === undefined) return undefined;
  const names = raw.split(',').map((x) => x.trim()).filter(Boolean);
  const bad = names.filter((n) => !(ALPHABET_KINDS as readonly string[]).includes(n.split('=')[0]));
  if (names.length === 0) throw new UserError(`--ops takes kinds of op, comma-separated; got '${raw}'`);
  if (bad.length > 0) throw new UserError(`--ops: ${bad.map((b) => `'${b}'`).join(', ')} ${bad.length === 1 ? 'is' : 'are'} no kind of op nor sysctl (one of ${ALPHABET_KINDS.join(', ')})`);
  return names as AlphabetKind[];
}

function optionalInteger(flag: string, raw: string | undefined, min: number, max?: number): number | undefined {
  return raw === undefined ? undefined : integer(flag, raw, 0, min, max);
}

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max = 2147483647): number {
  if (raw === undefined) return fallback;
  if (!/^-?\d+$/.test(raw)) throw new UserError(`${flag} expects an integer, got '${raw}'`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UserError(`${flag} must be between ${min} and ${max}, got ${raw}`);
  return n;
}
