// The command line: the main job, third-party modules, and clear errors for
// bad input with a non-zero exit and no stack trace.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['bin/savedsyn.mjs', ...args], { encoding: 'utf8', cwd: process.cwd() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const out = () => mkdtempSync(join(tmpdir(), 'savedsyn-'));

describe('savedsyn run', () => {
  it('searches the bundled implementations, prints each rfc-v1 finding and writes the report', async () => {
    const lines: string[] = [];
    const dir = out();
    const code = await main(['--runs', '1500', '--out', dir], (s) => lines.push(s));
    expect(code).toBe(0);
    const text = lines.join('\n');
    expect(text).toMatch(/rfc-v1 \(rfc-v1\): 1500 single-thread cases, 3 distinct finding\(s\); 1500 concurrent cases, 1 distinct race/);
    expect(text).toMatch(/rfc-v1-fixed \(rfc-v1\): 1500 single-thread cases, 0 distinct finding\(s\); 1500 concurrent cases, 0 distinct/);
    expect(text).toMatch(/linux \(linux\): 1500 single-thread cases, 0 distinct finding\(s\); 1500 concurrent cases, 0 distinct/);
    expect(text).toContain('state:accept:flag');
    expect(text).toContain('linearizability:getsockopt:ENOENT');
    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(json.implementations.find((i: { name: string }) => i.name === 'rfc-v1').findings).toHaveLength(3);
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
  it('passes a module that fits the interface and behaves', async () => {
    const lines: string[] = [];
    const code = await main(['check', '--impl', './examples/atomic-linux.ts', '--runs', '300', '--out', out()], (s) => lines.push(s));
    expect(lines.join('\n')).toContain('atomic-linux (linux): 300 single-thread cases, 0 distinct finding(s); 300 concurrent cases, 0 distinct');
    expect(code).toBe(0);
  });

  it('fails a module that leaks, naming the leak, with exit code 1', () => {
    const r = cli(['check', '--impl', './test/fixtures/leaky.ts', '--runs', '300', '--out', out()]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('leak:leaky.ts run');
  });

  it('reports an implementation that throws as a finding, not a crash of the harness', () => {
    const r = cli(['check', '--impl', './test/fixtures/throws-in-run.ts', '--runs', '200', '--out', out()]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('crash:accept');
    expect(r.out).toContain('accept is not implemented');
  });
});

describe('bad input', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['an unknown implementation', ['--impl', 'nope'], /unknown implementation 'nope': bundled ones are rfc-v1, rfc-v1-fixed, linux/],
    ['an unknown flag', ['--frobnicate'], /Unknown option '--frobnicate'/],
    ['a bad number', ['--runs', 'many'], /--runs expects an integer, got 'many'/],
    ['a zero budget', ['--runs', '0'], /--runs must be between 1/],
    ['an unknown profile', ['--profile', 'bsd'], /--profile takes rfc-v1 or linux, got 'bsd'/],
    ['an implementation of another profile', ['--profile', 'linux', '--impl', 'rfc-v1'], /--profile linux, but rfc-v1 implements rfc-v1/],
    ['a negative guidance epoch', ['fuzz', '--guide-every=-1'], /--guide-every must be between 0/],
    ['an unknown scheduler', ['--schedulers', 'random,fifo'], /--schedulers takes random and\/or pct/],
    ['an unknown command', ['fuzzz'], /unknown command 'fuzzz'/],
    ['a missing module', ['check', '--impl', './nowhere.ts'], /implementation module not found: .*nowhere\.ts/],
    ['a module without create()', ['check', '--impl', './test/fixtures/missing-create.ts'], /does not fit the Implementation interface: missing or wrong `create\(env\)`/],
    ['a module with an unknown profile', ['check', '--impl', './test/fixtures/wrong-profile.ts'], /`profile` \(one of rfc-v1, linux\)/],
    ['a module that throws on import', ['check', '--impl', './test/fixtures/throws-on-import.ts'], /could not load .*: this module refuses to load/],
    ['check without an implementation', ['check'], /check takes exactly one --impl/],
  ];
  for (const [what, args, message] of cases) {
    it(`${what}: one clear line, exit 2, no stack trace`, () => {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.split('\n')[0]).toMatch(/^savedsyn: /);
      expect(r.err).not.toMatch(/\n\s+at /);
    });
  }
});
