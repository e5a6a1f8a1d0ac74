// The threads a watchdog runs functions on. Booting one costs far more than
// most calls (from sources, tsx and the modules load again), so they are
// kept between calls; and one that hangs can only be terminated, so a spare
// boots while the hang is being waited out.

import { UserError } from '../../model/user-error.ts';
import type { Worker } from 'node:worker_threads';
import { sibling, startWorker } from '../start-worker.ts';
import type { PreloadMessage, ThreadReply } from './messages.ts';

/** Idle threads kept: one to reuse, and a spare. */
const MAX_IDLE = 2;
/** An idle thread ends after this long, so a library user's process does
 * not keep memory for a check long done. */
const IDLE_MS = 30_000;

export interface Thread {
  worker: Worker;
  /** The count of calls into the implementation the thread keeps. */
  cell: Int32Array;
  /** The ids of the shared values it keeps, oldest first. */
  held: number[];
  /** The call it runs, told of whatever the thread says or does. */
  on?: (r: ThreadReply | { exited: Error }) => void;
  idleTimer?: NodeJS.Timeout;
}

const idle: Thread[] = [];

function spawn(): Thread {
  const buffer = new SharedArrayBuffer(4);
  const worker = startWorker(sibling('thread', import.meta.url), { workerData: { cell: buffer } });
  const t: Thread = { worker, cell: new Int32Array(buffer), held: [] };
  worker.on('message', (r: ThreadReply) => t.on?.(r));
  worker.on('error', (e) => t.on?.({ exited: e }));
  worker.on('exit', (code) => {
    const i = idle.indexOf(t);
    if (i >= 0) idle.splice(i, 1);
    // Nothing here ends a thread in the middle of a call: the module did.
    t.on?.({ exited: new UserError(`the implementation ended its thread (exit code ${code}) in the middle of a call: a module must not call process.exit`) });
  });
  // An idle thread must not keep the process alive (a call in progress
  // does, by its polling timer); after the listeners, which ref it again.
  worker.unref();
  return t;
}

export function take(): Thread {
  const t = idle.pop() ?? spawn();
  clearTimeout(t.idleTimer);
  return t;
}

export function release(t: Thread): void {
  t.on = undefined;
  if (idle.length >= MAX_IDLE) {
    void t.worker.terminate();
    return;
  }
  t.idleTimer = setTimeout(() => {
    const i = idle.indexOf(t);
    if (i >= 0) idle.splice(i, 1);
    void t.worker.terminate();
  }, IDLE_MS).unref();
  idle.push(t);
}

/** A thread that hung: it cannot be stopped any other way. */
export function discard(t: Thread): void {
  t.on = undefined;
  void t.worker.terminate();
}

/** A thread booting now, with `module` loaded, to take over at once if the
 * op in flight turns out to hang. */
export function warm(module: string): void {
  if (idle.length > 0) return;
  const t = spawn();
  const preload: PreloadMessage = { preload: module };
  t.worker.postMessage(preload);
  release(t);
}
