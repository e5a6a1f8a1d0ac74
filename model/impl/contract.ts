// What the harness checks of every value an implementation hands back. A
// module that breaks the interface is not a finding about the kernel code it
// models: it is a module that does not fit, reported as such (exit 2) with
// the rule it broke, rather than as a crash of the harness or a bogus case.

import { formatOp } from '../format.ts';
import type { Op, Outcome } from '../ops.ts';
import type { Profile } from '../profile.ts';
import { UserError } from '../user-error.ts';
import type { FdView, Implementation, ImplInstance, Yield } from './types.ts';
import { describeThrown, isA } from './thrown.ts';

export class InterfaceError extends UserError {}

/** A call that is not an op (create, view) did not return. */
export class DidNotReturn extends InterfaceError {}

/** A call that is not an op (create, view) did not return: the module
 * cannot be checked, which is not a finding. */
export function didNotReturn(where: 'create' | 'view' | 'state', bound: number): InterfaceError {
  return new DidNotReturn(`the implementation's ${where}() did not return within ${bound} ms: a module must return from it to be checked (--op-timeout, or the opTimeout option, sets the bound)`);
}

const ERRNOS = new Set(['EBADF', 'EINVAL', 'ENOENT', 'E2BIG', 'EAGAIN', 'ENOPROTOOPT', 'EISCONN', 'EALREADY', 'EINPROGRESS', 'EADDRINUSE', 'EADDRNOTAVAIL', 'EMFILE', 'EFAULT', 'EOPNOTSUPP', 'ENOTCONN']);

/** Whether `x` is a promise (or any thenable): what an async function gives. */
export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === 'object' || typeof x === 'function') && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

function shown(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x)}`;
  if (isThenable(x)) {
    // Its rejection, if it rejects, is the module's mistake already named
    // here, not a crash of the process.
    Promise.resolve(x).catch(() => undefined);
    return 'a promise (an async function\'s result: savedsyn calls it synchronously)';
  }
  if (typeof x !== 'object') return `${typeof x} ${String(x)}`;
  // Named by kind and size: a typed array's every index is a field.
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name} of ${x.byteLength} bytes`;
  const fields = Object.keys(x as object);
  if (fields.length > 12) return `an object with ${fields.length} fields`;
  return fields.length === 0 ? 'an object with no fields' : `{ ${fields.map((k) => `${k}: ${brief((x as Record<string, unknown>)[k])}`).join(', ')} }`;
}

/** One field's value, short. */
function brief(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v);
  if (v instanceof Uint8Array) return `${v.constructor.name}(${v.length})`;
  if (Array.isArray(v)) return `[${v.length}]`;
  if (typeof v === 'object' && v !== null) return '{…}';
  return String(v);
}

function broke(impl: Implementation, rule: string, got: unknown): never {
  throw new InterfaceError(`${impl.name} does not fit the Implementation interface: ${rule}; it gave ${shown(got)}`);
}

const calls = new WeakMap<Implementation, number>();

/** A fresh instance: create(env) is called once for every case. Where
 * `copy` holds of it, what is returned is a plain object holding the
 * instance's methods as they were read once, here: an accessor or a Proxy
 * that answers otherwise later is not asked again. */
export function createInstance(impl: Implementation, env: Parameters<Implementation['create']>[0], copy: (instance: object) => boolean = () => false): ImplInstance {
  const nth = (calls.get(impl) ?? 0) + 1;
  calls.set(impl, nth);
  let inst: unknown;
  try {
    inst = impl.create(env);
  } catch (e) {
    if (isA(e, InterfaceError)) throw e;
    throw new InterfaceError(`${impl.name} does not fit the Implementation interface: create(env) must build a fresh instance every time it is called (once per case), `
      + `but threw on call ${nth}: ${describeThrown(e)}`);
  }
  const i = inst as Partial<ImplInstance> | null;
  let run: unknown;
  let view: unknown;
  let state: unknown;
  try {
    if (typeof i !== 'object' || i === null || isThenable(i)) broke(impl, `create(env) must return an object with run(op, thread) (call ${nth})`, inst);
    ({ run, view, state } = i);
  } catch (e) {
    if (isA(e, InterfaceError)) throw e;
    throw new InterfaceError(`${impl.name} does not fit the Implementation interface: reading run, view or state of the instance create(env) returned threw: ${describeThrown(e)}`);
  }
  if (typeof run !== 'function') broke(impl, `create(env) must return an object with run(op, thread) (call ${nth})`, inst);
  if (view !== undefined && typeof view !== 'function') broke(impl, 'view, where given, must be a function', view);
  if (state !== undefined && typeof state !== 'function') broke(impl, 'state, where given, must be a function', state);
  if (!copy(i)) return i as ImplInstance;
  const methods = { run, view, state } as ImplInstance;
  return Object.freeze({
    run: (op, thread) => methods.run.call(i, op, thread),
    ...(view === undefined ? {} : { view: () => methods.view!.call(i) }),
    ...(state === undefined ? {} : { state: () => methods.state!.call(i) }),
  } satisfies ImplInstance);
}

/** An Outcome: `{ ret, errno?, optlen?, bytes? }`. With `copy`, each field
 * is read once, into a plain object, and that is what is checked and
 * kept: a getter read again later could answer otherwise. */
export function checkedOutcome(impl: Implementation, op: Op, profile: Profile, x: unknown, copy = false): Outcome {
  // A promise read field by field would be blamed for its ret.
  const o = (isThenable(x) ? null : copy ? plainOutcome(x) : x) as Partial<Outcome> | null;
  const wrong: [string, unknown] | undefined = typeof o !== 'object' || o === null || Array.isArray(o) ? ['', x]
    : !isCInt(o.ret) ? [' (ret)', o.ret]
    : o.errno !== undefined && !ERRNOS.has(o.errno) ? [` (errno: the model's are ${[...ERRNOS].join(', ')})`, o.errno]
    : o.optlen !== undefined && !isCInt(o.optlen) ? [' (optlen)', o.optlen]
    : o.bytes !== undefined && !(o.bytes instanceof Uint8Array) ? [' (bytes)', o.bytes]
    : undefined;
  if (wrong === undefined) return o as Outcome;
  return broke(impl, `run(${formatOp(op, profile)}) must return an Outcome { ret: a C int, errno?: an errno name, optlen?: a C int, bytes?: Uint8Array } or a generator returning one${wrong[0]}`, wrong[1]);
}

/** What a system call returns: a value past 32 bits would be shown
 * rounded, and no kernel returns one. */
function isCInt(x: unknown): boolean {
  return typeof x === 'number' && (x | 0) === x;
}

/** view() threw: between ops, where nothing the kernel code does is judged. */
export function viewThrew(impl: Implementation, e: unknown): InterfaceError {
  return new InterfaceError(`${impl.name} does not fit the Implementation interface: view() must return the open descriptors; it threw: ${describeThrown(e)}`);
}

/** state(), or reading what it returned, threw: as view(), between ops. */
export function stateThrew(impl: Implementation, e: unknown): InterfaceError {
  return new InterfaceError(`${impl.name} does not fit the Implementation interface: state() must return its state as data; reading it threw: ${describeThrown(e)}`);
}

function plainOutcome(x: unknown): unknown {
  if (typeof x !== 'object' || x === null || Array.isArray(x) || isThenable(x)) return x;
  const o = x as Partial<Outcome>;
  const c: Partial<Outcome> = { ret: o.ret };
  const { errno, optlen, bytes } = o;
  if (errno !== undefined) c.errno = errno;
  if (optlen !== undefined) c.optlen = optlen;
  if (bytes !== undefined) c.bytes = bytes;
  return c;
}

/** A yield: a site label, or `{ blocked: lock }`. */
export function checkedYield(impl: Implementation, y: unknown): Yield {
  if (typeof y === 'string') return y;
  if (typeof y === 'object' && y !== null && typeof (y as { blocked?: unknown }).blocked === 'string') return y as Yield;
  return broke(impl, 'a generator from run() must yield site labels (strings) or { blocked: lock }', y);
}

/** The open descriptors: `[{ fd, flag, kept }]`. */
export function checkedView(impl: Implementation, x: unknown): FdView[] {
  if (!Array.isArray(x)) broke(impl, 'view() must return an array of { fd, flag, kept }', x);
  for (const v of x as unknown[]) {
    const e = v as Partial<FdView> | null;
    const ok = typeof e === 'object' && e !== null && Number.isInteger(e.fd) && Number.isInteger(e.flag)
      && (e.kept === null || Number.isInteger(e.kept));
    if (!ok) broke(impl, 'view() must return an array of { fd: integer, flag: integer, kept: connection number or null }', v);
  }
  // A descriptor shown twice is two answers to one question: the oracles
  // would judge one and pass over the other.
  const views = x as FdView[];
  for (let i = 1; i < views.length; i++) {
    for (let j = 0; j < i; j++) {
      if (views[j].fd === views[i].fd) broke(impl, `view() must list each open descriptor once; it lists fd ${views[i].fd} twice`, x);
    }
  }
  return views;
}
