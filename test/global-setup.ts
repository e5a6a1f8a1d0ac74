// The savedsyn command the suites start in child processes, compiled and
// laid out as an installed package: starting the sources through tsx costs
// each process more than most of what it is started to do, and the suites
// start a few hundred. The sources themselves run in-process (suites import
// them) and in the test that starts the checkout's own command. A build is
// kept under node_modules/.cache by a digest of everything it is made from,
// so running one suite again does not compile again.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import type { TestProject } from 'vitest/node';

const ROOT = join(import.meta.dirname, '..');
const CACHE = join(ROOT, 'node_modules/.cache/savedsyn-built');
/** What the build is made from: the compiled folders and these files,
 * this one among them since it says how to build. */
const FOLDERS = ['model', 'properties', 'fuzz', 'reports', 'cli', 'api'];
const FILES = ['bin/savedsyn.mjs', 'package.json', 'tsconfig.json', 'tsconfig.build.json', 'test/global-setup.ts'];

declare module 'vitest' {
  export interface ProvidedContext {
    /** The compiled package's root. */
    savedsynBuilt: string;
    /** The folder of the fixtures compiled against it (COMPILED_FIXTURES). */
    savedsynFixtures: string;
  }
}

function digest(): string {
  const h = createHash('sha256');
  const add = (path: string) => h.update(path).update('\0').update(readFileSync(join(ROOT, path))).update('\0');
  for (const folder of FOLDERS) {
    const files = readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    for (const path of files.map((e) => join(e.parentPath, e.name).slice(ROOT.length + 1)).sort()) add(path);
  }
  for (const file of FILES) add(file);
  return h.digest('hex').slice(0, 16);
}

function build(into: string): void {
  // Compiled as `npm run build` compiles, declarations included: the
  // package suite packs this build rather than compile the sources again.
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(into, 'dist')], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`compiling savedsyn for the suites failed:\n${tsc.stdout}${tsc.stderr}`);
  mkdirSync(join(into, 'bin'));
  copyFileSync(join(ROOT, 'bin/savedsyn.mjs'), join(into, 'bin/savedsyn.mjs'));
  copyFileSync(join(ROOT, 'package.json'), join(into, 'package.json'));
  // What the package ships beside its code, and its dependencies.
  for (const shared of ['native', 'reference', 'docs', 'node_modules']) symlinkSync(join(ROOT, shared), join(into, shared));
}

export default function setup(project: TestProject): () => void {
  const key = digest();
  const built = join(CACHE, key);
  if (!existsSync(built)) {
    mkdirSync(CACHE, { recursive: true });
    // Built aside and renamed into place whole: a run that stops halfway,
    // or another run building the same sources, leaves no partial build.
    const staging = mkdtempSync(join(CACHE, '.staging-'));
    build(staging);
    // Builds of other sources go, and staging a run stopped mid-build left
    // behind, once an hour old: not while another run may still use them.
    for (const old of readdirSync(CACHE)) {
      if (Date.now() - statSync(join(CACHE, old)).mtimeMs > 3_600_000) rmSync(join(CACHE, old), { recursive: true, force: true });
    }
    try {
      renameSync(staging, built);
    } catch (e) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(built)) throw e;
    }
  }
  project.provide('savedsynBuilt', built);
  // The suites make hundreds of folders (campaigns, reports, modules) in
  // the temporary directory: all of one run's go under one folder, which
  // goes when the run ends. The test processes start after this and take
  // the environment as it is now.
  const scratch = mkdtempSync(join(tmpdir(), 'savedsyn-suite-'));
  process.env.TMPDIR = scratch;
  project.provide('savedsynFixtures', compileFixtures(join(scratch, 'fixtures'), built));
  return () => rmSync(scratch, { recursive: true, force: true });
}

/** Fixtures the suites start the command on many times, each time loading
 * them on a thread or two: compiled here, against the compiled package, as
 * a module a user installed savedsyn beside would be. From their sources,
 * every such thread compiles the fixture and the model's sources through
 * tsx again. What loading a .ts module takes is tested on fixtures left
 * as they are. */
const COMPILED_FIXTURES = [
  'hangs-in-accept', 'hangs-in-close', 'spins-on-a-race', 'leaky', 'abba', 'leaves-a-timer', 'counts-instances',
  'throws-later', 'throws-in-a-timer', 'view-twice', 'view-string', 'run-async', 'shares-a-world',
];

function compileFixtures(into: string, built: string): string {
  mkdirSync(into);
  const url = (path: string): string => JSON.stringify(pathToFileURL(join(built, path)).href);
  for (const name of COMPILED_FIXTURES) {
    const source = readFileSync(join(ROOT, 'test/fixtures', `${name}.ts`), 'utf8');
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText
      .replace(/from '\.\.\/\.\.\/model\/([\w/-]+)\.ts'/g, (_, path: string) => `from ${url(`dist/model/${path}.js`)}`)
      .replace(/from 'savedsyn'/g, `from ${url('dist/api/index.js')}`);
    // Every import rewritten is double-quoted: a single-quoted one is left.
    if (/from '/.test(js)) throw new Error(`test/fixtures/${name}.ts imports what its compiled copy cannot: ${js}`);
    writeFileSync(join(into, `${name}.mjs`), js);
  }
  return into;
}
