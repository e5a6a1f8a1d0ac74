// Where savedsyn writes: folders made one level at a time and every failure
// named with its path and cause. Node's recursive mkdir never returns under
// /proc, and its errno alone (EEXIST for a file in the way, ENOENT from a
// read-only mount) points at the wrong thing.

import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from './user-error.ts';

const CAUSES: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the filesystem is read-only',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is used up',
  ENOTDIR: 'a file stands where a folder should',
  EEXIST: 'a file of that name exists',
  EISDIR: 'it is a folder',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EMFILE: 'too many open files',
  ENOENT: 'it cannot be created there',
};

/** What an errno means for a path the user gave. */
export function causeOf(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code !== undefined && code in CAUSES ? `${CAUSES[code]} (${code})` : e instanceof Error ? e.message : String(e);
}

/** The error for a path savedsyn could not write: a mistake in where the
 * user pointed it, or a full or read-only disk, never a defect of its own. */
export function cannotWrite(path: string, e: unknown): UserError {
  return new UserError(`cannot write ${path}: ${causeOf(e)}`);
}

/** Make `dir` and its missing parents, one level at a time. */
export function makeFolder(dir: string): string {
  const path = resolve(dir);
  const missing: string[] = [];
  for (let p = path; ; p = dirname(p)) {
    let isDir: boolean;
    try {
      isDir = statSync(p).isDirectory();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new UserError(`cannot create ${path}: ${causeOf(e)} at ${p}`);
      missing.push(p);
      if (dirname(p) === p) break;
      continue;
    }
    if (!isDir) throw new UserError(`cannot create ${path}: ${p} is a file, not a folder`);
    break;
  }
  for (const p of missing.reverse()) {
    try {
      mkdirSync(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && statSync(p).isDirectory()) continue;
      throw new UserError(`cannot create ${path}: ${causeOf(e)}${p === path ? '' : ` at ${p}`}`);
    }
  }
  // A folder that exists but takes no file is found now, not after a
  // search whose results would have nowhere to go.
  const probe = join(path, `.savedsyn-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (e) {
    throw new UserError(`cannot write into ${path}: ${causeOf(e)}`);
  }
  return path;
}

/** Write a file of output, naming the path and cause if it cannot be. */
export function writeOutput(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw cannotWrite(path, e);
  }
}
