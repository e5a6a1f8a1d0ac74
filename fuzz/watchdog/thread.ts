// The watched thread: runs the function it is sent with its calls into the
// implementation counted where the host polls them (host.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { InterfaceError } from '../../model/impl/contract.ts';
import { UserError } from '../../model/user-error.ts';
import { watchCalls } from '../../properties/impl-calls.ts';
import { reportStrays } from '../../model/impl/stray.ts';
import type { CallMessage, PreloadMessage, ThreadReply } from './messages.ts';

type Callable = (input: unknown, shared: unknown, progress: (p: unknown) => void) => unknown;

const port = parentPort!;
const cell = new Int32Array((workerData as { cell: SharedArrayBuffer }).cell);
const held = new Map<number, unknown>();
const reply = (r: ThreadReply): void => port.postMessage(r);
/** Whether a call runs, and whether a stray error has failed it. */
let inCall = false;
let strayFailed = false;
reportStrays((message) => {
  if (inCall) strayFailed = true;
  reply({ failed: { kind: 'user', message, stack: undefined } });
});

port.on('message', async (m: CallMessage | PreloadMessage) => {
  if ('preload' in m) {
    await import(m.preload);
    return;
  }
  for (const id of m.drop) held.delete(id);
  if (m.shared !== undefined) held.set(m.shared.id, m.shared.value);
  watchCalls({ cell, hangs: m.hangs, bound: m.bound });
  inCall = true;
  strayFailed = false;
  try {
    const mod = (await import(m.module)) as Record<string, Callable>;
    const result = await mod[m.fn](m.input, m.sharedId === undefined ? undefined : held.get(m.sharedId), (p) => reply({ progress: p }));
    // What the module left due (a timer, a settled promise) runs now, within
    // the call: an error it throws fails the call rather than go unseen
    // while the thread waits for the next.
    await new Promise((r) => setTimeout(r, 0));
    if (!strayFailed) reply({ done: result });
  } catch (e) {
    const kind = e instanceof InterfaceError ? 'interface' : e instanceof UserError ? 'user' : 'other';
    if (!strayFailed) reply({ failed: { kind, message: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined } });
  } finally {
    inCall = false;
    watchCalls(undefined);
  }
});
