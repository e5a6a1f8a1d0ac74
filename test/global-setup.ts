// The savedsyn command the suites start in child processes, compiled once
// and laid out as an installed package: starting the sources through tsx
// costs each process more than most of what it is started to do, and the
// suites start a few hundred. The sources themselves run in-process
// (suites import them) and in the few runs that test the checkout's own
// command.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

const ROOT = join(import.meta.dirname, '..');

declare module 'vitest' {
  export interface ProvidedContext {
    /** The compiled command's bin/savedsyn.mjs. */
    savedsynBin: string;
    /** The compiled package's root. */
    savedsynBuilt: string;
  }
}

export default function setup(project: TestProject): () => void {
  const built = mkdtempSync(join(tmpdir(), 'savedsyn-built-'));
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(built, 'dist'), '--declaration', 'false'], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`compiling savedsyn for the suites failed:\n${tsc.stdout}${tsc.stderr}`);
  mkdirSync(join(built, 'bin'));
  copyFileSync(join(ROOT, 'bin/savedsyn.mjs'), join(built, 'bin/savedsyn.mjs'));
  copyFileSync(join(ROOT, 'package.json'), join(built, 'package.json'));
  // What the package ships beside its code, and its dependencies.
  for (const shared of ['native', 'reference', 'docs', 'node_modules']) symlinkSync(join(ROOT, shared), join(built, shared));
  project.provide('savedsynBin', join(built, 'bin/savedsyn.mjs'));
  project.provide('savedsynBuilt', built);
  return () => rmSync(built, { recursive: true, force: true });
}
