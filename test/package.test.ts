// savedsyn as someone outside this repository gets it: the tarball, packed
// from the suites' build (global-setup.ts, compiled as the package's prepack
// script compiles it) and installed into an empty project with no
// TypeScript, no tsx of its own and none of savedsyn's dev dependencies,
// runs the command on a copied example and on a wrapper of a bundled
// implementation, imports from .mjs, type-checks from .ts against the
// shipped declarations, and runs the vitest helper.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { built } from './built.ts';

const ROOT = join(import.meta.dirname, '..');
const project = mkdtempSync(join(tmpdir(), 'savedsyn-user-'));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string>; files?: string[]; scripts: Record<string, string> };

function run(cmd: string, args: string[], cwd = project, timeout = 120_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout, env: { ...process.env, GITHUB_STEP_SUMMARY: '' } });
}

function savedsyn(...args: string[]): SpawnSyncReturns<string> {
  return run(process.execPath, [join(project, 'node_modules/.bin/savedsyn'), ...args]);
}

/** The bundled rfc-v1 under another name, through the public API: what a
 * user writes to wrap someone else's implementation. As .mts it is an ES
 * module in this project of no "type", as the package is: a .ts file here
 * is the copied example's case. */
const WRAPPER = `import { bundledByName, type Implementation } from 'savedsyn';

const rfc = bundledByName('rfc-v1')!;
const wrapped: Implementation = { ...rfc, name: 'wrapped-rfc-v1', create: (env) => rfc.create(env) };
export default wrapped;
`;

describe('the installed package', () => {
  beforeAll(() => {
    // What npm packs from a checkout once prepack has built dist/: the
    // files the manifest lists, and those npm always takes.
    const staging = mkdtempSync(join(tmpdir(), 'savedsyn-pack-'));
    const listed = (manifest.files ?? []).map((f) => f.replace(/\/$/, ''));
    for (const path of [...listed, 'README.md', 'LICENSE']) {
      const from = path === 'dist' ? built('dist') : join(ROOT, path);
      if (existsSync(from)) cpSync(from, join(staging, path), { recursive: true, dereference: true });
    }
    copyFileSync(join(ROOT, 'package.json'), join(staging, 'package.json'));
    const packed = run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', project], staging, 180_000);
    expect(packed.status, packed.stderr).toBe(0);
    const tarball = readdirSync(project).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    writeFileSync(join(project, 'package.json'), '{ "name": "a-kernel-developer", "private": true }\n');
    const installed = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `./${tarball}`], project, 180_000);
    expect(installed.status, installed.stderr).toBe(0);
  }, 240_000);

  it('holds compiled code, declarations and the files the code reads, and none of savedsyn\'s dev dependencies', () => {
    const pkg = join(project, 'node_modules/savedsyn');
    for (const f of ['dist/api/index.js', 'dist/api/index.d.ts', 'dist/api/vitest.js', 'dist/cli/main.js', 'dist/model/spec/world.js',
      'dist/fuzz/campaign/worker.js', 'native/kernel-lane.c', 'reference/rfc-v1-tcp-saved-syn.patch.txt']) {
      expect(existsSync(join(pkg, f)), f).toBe(true);
    }
    expect(existsSync(join(pkg, 'cli/main.ts')), 'no sources: the command must run compiled').toBe(false);
    // Packed from a checkout, dist/ is what prepack builds: the compile the
    // suites' build runs.
    expect([manifest.scripts.prepack, manifest.scripts.build]).toEqual(['npm run build', 'rm -rf dist && tsc -p tsconfig.build.json']);
    for (const dev of Object.keys(manifest.devDependencies)) expect(existsSync(join(project, 'node_modules', dev)), dev).toBe(false);
  });

  it('runs savedsyn help and list', () => {
    const help = savedsyn('help');
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^usage: savedsyn/);
    expect(savedsyn('list').stdout).toMatch(/rfc-v1-fixed +profile rfc-v1/);
  });

  it('checks a copied example module (.ts, in a folder whose package.json is not an ES module package)', () => {
    copyFileSync(join(ROOT, 'examples/atomic-linux.ts'), join(project, 'impl.ts'));
    const r = savedsyn('check', '--impl', './impl.ts', '--runs', '200', '--out', 'out-example');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/atomic-linux \(linux\): 200 single-thread cases, 0 distinct finding\(s\); 200 concurrent cases, 0 distinct race/);
    expect(existsSync(join(project, 'out-example/report.json'))).toBe(true);
  });

  it('checks a wrapper of the 2015 patch and exits 1 with its findings and their tokens', () => {
    writeFileSync(join(project, 'wrapper.mts'), WRAPPER);
    const r = savedsyn('check', '--impl', './wrapper.mts', '--runs', '1000', '--out', 'out-wrapper');
    expect(r.status, r.stderr).toBe(1);
    for (const sig of ['state:setsockopt:flag', 'state:accept:flag', 'leak:sk:net/ipv4/inet_connection_sock.c inet_csk_destroy_sock', 'linearizability:getsockopt:ENOENT', 'leak:sk:net/ipv4/tcp.c do_tcp_getsockopt', 'lockstep:getsockopt:length']) {
      expect(r.stdout).toContain(sig);
    }
    const token = /replay: npx savedsyn replay (ssyn2\.\S+)/.exec(r.stdout)![1];
    const refused = savedsyn('replay', token, '--out', 'out-replay');
    expect(refused.status, 'a token never chooses the module it runs').toBe(2);
    const again = savedsyn('replay', token, '--impl', './wrapper.mts', '--out', 'out-replay');
    expect(again.status, again.stderr).toBe(1);
    expect(again.stdout).toMatch(/^fails: /);
  });

  it('is imported from .mjs: check, replay and the arbitraries', () => {
    writeFileSync(join(project, 'use.mjs'), `import fc from 'fast-check';
import { check, replay, opsArbitrary, bundledImplementations } from 'savedsyn';
const r = await check('rfc-v1', { runs: 300, threadRuns: 0, seed: 2 });
const again = await replay(r.findings[0].token);
const sample = fc.sample(opsArbitrary('linux'), { numRuns: 5, seed: 1 });
console.log(JSON.stringify({ name: r.name, findings: r.findings.map((f) => f.signature), replayed: again.signature,
  bundled: bundledImplementations.map((i) => i.name), sampled: sample.every((ops) => Array.isArray(ops) && ops.length > 0) }));
`);
    const r = run(process.execPath, ['use.mjs']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { name: string; findings: string[]; replayed: string; bundled: string[]; sampled: boolean };
    expect(out.name).toBe('rfc-v1');
    expect(out.findings).toContain('state:setsockopt:flag');
    expect(out.replayed).toBe(out.findings[0]);
    expect(out.bundled).toEqual(['rfc-v1', 'rfc-v1-fixed', 'linux']);
    expect(out.sampled).toBe(true);
  });

  it('type-checks a .ts module against the shipped declarations', () => {
    writeFileSync(join(project, 'typed.ts'), `import { check, type CheckResult, type Implementation } from 'savedsyn';
import wrapped from './wrapper.mts';
const impl: Implementation = wrapped;
export const result: Promise<CheckResult> = check(impl, { runs: 10 });
// @ts-expect-error: runs is a number
check(impl, { runs: 'many' });
`);
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--allowImportingTsExtensions', '--skipLibCheck', '--types', 'node', '--typeRoots', join(ROOT, 'node_modules/@types'), 'typed.ts'];
    const r = run(process.execPath, [tsc, ...args]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  describe('the vitest helper', () => {
    beforeAll(() => {
      // The user's own test runner: linked, as the one installed here, so the
      // helper runs inside the same vitest that runs the suite.
      for (const dep of ['vitest', '@fast-check/vitest']) {
        mkdirSync(join(project, 'node_modules', dep, '..'), { recursive: true });
        symlinkSync(join(ROOT, 'node_modules', dep), join(project, 'node_modules', dep), 'dir');
      }
      copyFileSync(join(ROOT, 'examples/atomic-linux.ts'), join(project, 'impl.ts'));
    });
    const vitest = (file: string) => run(process.execPath, [join(project, 'node_modules/vitest/vitest.mjs'), 'run', file], project, 180_000);

    it('passes on a correct implementation in one line of the user\'s suite', () => {
      writeFileSync(join(project, 'good.test.ts'), "import { savedsynSuite } from 'savedsyn/vitest';\nimport impl from './impl.ts';\n\nsavedsynSuite(impl, { runs: 200, threadRuns: 100, seed: 7 });\n");
      const r = vitest('good.test.ts');
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/2 passed/);
    });

    it('fails on the 2015 patch with the shrunk finding, fast-check\'s seed and path, and a replay token', () => {
      writeFileSync(join(project, 'bad.test.ts'), "import { savedsynSuite } from 'savedsyn/vitest';\nimport wrapped from './wrapper.mts';\n\nsavedsynSuite(wrapped, { runs: 300, threadRuns: 0, seed: 7 });\n");
      const r = vitest('bad.test.ts');
      const text = r.stdout + r.stderr;
      expect(r.status, text).toBe(1);
      expect(text).toMatch(/seed: 7, path: "[\d:]+"/);
      expect(text).toMatch(/replay: npx savedsyn replay ssyn2\./);
      expect(text).toMatch(/state:setsockopt:flag|state:accept:flag|leak:/);
    });
  });
});
