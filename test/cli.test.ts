// The command line: the main job and third-party modules (bad input has a
// suite of its own).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { encodeToken } from '../reports/token.ts';
import { built, compiledFixture, SAVEDSYN } from './built.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, [SAVEDSYN, ...args], { encoding: 'utf8', cwd: process.cwd() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const out = () => mkdtempSync(join(tmpdir(), 'savedsyn-'));

describe('savedsyn run', () => {
  it('searches the bundled implementations, prints each rfc-v1 finding and writes the report', async () => {
    const lines: string[] = [];
    const dir = out();
    const code = await main(['--runs', '1000', '--out', dir], (s) => lines.push(s));
    expect(code).toBe(0);
    const text = lines.join('\n');
    expect(text).toMatch(/rfc-v1 \(rfc-v1\): 1000 single-thread cases, 4 distinct finding\(s\); 1000 concurrent cases, 2 distinct race/);
    expect(text).toMatch(/rfc-v1-fixed \(rfc-v1\): 1000 single-thread cases, 0 distinct finding\(s\); 1000 concurrent cases, 0 distinct/);
    expect(text).toMatch(/linux \(linux\): 1000 single-thread cases, 0 distinct finding\(s\); 1000 concurrent cases, 0 distinct/);
    expect(text).toContain('state:accept:flag');
    expect(text).toContain('linearizability:getsockopt:ENOENT');
    expect(text).toContain('leak:sk:net/ipv4/tcp.c do_tcp_getsockopt');
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(json.implementations.find((i: { name: string }) => i.name === 'rfc-v1').findings).toHaveLength(4);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('## rfc-v1');
  });

  it('--profile keeps to the bundled implementations of that profile', async () => {
    const lines: string[] = [];
    expect(await main(['--profile', 'linux', '--runs', '100', '--thread-runs', '0', '--out', out(), '--quiet'], (s) => lines.push(s))).toBe(0);
    expect(lines.filter((l) => / single-thread cases/.test(l)).map((l) => l.split(':')[0])).toEqual(['linux (linux)']);
  });

  it('is deterministic: the same seed writes the same report', async () => {
    const a = out();
    const b = out();
    await main(['--impl', 'rfc-v1', '--runs', '500', '--seed', '9', '--out', a, '--quiet'], () => {});
    await main(['--impl', 'rfc-v1', '--runs', '500', '--seed', '9', '--out', b, '--quiet'], () => {});
    expect(readFileSync(join(a, 'report.md'), 'utf8')).toBe(readFileSync(join(b, 'report.md'), 'utf8'));
  });
});

describe('savedsyn check on third-party modules', () => {
  it('passes a module that fits the interface and behaves', () => {
    const r = cli(['check', '--impl', './examples/atomic-linux.ts', '--runs', '300', '--out', out()]);
    expect(r.out).toContain('atomic-linux (linux): 300 single-thread cases, 0 distinct finding(s); 300 concurrent cases, 0 distinct');
    expect(r.code, r.err).toBe(0);
  });

  it('fails a module that leaks, naming the leak, with exit code 1', () => {
    const r = cli(['check', '--impl', compiledFixture('leaky'), '--runs', '300', '--out', out()]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('leak:leaky:leaky.ts run');
  });

  it('prints, for a module\'s finding, a replay command that replays it as printed (check and verify)', () => {
    const dir = out();
    const checked = cli(['check', '--impl', './test/fixtures/leaky.ts', '--runs', '50', '--thread-runs', '0', '--out', dir]);
    const verified = cli(['verify', '--impl', './test/fixtures/leaky.ts', '--depth', '1', '--pair-depth', '-1', '--out', join(dir, 'v'), '--quiet']);
    expect(verified.code).toBe(1);
    const printed = checked.out.match(/replay: (npx savedsyn replay .*)/)![1];
    const written = readFileSync(join(dir, 'v', 'report.md'), 'utf8').match(/Replay: `(npx savedsyn replay [^`]*)`/)![1];
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).implementations[0].findings[0].replay).toBe(printed);
    for (const command of [printed, written]) {
      expect(command).toMatch(/ --impl \.\/test\/fixtures\/leaky\.ts$/);
      const [, , ...args] = command.split(' ');
      const r = cli(args.concat('--out', out()));
      expect(r.err).toBe('');
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/^fails: leak:leaky:leaky\.ts run/);
    }
  });

  it('calls create() as the module\'s method, and loads CommonJS named exports: what it checks is what the module does', () => {
    // Both refuse socket() with EMFILE; a create() that lost its `this`
    // would not, and a named CommonJS export would not load.
    for (const module of ['./test/fixtures/class-this.mjs', './test/fixtures/cjs-named.cjs']) {
      const dir = out();
      expect(cli(['check', '--impl', module, '--runs', '50', '--thread-runs', '0', '--quiet', '--out', dir]).code).toBe(1);
      expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).implementations[0].findings.map((f: { signature: string }) => f.signature))
        .toContain('lockstep:socket:ok->EMFILE');
    }
  });

  it('output piped into a reader that stops early ends the printing, not the run: reports written, exit code kept', () => {
    const dir = out();
    const piped = (args: string, stream: '' | '2>&1') => spawnSync('bash', ['-c', `node bin/savedsyn.mjs ${args} ${stream} | head -1 >/dev/null; echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8' });
    const run = piped(`check --impl rfc-v1 --runs 60 --thread-runs 0 --out ${dir}/check`, '');
    expect(run.stdout.trim()).toBe('rc=1');
    expect(JSON.parse(readFileSync(join(dir, 'check', 'report.json'), 'utf8')).implementations[0].findings.length).toBeGreaterThan(0);
    const verified = piped(`verify --impl linux --depth 1 --pair-depth -1 --workers 0 --out ${dir}/verify`, '2>&1');
    expect(verified.stdout.trim()).toBe('rc=0');
    expect(readFileSync(join(dir, 'verify', 'certificate.txt'), 'utf8')).toMatch(/depth completed +1 of 1/);
  });

  it('output piped into a reader that keeps reading arrives whole before the process exits', () => {
    const dir = out();
    // A long replay: a table row for each of its 20,001 steps.
    const long = encodeToken({ profile: 'rfc-v1', impl: 'rfc-v1', kind: 'sequential', ops: [{ kind: 'setsockopt', fd: 0, optname: 26, value: 1 }, ...Array.from({ length: 20_000 }, () => ({ kind: 'dup' as const, fd: 5 }))] });
    writeFileSync(join(dir, 'long.tok'), `${long}\n`);
    const r = spawnSync('bash', ['-c', `node ${SAVEDSYN} replay --token-file ${dir}/long.tok --out ${dir}/r | cat; echo "rc=\${PIPESTATUS[0]}"`], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe('rc=1');
    expect(lines.at(-2)).toMatch(new RegExp(`^report: ${dir}/r/\\S+\\.md \\(and [^)]+\\)$`));
    expect(lines.length).toBeGreaterThan(20_000);
  });

  it('--quiet leaves a campaign\'s and a merge\'s summary alone on the terminal', () => {
    const dir = out();
    const run = (args: string[]): string[] => {
      const r = cli(args);
      expect(r.code, r.err).toBe(0);
      return r.out.replace(/\n$/, '').split('\n').map((l) => l.split(':')[0]);
    };
    const campaign = ['fuzz', '--impl', 'rfc-v1', '--runs', '50', '--batch', '50', '--workers', '1'];
    expect(run([...campaign, '--out', join(dir, 'loud')])).toContain('new finding on rfc-v1');
    // Another seed: the same campaign twice would count its cases twice.
    expect(run([...campaign, '--seed', '2', '--quiet', '--out', join(dir, 'quiet')])).toEqual(['campaign', 'findings and stats']);
    expect(run(['merge', '--quiet', '--out', join(dir, 'merged'), join(dir, 'loud'), join(dir, 'quiet'), '--allow-mixed'])).toEqual(['merged']);
  });

  it('reports a deadlock by the lanes\' names, failing on the step the first thread is stuck in', () => {
    const dir = out();
    expect(cli(['check', '--impl', compiledFixture('abba'), '--runs', '20', '--thread-runs', '300', '--quiet', '--out', dir]).code).toBe(1);
    const race = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).implementations[0].races[0];
    expect(race.signature).toBe('deadlock:getsockopt+setsockopt');
    expect(race.message).toMatch(/^threads T1, T2 each wait for a lock, and none can go on \(T1 in \w+, T2 in \w+\)$/);
    const replayed = cli(['replay', race.token, '--impl', compiledFixture('abba'), '--out', join(dir, 'replay')]);
    expect(replayed.code).toBe(1);
    expect(replayed.out).toMatch(/^>> +\d+ /m);
  });

  it('ends once its work is done, though the module left a timer running', () => {
    const r = spawnSync(process.execPath, [SAVEDSYN, 'check', '--impl', compiledFixture('leaves-a-timer'), '--runs', '20', '--thread-runs', '0', '--out', out(), '--quiet'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal, 'still running after 30 s').toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^leaves-a-timer \(linux\): 20 single-thread cases, 0 distinct finding/);
  });

  it('reports an implementation that throws as a finding, not a crash of the harness', () => {
    const r = cli(['check', '--impl', './test/fixtures/throws-in-run.ts', '--runs', '200', '--out', out()]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('crash:accept');
    expect(r.out).toContain('accept is not implemented');
  });
});


describe('third-party modules outside the repository', () => {
  // The example, its import pointed at the compiled package the command
  // runs from, as .ts, .mts, .js and .mjs, in a folder with no package.json
  // and in ones that say "module" and "commonjs".
  const api = built('dist/api/index.js');
  const ts = readFileSync(join(import.meta.dirname, '..', 'examples/atomic-linux.ts'), 'utf8').replace("from 'savedsyn'", `from '${api}'`);
  const js = `import { createSpec } from '${api}';\nexport default { name: 'atomic-linux', profile: 'linux', description: '', create(env) { const w = createSpec(env.profile); return { run: (op) => w.apply(op), view: () => w.view() }; } };\n`;
  for (const pkg of [undefined, '{ "type": "module" }', '{ "type": "commonjs" }']) {
    for (const [file, text] of [['typed.ts', ts], ['typed-module.mts', ts], ['plain.js', js], ['plain-module.mjs', js]]) {
      it(`loads ${file} from a folder ${pkg === undefined ? 'without a package.json' : `whose package.json is ${pkg}`}`, () => {
        const dir = mkdtempSync(join(tmpdir(), 'savedsyn-third-party-'));
        if (pkg !== undefined) writeFileSync(join(dir, 'package.json'), pkg);
        writeFileSync(join(dir, file), text);
        // Loaded on the watchdog's thread too once: the rest load on the
        // command's thread only, the same loader at half the cost.
        const watched = file === 'typed.ts' && pkg === undefined ? [] : ['--op-timeout', '0'];
        const r = cli(['check', '--impl', join(dir, file), '--runs', '20', '--thread-runs', '0', ...watched, '--out', join(dir, 'out'), '--quiet']);
        expect(r.err).toBe('');
        expect(r.code).toBe(0);
        expect(r.out).toMatch(/^atomic-linux \(linux\): 20 single-thread cases, 0 distinct finding/);
      });
    }
  }
});

describe('values that look like flags', () => {
  it('takes a negative seed as the seed, and runs with it', () => {
    const dir = out();
    const r = cli(['--impl', 'linux', '--runs', '50', '--thread-runs', '0', '--seed', '-1', '--out', dir, '--quiet']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).seed).toBe(-1);
  });
});

describe('a CI job summary', () => {
  it('check appends what it found, one escaped row per finding, after what the file held', () => {
    const dir = out();
    const summary = join(dir, 'summary.md');
    writeFileSync(summary, 'earlier step\n');
    const r = spawnSync(process.execPath, [SAVEDSYN, 'check', '--impl', 'rfc-v1', '--runs', '300', '--thread-runs', '0', '--out', dir, '--quiet'],
      { encoding: 'utf8', env: { ...process.env, GITHUB_STEP_SUMMARY: summary } });
    expect(r.status).toBe(1);
    const text = readFileSync(summary, 'utf8');
    expect(text.startsWith('earlier step\n')).toBe(true);
    expect(text).toContain('### savedsyn: failures found (seed 1)');
    expect(text).toMatch(/\| rfc-v1 \| rfc-v1 \| 300 \| 0 \| state:setsockopt:flag \| `npx savedsyn replay ssyn2\.\S+` \|/);
  });
});
