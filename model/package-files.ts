// Files savedsyn ships beside its code (the 2015 patch, the kernel lane's C
// source), found from the package's root so the same code finds them when
// run from its sources and when run compiled from dist/.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'savedsyn') return dir;
    if (dirname(dir) === dir) throw new Error(`savedsyn's package.json is not above ${from}`);
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A shipped file, by its path from the package's root. */
export function packageFile(path: string): string {
  return join(PACKAGE_ROOT, path);
}
