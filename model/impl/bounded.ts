// A call on this thread that cannot run for ever. The watchdog sees a hang
// from another thread and ends that thread, which it cannot do to the main
// one; but V8 can interrupt the thread it runs on from a timer when asked to
// through `vm`, whose timeout covers every function the script calls, in
// any context. Each call starts a timer thread (about 0.1 ms), so this is
// for calls made once per command, such as the first create(), never per op.

import vm from 'node:vm';
import { didNotReturn } from './contract.ts';

const script = new vm.Script('call()');
const context = vm.createContext({ call: undefined as (() => unknown) | undefined });

/** `f()`, a call that creates an instance; when it has run `ms`
 * milliseconds (0: no bound), the module cannot be checked. */
export function createWithin<T>(f: () => T, ms: number): T {
  if (ms <= 0) return f();
  context.call = f;
  try {
    return script.runInContext(context, { timeout: ms }) as T;
  } catch (e) {
    if ((e as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw didNotReturn('create', ms);
    throw e;
  } finally {
    context.call = undefined;
  }
}
