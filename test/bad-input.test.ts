// Bad input, as a new user or a hostile one gives it: every kind is run in a
// fresh process and must end with the README's exit code for a user error
// (2), one `savedsyn:` line saying what is wrong, no stack trace, no
// "internal error", and no hang.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync, crc32 } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeToken } from '../reports/token.ts';
import { DEFAULT_PACKET } from '../model/packet.ts';
import { compiledFixture, SAVEDSYN } from './built.ts';

const ROOT = join(import.meta.dirname, '..');
const BIN = SAVEDSYN;
const tmp = mkdtempSync(join(tmpdir(), 'savedsyn-bad-'));
const at = (...p: string[]) => join(tmp, ...p);
// A module outside any package, so tsx compiles it as CommonJS, whose
// failed require() lists its require stack.
mkdirSync(at('outside'));
writeFileSync(at('outside', 'imports-missing.ts'), "import { createSpec } from 'no-such-package-anywhere';\nexport default { name: 'imports-missing', profile: 'linux', description: '', create: () => createSpec('linux') };\n");
// Answers every call with a number no system call returns.
writeFileSync(at('huge-ret.mjs'), "export default { name: 'huge-ret', profile: 'linux', description: '', create: () => ({ run: () => ({ ret: 2 ** 60 }) }) };\n");

interface Ran { code: number | null; err: string; out: string }

function savedsyn(args: string[], opts: { input?: string; wrap?: string[] } = {}): Promise<Ran> {
  const [cmd, ...pre] = opts.wrap ?? [process.execPath];
  const argv = opts.wrap ? [...pre, process.execPath, BIN, ...args] : [BIN, ...args];
  return new Promise((done) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    // A hang is a failure of its own, not a stuck suite.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => { clearTimeout(timer); done({ code, err, out }); });
    child.stdin.end(opts.input ?? '');
  });
}

const token = (c: unknown) => encodeToken(c as Parameters<typeof encodeToken>[0]);
const GOOD = token({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'listen', fd: 0, backlog: 2 }] });
function crafted(prefix: string, raw: Buffer): string {
  const head = `${prefix}.${deflateRawSync(raw).toString('base64url')}`;
  return `${head}.${crc32(head).toString(16).padStart(8, '0')}`;
}
const FAILING = token({ profile: 'rfc-v1', impl: 'rfc-v1', kind: 'sequential', ops: [{ kind: 'setsockopt', fd: 0, optname: 26, value: 1 }] });
const canUnshare = spawnSync('unshare', ['-rm', 'true']).status === 0;

/** [what, args, first line of stderr, options] */
type Case = [string, string[], RegExp, { input?: string; wrap?: string[]; skip?: boolean; oneLine?: boolean }?];

const CASES: Case[] = [
  // The command line.
  ['an unknown command', ['fuzzz'], /^savedsyn: unknown command 'fuzzz': one of run, check, fuzz/],
  ['an unknown flag', ['--frobnicate'], /^savedsyn: Unknown option '--frobnicate' \(savedsyn help lists the options\)$/],
  ['a flag without its value', ['--runs'], /^savedsyn: Option '--runs <value>' argument missing/],
  ['a number that is not one', ['--runs', 'many'], /^savedsyn: --runs expects an integer, got 'many'$/],
  ['a fractional seed', ['--seed', '1.5'], /^savedsyn: --seed expects an integer, got '1\.5'$/],
  ['a zero budget', ['--runs', '0'], /^savedsyn: --runs must be between 1 and 2147483647, got 0$/],
  ['a budget past 32 bits', ['--runs', '99999999999'], /^savedsyn: --runs must be between 1 and 2147483647/],
  ['a seed below the 32-bit range', ['--seed', '-2147483649'], /^savedsyn: --seed must be between -2147483648 and 2147483647/],
  ['an empty case length', ['--max-ops', '0'], /^savedsyn: --max-ops must be between 1 and 1000, got 0$/],
  ['an unknown profile', ['--profile', 'bsd'], /^savedsyn: --profile takes rfc-v1 or linux, got 'bsd'$/],
  ['an unknown scheduler', ['--schedulers', 'random,fifo'], /^savedsyn: --schedulers takes random and\/or pct/],
  ['a negative guidance epoch', ['fuzz', '--guide-every=-1'], /^savedsyn: --guide-every must be between 0/],
  ['a shard outside its count', ['fuzz', '--shard', '3/2'], /^savedsyn: --shard expects I\/N with 0 <= I < N/],
  ['a shard count past any integer', ['fuzz', '--shard', '1/99999999999999999999'], /^savedsyn: --shard expects I\/N/],
  ['a malformed shard', ['fuzz', '--shard', 'one/two'], /^savedsyn: --shard expects I\/N/],
  ['a giant batch', ['fuzz', '--batch', '2147483647', '--runs', '300'], /^savedsyn: --batch must be between 1 and 1000000/],
  ['a batch larger than the budget', ['fuzz', '--batch', '500', '--runs', '300'], /^savedsyn: --batch 500 is more than --runs 300/],
  ['thousands of workers', ['fuzz', '--workers', '9999'], /^savedsyn: --workers must be between 0 and 256/],
  ['a flag run ignores', ['run', '--seconds', '5'], /^savedsyn: run does not use --seconds: it takes --impl/],
  ['a flag list ignores', ['list', '--runs', '3'], /^savedsyn: list does not use --runs: it takes no options$/],
  ['a flag kernel ignores', ['kernel', '--impl', 'linux'], /^savedsyn: kernel does not use --impl/],
  ['an alphabet for the kernel without a depth', ['kernel', '--peers', '2'], /^savedsyn: kernel --peers sets the alphabet of kernel --depth N, which runs every transition to that depth: give --depth too$/],
  ['a count of random runs for every transition', ['kernel', '--depth', '2', '--runs', '5'], /^savedsyn: kernel --depth runs every transition to that depth: it takes no --runs$/],
  ['a seed for every transition', ['kernel', '--depth', '2', '--seed', '5'], /^savedsyn: kernel --depth runs every transition to that depth, and chooses nothing at random: it takes no --seed$/],
  ['a kernel depth of zero', ['kernel', '--depth', '0'], /^savedsyn: --depth must be between 1 and 64, got 0$/],
  ['a negative kernel depth', ['kernel', '--depth', '-1'], /^savedsyn: --depth must be between 1 and 64, got -1$/],
  ['a kernel alphabet op only an option offers', ['kernel', '--depth', '2', '--ops', 'socket,reuseport'], /^savedsyn: kernel: reuseport is offered only with groups on \(--groups\)$/],
  ['a kernel alphabet op not offered', ['kernel', '--depth', '2', '--ops', 'frobnicate'], /^savedsyn: --ops: 'frobnicate' is no kind of op nor sysctl/],
  ['a flag replay ignores', ['replay', GOOD, '--runs', '3'], /^savedsyn: replay does not use --runs/],
  ['a stray argument', ['run', 'extra'], /^savedsyn: unexpected argument 'extra'/],
  ['an implementation given twice', ['--impl', 'rfc-v1', '--impl', 'rfc-v1'], /^savedsyn: --impl rfc-v1 is given twice: each implementation is searched once$/],
  ['a negative fraction', ['--runs', '-1.5'], /^savedsyn: --runs expects an integer, got '-1\.5'$/],
  ['a scheduler for the live kernel', ['fuzz', '--impl', 'kernel', '--schedulers', 'pct'], /^savedsyn: a campaign on the live kernel does not use --schedulers/],
  ['pairs past the depth they run from', ['verify', '--impl', 'linux', '--pair-from', '5', '--pair-depth', '3', '--depth', '1'], /^savedsyn: verify: pairs would start at depth 5 \(--pair-from, pairFrom\)/],
  ['a flag followed by another flag, not its value', ['--seed', '--runs', '5'], /^savedsyn: --seed is followed by an option, not its value: give the value, or write --seed=VALUE for one that starts with '-'$/, { oneLine: true }],
  ['a value with a line break in it', ['--profile', 'lin\nux'], /^savedsyn: --profile takes rfc-v1 or linux, got 'lin\\nux'$/, { oneLine: true }],
  ['a bad value overridden by a good one', ['check', '--impl', 'linux', '--runs', 'abc', '--runs=5'], /^savedsyn: --runs expects an integer, got 'abc'$/],
  // Each repeat is checked once: checked against every other repeat, a
  // dozen flags given twice would not finish.
  ['a bad value among a dozen flags given twice', ['verify', '--impl', 'linux',
    ...['depth', 'peers', 'fds', 'shapes', 'pair-depth', 'pair-from', 'preemptions', 'time-budget', 'workers', 'op-timeout', 'out'].flatMap((f) => [`--${f}`, '1', `--${f}`, '1']),
    '--depth', 'deep', '--depth', '1'], /^savedsyn: --depth expects an integer, got 'deep'$/],
  ['an empty output folder', ['--impl', 'linux', '--runs', '5', '--out', ''], /^savedsyn: --out names no folder: give one \(the default is \.\/out\)$/],
  ['a time budget past any timer', ['verify', '--impl', 'linux', '--time-budget', '2147484'], /^savedsyn: --time-budget must be between 1 and 2147483, got 2147484$/],
  ['a token whose SYN has no packet', ['replay', token({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'syn', conn: 1 }] })], /^savedsyn: the token does not describe a case: ops\[0\] \(syn\) has no packet$/],
  // verify's alphabet.
  ['an op kind verify does not know', ['verify', '--impl', 'linux', '--ops', 'listen,teleport'], /^savedsyn: --ops: 'teleport' is no kind of op nor sysctl/],
  ['an op kind only an option offers', ['verify', '--impl', 'linux', '--ops', 'socket,reuseport'], /^savedsyn: verify: reuseport is offered only with groups on \(--groups\)$/],
  ['a backlog verify does not offer', ['verify', '--impl', 'linux', '--ops', 'socket,listen=7'], /^savedsyn: verify: 'listen=7': the backlog of listen is one of 0, 1$/],
  ['a fifth packet shape', ['verify', '--impl', 'linux', '--shapes', '5'], /^savedsyn: --shapes must be between 1 and 4, got 5$/],
  // Implementations.
  ['check without an implementation', ['check'], /^savedsyn: check takes exactly one --impl NAME\|PATH$/],
  ['check with two implementations', ['check', '--impl', 'linux', '--impl', 'rfc-v1'], /^savedsyn: check takes exactly one --impl/],
  ['an unknown implementation', ['--impl', 'nope'], /^savedsyn: unknown implementation 'nope': bundled ones are rfc-v1, rfc-v1-fixed, linux/],
  ['the live kernel where an implementation goes', ['verify', '--impl', 'kernel'], /^savedsyn: 'kernel' is the live kernel, which runs on its lane, not as an implementation: savedsyn kernel runs sequences on it/],
  ['an implementation of another profile', ['--profile', 'linux', '--impl', 'rfc-v1'], /^savedsyn: --profile linux, but rfc-v1 implements rfc-v1$/],
  ['a missing module', ['check', '--impl', './nowhere.ts'], /^savedsyn: implementation module not found: .*nowhere\.ts$/],
  ['a module without create()', ['check', '--impl', './test/fixtures/missing-create.ts'], /does not fit the Implementation interface: missing or wrong `create\(env\)`/],
  ['a module with an unknown profile', ['check', '--impl', './test/fixtures/wrong-profile.ts'], /`profile` \(one of rfc-v1, linux\)/],
  ['a module that throws on import', ['check', '--impl', './test/fixtures/throws-on-import.ts'], /^savedsyn: could not load .*: this module refuses to load$/],
  ['a module that does not parse', ['check', '--impl', './test/fixtures/syntax-error.mjs'], /^savedsyn: could not load \.\/test\/fixtures\/syntax-error\.mjs: /],
  ['a module whose export is a number', ['check', '--impl', './test/fixtures/not-an-object.ts'], /^savedsyn: .*not-an-object\.ts does not export an implementation/],
  ['a view() that lists a descriptor twice', ['check', '--impl', compiledFixture('view-twice'), '--runs', '50', '--thread-runs', '0'], /^savedsyn: view-twice does not fit the Implementation interface: view\(\) must list each open descriptor once; it lists fd 0 twice; it gave /],
  ['a run() that returns more than a C int holds', ['check', '--impl', at('huge-ret.mjs'), '--runs', '20', '--thread-runs', '0'], /^savedsyn: huge-ret does not fit the Implementation interface: run\(.*\) must return an Outcome \{ ret: a C int, .* or a generator returning one \(ret\); it gave number 1152921504606847000$/],
  ['a view() that returns a string', ['check', '--impl', compiledFixture('view-string'), '--runs', '50'], /^savedsyn: view-string does not fit the Implementation interface: view\(\) must return an array of \{ fd, flag, kept \}; it gave the string "fd 0: listening"$/],
  ['a run() that returns null', ['check', '--impl', './test/fixtures/run-null.ts', '--runs', '50'], /^savedsyn: run-null does not fit the Implementation interface: run\(.*\) must return an Outcome .*; it gave null$/],
  ['a create() that throws on its second call', ['check', '--impl', './test/fixtures/create-once.mjs', '--runs', '50'], /^savedsyn: create-once does not fit the Implementation interface: create\(env\) must build a fresh instance every time it is called \(once per case\), but threw on call 2: already created$/],
  ['a create() that never returns', ['check', '--impl', './test/fixtures/hangs-in-create.mjs', '--op-timeout', '200'], /^savedsyn: the implementation's create\(\) did not return within 200 ms: a module must return from it to be checked \(--op-timeout, or the opTimeout option, sets the bound\)$/],
  ['a create() that never returns, to verify', ['verify', '--impl', './test/fixtures/hangs-in-create.mjs', '--workers', '0', '--op-timeout', '200'], /^savedsyn: the implementation's create\(\) did not return within 200 ms/],
  ['a create() that stops returning, to check', ['check', '--impl', './test/fixtures/create-hangs-later.mjs', '--runs', '20', '--op-timeout', '200'], /^savedsyn: the implementation's create\(\) did not return within 200 ms/],
  ['a create() that stops returning, to verify', ['verify', '--impl', './test/fixtures/create-hangs-later.mjs', '--depth', '1', '--op-timeout', '200', '--quiet'], /^savedsyn: the implementation's create\(\) did not return within 200 ms/],
  ['a generator that yields a number', ['check', '--impl', './test/fixtures/yields-number.mjs', '--runs', '50'], /^savedsyn: yields-number does not fit the Implementation interface: a generator from run\(\) must yield site labels/],
  ['a module that is not deterministic', ['check', '--impl', './test/fixtures/not-deterministic.mjs', '--runs', '100', '--thread-runs', '0'],
    /^savedsyn: not-deterministic is not deterministic: .* A module must give the same results for the same ops each time/],
  ['a module that throws after its call returned', ['check', '--impl', compiledFixture('throws-later'), '--runs', '50', '--thread-runs', '0'],
    /^savedsyn: an error escaped every call savedsyn made into the implementation \(a timer, promise or callback the module left behind threw it\): thrown after accept returned$/],
  ['a module whose timer throws, to check', ['check', '--impl', compiledFixture('throws-in-a-timer'), '--runs', '50', '--thread-runs', '0'],
    /^savedsyn: an error escaped every call savedsyn made into the implementation \(a timer, promise or callback the module left behind threw it\): thrown by a timer listen\(\) left$/],
  ['a module whose timer throws, to check on this thread', ['check', '--impl', compiledFixture('throws-in-a-timer'), '--runs', '50', '--thread-runs', '0', '--op-timeout', '0'],
    /^savedsyn: an error escaped every call savedsyn made into the implementation \(a timer, promise or callback the module left behind threw it\): thrown by a timer listen\(\) left$/],
  ['a module whose timer throws, to fuzz', ['fuzz', '--impl', compiledFixture('throws-in-a-timer'), '--runs', '50', '--batch', '50', '--workers', '1', '--out', at('timer-fuzz')],
    /^savedsyn: batch 0 failed: an error escaped every call savedsyn made into the implementation .*: thrown by a timer listen\(\) left$/],
  ['a module that throws after its call returned, to verify on a worker', ['verify', '--impl', compiledFixture('throws-later'), '--depth', '2', '--pair-depth', '-1', '--workers', '1', '--quiet'],
    /^savedsyn: an error escaped every call savedsyn made into the implementation \(a timer, promise or callback the module left behind threw it\): thrown after accept returned$/],
  ['a module whose import is not installed', ['check', '--impl', at('outside', 'imports-missing.ts'), '--runs', '5'],
    /^savedsyn: could not load \S+imports-missing\.ts: Cannot find (module|package) 'no-such-package-anywhere'[^\n]*$/, { oneLine: true }],
  ['one module given twice under two spellings', ['check', '--impl', './examples/atomic-linux.ts', '--impl', 'examples/../examples/atomic-linux.ts'],
    /^savedsyn: --impl examples\/\.\.\/examples\/atomic-linux\.ts is given twice: each implementation is searched once$/],
  ['a module that counts its instances, whose finding a fresh load does not show', ['check', '--impl', compiledFixture('counts-instances'), '--runs', '100', '--thread-runs', '0'],
    /^savedsyn: counts-instances is not deterministic: the counterexample for lockstep:listen:\S+ passes when the module is loaded afresh, as savedsyn replay loads it\. A module must give/],
  ['a module that counts its instances, to verify', ['verify', '--impl', compiledFixture('counts-instances'), '--depth', '1', '--pair-depth', '-1', '--workers', '1', '--quiet'],
    /^savedsyn: counts-instances is not deterministic: the counterexample for lockstep:listen:\S+ passes when the module is loaded afresh, as savedsyn replay loads it\./],
  ['a module whose run() is async', ['check', '--impl', compiledFixture('run-async'), '--runs', '50', '--thread-runs', '0'],
    /^savedsyn: run-async does not fit the Implementation interface: run\(listen\(fd \d+, -?\d+\)\) must return an Outcome .* or a generator returning one; it gave a promise \(an async function's result: savedsyn calls it synchronously\)$/],
  ['a module whose instances share one world', ['check', '--impl', compiledFixture('shares-a-world'), '--runs', '100'],
    /^savedsyn: shares-a-world is not deterministic: two instances from create\(\) answered socket\(\), close\(fd 0\) differently \(1, 0; then 0, 0\)\. A module must give/],
  ['a module that is not deterministic, to verify on a worker', ['verify', '--impl', './test/fixtures/not-deterministic.mjs', '--depth', '1', '--pair-depth', '-1', '--workers', '1', '--quiet'],
    /^savedsyn: not-deterministic is not deterministic: the counterexample for \S+ does not fail with it when run again/],
  ['an unknown errno, to verify on a worker', ['verify', '--impl', './test/fixtures/bad-errno.mjs', '--depth', '1', '--pair-depth', '-1', '--workers', '1', '--quiet'],
    /^savedsyn: bad-errno does not fit the Implementation interface: run\(accept\(fd 0\)\) must return an Outcome/],
  ['a module that exits its thread', ['check', '--impl', './test/fixtures/exits-in-run.mjs', '--runs', '50'],
    /^savedsyn: the implementation ended its thread \(exit code 3\) in the middle of a call: a module must not call process\.exit$/],
  ['a module that exits the main thread', ['check', '--impl', './test/fixtures/exits-in-run.mjs', '--runs', '50', '--op-timeout', '0'],
    /^savedsyn: the implementation called process\.exit\(3\): a module must return from its calls, not end the process that checks it$/],
  ['a module that exits in create()', ['check', '--impl', './test/fixtures/exits-in-create.mjs', '--runs', '20'],
    /^savedsyn: the implementation called process\.exit\(0\)/],
  ['a module that exits its thread, to verify', ['verify', '--impl', './test/fixtures/exits-in-run.mjs', '--depth', '1', '--pair-depth', '-1', '--workers', '1', '--quiet'],
    /^savedsyn: the implementation ended verify's worker thread \(exit code 3\)/],
  ['an async create() that rejects', ['check', '--impl', './test/fixtures/async-create.mjs', '--runs', '20'],
    /^savedsyn: async-create does not fit the Implementation interface: create\(env\) must return an object with run\(op, thread\) \(call 1\); it gave a promise/],
  ['a module that exports a rejected promise', ['check', '--impl', './test/fixtures/exports-rejected-promise.mjs', '--runs', '20'],
    /^savedsyn: \.\/test\/fixtures\/exports-rejected-promise\.mjs exports a promise, not an implementation/],
  ['a module whose name getter throws', ['verify', '--impl', './test/fixtures/name-getter-throws.mjs', '--depth', '1'],
    /^savedsyn: \.\/test\/fixtures\/name-getter-throws\.mjs does not fit the Implementation interface: reading its `name` threw: no name yet$/],
  // Tokens.
  ['replay without a token', ['replay'], /^savedsyn: replay takes the token to replay/],
  ['a token that is not one', ['replay', 'hello'], /^savedsyn: not a savedsyn replay token/],
  ['a truncated token', ['replay', GOOD.slice(0, -12)], /^savedsyn: the token is truncated or damaged/],
  ['an altered token', ['replay', GOOD.replace(/\.(.)/, (_, c: string) => `.${c === 'A' ? 'B' : 'A'}`)], /^savedsyn: the token is damaged: its checksum does not match/],
  ['a token from a newer savedsyn', ['replay', crafted('ssyn9', Buffer.from('{}'))], /^savedsyn: this token was made by a newer savedsyn \(token version 9\)/],
  ['a token with another version prefix', ['replay', GOOD.replace(/^ssyn2\./, 'ssyn0.')], /^savedsyn: unknown token version '0'/],
  ['a token that inflates to gigabytes', ['replay', crafted('ssyn2', Buffer.alloc(64 << 20, 0x20))], /^savedsyn: the token's case inflates to more than 16 MiB/],
  ['a token of something that is not a case', ['replay', token({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'frobnicate' }] })], /^savedsyn: the token does not describe a case: ops\[0\] is not an op$/],
  ['a token that names a module', ['replay', token({ profile: 'linux', impl: './test/fixtures/leaky.ts', kind: 'sequential', ops: [] })], /^savedsyn: the token names the module "\.\/test\/fixtures\/leaky\.ts", and a token never chooses code to run/],
  ['a token of another profile than --impl', ['replay', GOOD, '--impl', 'rfc-v1'], /^savedsyn: the token is for profile linux, but rfc-v1 implements rfc-v1$/],
  ['an empty standard input for a token', ['replay', '-'], /^savedsyn: no token in standard input$/, { input: '\n' }],
  ['a token file that does not exist', ['replay', '--token-file', '/nonexistent/token'], /^savedsyn: cannot read the token from \/nonexistent\/token: ENOENT$/],
  ['a token file with two tokens', ['replay', '--token-file', at('two.tok')], /^savedsyn: \S+two\.tok holds 2 tokens: replay runs one \(put each in a file of its own\)$/],
  ['a token file named by an empty string', ['replay', '--token-file', ''], /^savedsyn: --token-file names no file \(- reads standard input\)$/],
  ['a token and a token file', ['replay', GOOD, '--token-file', '/nonexistent/token'], /^savedsyn: replay takes a token or --token-file, not both$/],
  ['a kernel token that waits out a SYN-ACK timer another peer\'s request would feel', ['replay', token({ profile: 'linux', impl: 'kernel', kind: 'sequential', ops: [
    { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'syn', conn: 1, packet: DEFAULT_PACKET }, { kind: 'syn', conn: 2, packet: DEFAULT_PACKET }, { kind: 'synackRetransmit', conn: 1 },
  ] })], /^savedsyn: the token's op 3 \(synackRetransmit\) cannot run on the live kernel while peer 2's request is pending too/],
  ['a kernel token whose peer comes back over the other IP version', ['replay', token({ profile: 'linux', impl: 'kernel', kind: 'sequential', ops: [
    { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'syn', conn: 1, packet: DEFAULT_PACKET }, { kind: 'syn', conn: 1, packet: { ...DEFAULT_PACKET, family: 6 } },
  ] })], /^savedsyn: the token's op 2 sends peer 1's SYN over the other IP version: the model takes a peer for one connection/],
  ['a token with a number the lane would wrap', ['replay', token({ profile: 'linux', impl: 'kernel', kind: 'sequential', ops: [{ kind: 'setsockopt', fd: 1, optname: 27, value: 2 ** 32 + 1 }] })],
    /^savedsyn: the token does not describe a case: ops\[0\] \(setsockopt\) value is outside a C int$/],
  ['a token whose SYN comes from no peer', ['replay', token({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'flood', first: 9990, count: 20 }] })],
    /^savedsyn: the token does not describe a case: ops\[0\] \(flood\) floods peers past 9999$/],
  // The live kernel's lane.
  ['a lane cache that is a file', ['kernel', '--runs', '2', '--out', at('k-cache')], /^savedsyn: the live-kernel lane cannot run here: the kernel lane's helper cannot be built in .*package\.json\/native \(ENOTDIR; SAVEDSYN_CACHE names another folder\)$/,
    { wrap: ['env', `SAVEDSYN_CACHE=${join(ROOT, 'package.json')}`] }],
  // Where output goes.
  ['an output folder under /proc', ['--impl', 'linux', '--runs', '5', '--out', '/proc/savedsyn/out'], /^savedsyn: cannot create \/proc\/savedsyn\/out: it cannot be created there \(ENOENT\) at \/proc\/savedsyn$/],
  ['an output folder that is a file', ['--impl', 'linux', '--runs', '5', '--out', 'package.json'], /^savedsyn: cannot create .*package\.json: .*package\.json is a file, not a folder$/],
  ['an output folder below a file', ['replay', FAILING, '--out', 'package.json/reports'], /^savedsyn: cannot create .*package\.json\/reports: .*package\.json is a file, not a folder$/],
  ['a campaign folder under /proc', ['fuzz', '--runs', '10', '--out', '/proc/savedsyn/campaign'], /^savedsyn: cannot create \/proc\/savedsyn\/campaign: /],
  ['an output folder on a read-only filesystem', ['--impl', 'linux', '--runs', '5', '--out', '/mnt/out'], /^savedsyn: cannot create \/mnt\/out: the filesystem is read-only \(EROFS\)$/,
    { wrap: ['unshare', '-rm', 'sh', '-c', 'mount -t tmpfs none /mnt && mount -o remount,ro /mnt && exec "$@"', 'sh'], skip: !canUnshare }],
  ['a campaign folder whose findings folder is a file', ['fuzz', '--impl', 'rfc-v1', '--runs', '100', '--batch', '50', '--workers', '1', '--out', at('findings-file')],
    /^savedsyn: cannot mkdir .*findings-file\/findings: a file of that name exists \(EEXIST\)$/],
  ['a campaign folder whose corpus folder is a file', ['fuzz', '--impl', 'rfc-v1', '--runs', '100', '--batch', '50', '--workers', '1', '--out', at('corpus-file')],
    /^savedsyn: cannot \w+ .*corpus-file\/corpus: a file stands where a folder should \(ENOTDIR\)$/],
  // Merging.
  ['merge without folders', ['merge', '--out', at('m-none')], /^savedsyn: merge takes the campaign folders to combine/],
  ['merge without --out', ['merge', at('a'), at('b')], /^savedsyn: merge writes a new folder and needs it named/],
  ['merge of a folder that does not exist', ['merge', '--out', at('m-x'), at('a'), at('nowhere')], /^savedsyn: no campaign folder .*nowhere$/],
  ['a campaign folder whose state.json quotes a line break', ['fuzz', '--impl', 'rfc-v1', '--runs', '20', '--batch', '10', '--out', at('garbled')], /^savedsyn: \S+garbled holds a campaign's files \(1 finding\) but an unreadable state\.json \(.*"garbage\\n" is not valid JSON\)/, { oneLine: true }],
  ['merge of a folder that fails to be read after another was merged', ['merge', '--out', at('m-broken'), at('a'), at('b-corpus-file')], /^savedsyn: cannot scandir \S+b-corpus-file\/corpus: a file stands where a folder should \(ENOTDIR\)$/],
  ['a campaign resumed with its implementations in another order', ['fuzz', '--impl', 'linux', '--impl', 'rfc-v1', '--runs', '200', '--batch', '100', '--out', at('two-impls')],
    /^savedsyn: \S+two-impls holds a campaign of rfc-v1, linux in that order; this run names them as linux, rfc-v1, and the order decides which batch runs which: resume it with --impl in the same order, or use another --out$/],
  ['a campaign folder where index.html is a folder', ['fuzz', '--impl', 'rfc-v1', '--runs', '20', '--batch', '10', '--out', at('index-dir')], /^savedsyn: \S+index-dir\/index\.html is not a page savedsyn wrote, and the campaign's dashboard would overwrite it: move it, or give another --out$/],
  ['merge of one folder twice', ['merge', '--out', at('m-twice'), at('a'), at('a')], /^savedsyn: .*a is given twice: its cases would count twice$/],
  ['merge of the same shard twice, mixed campaigns allowed', ['merge', '--allow-mixed', '--out', at('m-shard-mixed'), at('a'), at('a-copy'), at('other-seed')], /^savedsyn: .* both ran shard 0\/2 of the same campaign/],
  ['merge of the same shard twice', ['merge', '--out', at('m-shard'), at('a'), at('a-copy')], /^savedsyn: .* both ran shard 0\/2 of the same campaign/],
  ['merge into an input', ['merge', '--out', at('a', 'merged'), at('a'), at('b')], /^savedsyn: --out .* and the input .*a overlap: merge never writes into its inputs$/],
  ['merge of different campaigns', ['merge', '--out', at('m-mixed'), at('a'), at('other-seed')], /^savedsyn: .*other-seed is another campaign than .*a \(seed 1 and 9 in state\.json\): --allow-mixed merges them anyway$/],
  ['merge of a folder that is not a campaign', ['merge', '--out', at('m-plain'), at('a'), at('plain')], /^savedsyn: .*plain is not a campaign folder/],
  ['merge into a folder that holds files', ['merge', '--out', at('b'), at('a'), at('other-seed')], /^savedsyn: --out .* already exists and is not an empty folder: merge writes a new folder$/],
  ['a campaign folder of another campaign', ['fuzz', '--impl', 'rfc-v1', '--runs', '200', '--batch', '100', '--workers', '1', '--seed', '8', '--shard', '0/2', '--out', at('a')], /^savedsyn: .*(another|different|seed)/],
];

describe('bad input: one line, exit 2, no stack trace, no hang', () => {
  beforeAll(() => {
    // Small campaign folders for the merge cases: two shards of one
    // campaign, a copy of one, one of another seed, and a plain folder.
    const fuzz = (out: string, extra: string[]) => {
      const r = spawnSync(process.execPath, [BIN, 'fuzz', '--impl', 'rfc-v1', '--runs', '200', '--batch', '100', '--workers', '1', '--quiet', '--out', out, ...extra], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
      expect(r.status, r.stderr).toBe(0);
    };
    fuzz(at('a'), ['--shard', '0/2']);
    fuzz(at('a-copy'), ['--shard', '0/2']);
    fuzz(at('b'), ['--shard', '1/2']);
    fuzz(at('other-seed'), ['--seed', '9']);
    fuzz(at('two-impls'), ['--impl', 'linux']);
    for (const sub of ['findings', 'corpus']) {
      mkdirSync(at(`${sub}-file`));
      writeFileSync(at(`${sub}-file`, sub), 'in the way\n');
    }
    mkdirSync(at('plain'));
    writeFileSync(at('plain', 'notes.txt'), 'not a campaign\n');
    cpSync(at('b'), at('b-corpus-file'), { recursive: true });
    rmSync(at('b-corpus-file', 'corpus'), { recursive: true });
    writeFileSync(at('b-corpus-file', 'corpus'), 'in the way\n');
    writeFileSync(at('two.tok'), `${GOOD}\n${GOOD}\n`);
    mkdirSync(at('index-dir', 'index.html'), { recursive: true });
    mkdirSync(at('garbled'), { recursive: true });
    mkdirSync(at('garbled', 'findings'), { recursive: true });
    writeFileSync(at('garbled', 'findings', 'x.json'), '{}\n');
    writeFileSync(at('garbled', 'state.json'), 'garbage\n');
  }, 60_000);

  it('has at least 40 distinct kinds of bad input', () => {
    expect(new Set(CASES.map(([what]) => what)).size).toBe(CASES.length);
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.runIf(!canUnshare)('unshare -rm is not available here, so the read-only filesystem is not tried', () => {
    expect(canUnshare).toBe(false);
  });

  for (const [what, args, first, opts] of CASES.filter(([, , , o]) => o?.skip !== true)) {
    it.concurrent(what, async () => {
      const r = await savedsyn(args, opts);
      expect(r.code, `${r.out}\n${r.err}`).toBe(2);
      expect(r.err.split('\n')[0]).toMatch(first);
      expect(r.err).not.toMatch(/internal error/);
      expect(r.err).not.toMatch(/\n\s+at /);
      if (opts?.oneLine) expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    });
  }

  it('a CI step summary that cannot be written is a warning: the run\'s reports and exit code stand', () => {
    const out = at('summary-refused');
    const r = spawnSync(process.execPath, [BIN, 'check', '--impl', 'rfc-v1', '--runs', '50', '--thread-runs', '0', '--quiet', '--out', out], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GITHUB_STEP_SUMMARY: tmpdir() } });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toBe(`warning: the CI step summary was not written: cannot write ${tmpdir()} (GITHUB_STEP_SUMMARY): it is a folder (EISDIR)\n`);
    expect(readdirSync(out).sort()).toEqual(['report.json', 'report.md']);
  });

  it('never writes into a merge input, nor leaves a merge half done', () => {
    expect(readdirSync(at('plain'))).toEqual(['notes.txt']);
    expect(readdirSync(at('m-broken'))).toEqual([]);
    // A campaign refused for its index.html leaves the folder as it was.
    expect(readdirSync(at('index-dir'))).toEqual(['index.html']);
    expect(readdirSync(at()).filter((f) => f.includes('.merging-'))).toEqual([]);
    expect(readdirSync(at('a')).filter((f) => f === 'merged')).toEqual([]);
  });

  it('a FIFO in a campaign folder is skipped with a warning, by merge and by a resume, not read and waited on', async () => {
    const folder = at('b-fifo');
    cpSync(at('b'), folder, { recursive: true });
    for (const f of ['corpus/000000-0000beef.json', 'findings/fifo.json', 'coverage.json']) {
      rmSync(join(folder, f), { force: true });
      expect(spawnSync('mkfifo', [join(folder, f)]).status).toBe(0);
    }
    const merged = await savedsyn(['merge', '--out', at('m-fifo'), at('a'), folder]);
    expect(merged.code, merged.err).toBe(0);
    // coverage.json is not read where state.json holds the counts.
    for (const f of ['corpus/000000-0000beef.json', 'findings/fifo.json']) {
      expect(merged.out).toContain(`warning: ${folder}: skipping ${f}: unreadable (not a regular file but a FIFO)`);
    }
    const resumed = await savedsyn(['fuzz', '--impl', 'rfc-v1', '--runs', '300', '--batch', '100', '--workers', '1', '--shard', '1/2', '--out', folder]);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/^warning: skipping findings\/fifo\.json: unreadable \(not a regular file but a FIFO\)/m);
  });

  it('a merge stopped before it moved its folder into place leaves nothing the next merge into that folder keeps', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const left = at(`m-again.merging-${gone}`);
    mkdirSync(join(left, 'corpus'), { recursive: true });
    writeFileSync(join(left, 'corpus', '000000-00000000.json'), '{}\n');
    // A merge still running, as far as anyone can tell, is left alone.
    const running = at(`m-again.merging-${process.pid}`);
    mkdirSync(running);
    const r = await savedsyn(['merge', '--out', at('m-again'), at('a'), at('b')]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`removed ${left}, left by a merge into the same folder that was stopped`);
    expect(readdirSync(at()).filter((f) => f.startsWith('m-again'))).toEqual(['m-again', `m-again.merging-${process.pid}`]);
    rmSync(running, { recursive: true });
  });
});
