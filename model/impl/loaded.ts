// Whether this thread has loaded a module by path: code savedsyn did not
// write, which may leave timers, promises and callbacks of its own. Kept
// apart from load.ts, which the command line must not import to know it.

let count = 0;

export function noteModuleLoaded(): void {
  count++;
}

export function moduleLoaded(): boolean {
  return count > 0;
}
