// An error no call of savedsyn's was there to catch: a timer, promise or
// callback a module left behind threw it after the call that made it had
// returned. With a module loaded it is the module's mistake (exit 2);
// without, savedsyn's own defect, left to end the thread as any would.

import { moduleLoaded } from './loaded.ts';
import { describeThrown } from './thrown.ts';

/** The words for such an error, when a module is loaded to blame. */
export function strayMessage(e: unknown): string | undefined {
  if (!moduleLoaded()) return undefined;
  return `an error escaped every call savedsyn made into the implementation (a timer, promise or callback the module left behind threw it): ${describeThrown(e)}`;
}

/** On a worker thread: tell `report` of a module's stray error instead of
 * ending the thread with it. What `ours` holds savedsyn threw on purpose,
 * to end the thread with: it ends it as it is. */
export function reportStrays(report: (message: string) => void, ours: (e: unknown) => boolean = () => false): void {
  const stray = (e: unknown): void => {
    if (ours(e)) throw e;
    const message = strayMessage(e);
    if (message === undefined) throw e;
    report(message);
  };
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);
}
