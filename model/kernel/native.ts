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
/** The helper's own headers, included by name from kernel-lane.c. */
const HEADERS = ['lane-netns.h', 'lane-wire.h'];

export type Availability = { ok: true; binary: string } | { ok: false; reason: string };

let cached: Availability | undefined;

/** The helper's path, built if needed, or why the lane cannot run here. */
export function kernelLane(): Availability {
  cached ??= probe();
  return cached;
}

/** kernel-lane.c with its own headers inlined: one file that builds on its
 * own, for a reproducer. */
export function laneSource(): string {
  return readFileSync(SOURCE, 'utf8').replace(/^#include "([\w.-]+)"$/gm, (line, name: string) => {
    if (!HEADERS.includes(name)) return line;
    return `/* ---- ${name} ---- */\n${readFileSync(packageFile(`native/${name}`), 'utf8')}`;
  });
}

function probe(): Availability {
  if (process.platform !== 'linux') return { ok: false, reason: `the live-kernel lane needs Linux (this is ${process.platform})` };
  const cc = process.env.CC ?? 'cc';
  const hash = createHash('sha256').update(laneSource()).digest('hex').slice(0, 16);
  const dir = join(process.env.SAVEDSYN_CACHE ?? join(tmpdir(), 'savedsyn'), 'native');
  const binary = join(dir, `kernel-lane-${hash}`);
  if (!existsSync(binary)) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      return { ok: false, reason: `the kernel lane's helper cannot be built in ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}; SAVEDSYN_CACHE names another folder)` };
    }
    const partial = `${binary}.${process.pid}.tmp`;
    const built = spawnSync(cc, ['-O1', '-Wall', '-o', partial, SOURCE], { encoding: 'utf8' });
    if (built.error) return { ok: false, reason: `no C compiler to build the kernel lane (${cc}: ${built.error.message})` };
    if (built.status !== 0) {
      const why = built.stderr.trim().split('\n')[0] || `${cc} exited with ${built.status ?? built.signal}, saying nothing`;
      return { ok: false, reason: `the kernel lane's helper does not compile: ${why}` };
    }
    try {
      renameSync(partial, binary);
    } catch (e) {
      return { ok: false, reason: `the kernel lane's helper cannot be kept in ${dir} (${(e as NodeJS.ErrnoException).code ?? String(e)}; SAVEDSYN_CACHE names another folder)` };
    }
  }
  const ns = spawnSync('unshare', ['-rn', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (ns.error || ns.status !== 0) {
    return { ok: false, reason: `unprivileged user and network namespaces are not available (unshare -rn: ${(ns.stderr || ns.error?.message || '').trim()})` };
  }
  if (!existsSync('/dev/net/tun')) return { ok: false, reason: 'the kernel lane needs /dev/net/tun for its tap and tun devices' };
  return { ok: true, binary };
}
