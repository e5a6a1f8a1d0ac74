// A worker thread on one of savedsyn's own modules: the .js file where
// savedsyn runs compiled, the .ts source otherwise. A worker thread does not
// inherit the main thread's loader, so from sources it registers tsx before
// it loads its module.

import { Worker, type WorkerOptions } from 'node:worker_threads';

/** `entry` is the module's URL as its caller spells it: `.ts` from sources,
 * `.js` from dist/. */
export function startWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const withFlags = { execArgv: threadFlags(process.execArgv), ...options };
  if (entry.pathname.endsWith('.js')) return new Worker(entry, withFlags);
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))}; register(); await import(${JSON.stringify(entry.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), withFlags);
}

/** The process's flags a thread can take: a script run with
 * `node --input-type=module -e` passes --input-type on to every thread it
 * starts, and a thread that loads a file refuses it. */
export function threadFlags(flags: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < flags.length; i++) {
    if (flags[i] === '--input-type') i++;
    else if (!flags[i].startsWith('--input-type=')) kept.push(flags[i]);
  }
  return kept;
}

/** A sibling module of `from` (an import.meta.url), with `from`'s extension. */
export function sibling(name: string, from: string): URL {
  return new URL(`./${name}${from.slice(from.lastIndexOf('.'))}`, from);
}
