// Building the kernel lane's helper with the machine's C compiler, once per
// source version, and finding out whether this machine can run it at all:
// Linux, a compiler, and unprivileged user and network namespaces.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageFile } from '../package-files.ts';

const SOURCE = packageFile('native/kernel-lane.c');

export type Availability = { ok: true; binary: string } | { ok: false; reason: string };

let cached: Availability | undefined;

/** The helper's path, built if needed, or why the lane cannot run here. */
export function kernelLane(): Availability {
  cached ??= probe();
  return cached;
}

function probe(): Availability {
  if (process.platform !== 'linux') return { ok: false, reason: `the live-kernel lane needs Linux (this is ${process.platform})` };
  const cc = process.env.CC ?? 'cc';
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const dir = join(process.env.SAVEDSYN_CACHE ?? join(tmpdir(), 'savedsyn'), 'native');
  const binary = join(dir, `kernel-lane-${hash}`);
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${binary}.${process.pid}.tmp`;
    const built = spawnSync(cc, ['-O1', '-Wall', '-o', partial, SOURCE], { encoding: 'utf8' });
    if (built.error) return { ok: false, reason: `no C compiler to build the kernel lane (${cc}: ${built.error.message})` };
    if (built.status !== 0) return { ok: false, reason: `the kernel lane's helper does not compile: ${built.stderr.trim().split('\n')[0]}` };
    renameSync(partial, binary);
  }
  const ns = spawnSync('unshare', ['-rn', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (ns.error || ns.status !== 0) {
    return { ok: false, reason: `unprivileged user and network namespaces are not available (unshare -rn: ${(ns.stderr || ns.error?.message || '').trim()})` };
  }
  return { ok: true, binary };
}
