// A third-party implementation's own account of its state (ImplInstance's
// optional state()), fed to a fingerprint. The value is read as data, in
// the order it iterates: an object's own enumerable keys, an array's
// elements, a Map's entries, a Set's values, a typed array's bytes. Order
// is kept, not sorted, because a module that iterates its tables sees it;
// states that differ only there merge less, never wrongly. An object met
// twice (shared, or in a cycle) is hashed where first met and then named
// by the order it was met in, so two states that share an object differ
// from two that hold equal copies, as they may once one is written to.
// Functions are code, not state (a module's profile and promise objects
// hold them), and are passed over: a module must not keep state in
// closures, and the interface says so.

import { InterfaceError, isThenable } from '../../model/impl/contract.ts';
import type { Implementation } from '../../model/impl/types.ts';
import { Fingerprint } from './fingerprint.ts';

const ARRAY = 0xa1;
const MAP = 0xa2;
const SET = 0xa3;
const OBJECT = 0xa4;
const BYTES = 0xa5;
const SEEN = 0xa6;
const UNDEFINED = 0xa7;
const NULL = 0xa8;
const TRUE = 0xa9;
const FALSE = 0xaa;
const NUMBER = 0xab;
const STRING = 0xac;
const BIGINT = 0xad;
const FRACTION = 0xae;
const BUFFER = 0xaf;
const BOXED = 0xb0;
const MISSING = 0xb1;

/** A step into a Map's value or a Set's member, in a path to a part. */
const GET = { toString: () => '.get()' };
const HAS = { toString: () => '.has()' };
type Step = number | string | typeof GET | typeof HAS;
/** Markers on the stack of parts still to read: a part reached by no step
 * of the path (a Map's key, a boxed value), and the end of a part's own. */
const NO_STEP = {};
const LEAVE = {};
/** An array's missing element: `[, 1]` is not `[undefined, 1]`, and a
 * module may tell them apart (`in`, forEach). */
const HOLE = {};

/** Hash what `state()` returned. Throws an InterfaceError naming the
 * first part that is not data (a symbol). */
export function hashModuleState(fp: Fingerprint, impl: Implementation, state: unknown): void {
  // A promise or a generator has its state in no property: it would read
  // as an empty object, and every state would merge on the spec alone.
  if (isThenable(state) || Object.prototype.toString.call(state) === '[object Generator]') {
    throw notData(impl, [], isThenable(state) ? 'a promise (state() must not be async)' : 'a generator (state() must return its state, not yield it)');
  }
  const seen = new Map<object, number>();
  // The way down to the part being read, as keys: spelled out only for an
  // error, since a state has thousands of parts and is read at every step.
  const path: Step[] = [];
  // Parts still to read, last first, each with the step that reaches it:
  // a stack rather than recursion, so a state nested as deep as a long
  // linked list is read like a flat one. A container's header is hashed
  // when it is met, its parts in order after it, so the reading is the
  // depth-first one, and an object met twice is numbered by when it was
  // first met.
  const parts: unknown[] = [state];
  const steps: (Step | typeof NO_STEP | typeof LEAVE)[] = [NO_STEP];
  while (parts.length > 0) {
    const x = parts.pop();
    const step = steps.pop();
    if (step === LEAVE) {
      path.pop();
      continue;
    }
    if (step !== NO_STEP) {
      path.push(step as Step);
      parts.push(undefined);
      steps.push(LEAVE);
    }
    switch (typeof x) {
      case 'undefined': fp.num(UNDEFINED); continue;
      case 'boolean': fp.num(x ? TRUE : FALSE); continue;
      // An integer as itself; any other number by its shortest exact
      // spelling (the fingerprint's num() keeps only an integer part).
      case 'number':
        if (Number.isSafeInteger(x) && !Object.is(x, -0)) fp.num(NUMBER).num(x);
        else text(fp.num(FRACTION), Object.is(x, -0) ? '-0' : String(x));
        continue;
      case 'string': text(fp.num(STRING), x); continue;
      case 'bigint': text(fp.num(BIGINT), x.toString()); continue;
      case 'function': continue;
      case 'symbol': throw notData(impl, path, 'a symbol');
      default: break;
    }
    if (x === null) {
      fp.num(NULL);
      continue;
    }
    if (x === HOLE) {
      fp.num(MISSING);
      continue;
    }
    const o = x as object;
    const at = seen.get(o);
    if (at !== undefined) {
      fp.num(SEEN).num(at);
      continue;
    }
    seen.set(o, seen.size);
    if (ArrayBuffer.isView(o)) {
      // The kind too: Uint16Array [1] and Uint8Array [1, 0] share bytes.
      text(fp.num(BYTES), Object.prototype.toString.call(o));
      fp.bytes(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    } else if (o instanceof ArrayBuffer) {
      fp.num(BUFFER).bytes(new Uint8Array(o));
    } else if (o instanceof Date || o instanceof Number || o instanceof String || o instanceof Boolean) {
      // What these hold is in no property.
      text(fp.num(BOXED), Object.prototype.toString.call(o));
      parts.push(o.valueOf());
      steps.push(NO_STEP);
    } else if (Array.isArray(o)) {
      fp.num(ARRAY).num(o.length);
      for (let i = o.length - 1; i >= 0; i--) {
        const v: unknown = o[i];
        parts.push(v === undefined && !(i in o) ? HOLE : v);
        steps.push(i);
      }
    } else if (o instanceof Map) {
      fp.num(MAP).num(o.size);
      const entries = [...o];
      for (let i = entries.length - 1; i >= 0; i--) {
        parts.push(entries[i][1], entries[i][0]);
        steps.push(GET, NO_STEP);
      }
    } else if (o instanceof Set) {
      fp.num(SET).num(o.size);
      const members = [...o];
      for (let i = members.length - 1; i >= 0; i--) {
        parts.push(members[i]);
        steps.push(HAS);
      }
    } else {
      // The keys with the header, the values after it, in the keys' order.
      const keys = Object.keys(o);
      fp.num(OBJECT).num(keys.length);
      for (let i = 0; i < keys.length; i++) text(fp, keys[i]);
      for (let i = keys.length - 1; i >= 0; i--) {
        parts.push((o as Record<string, unknown>)[keys[i]]);
        steps.push(keys[i]);
      }
    }
  }
}

// Strings by a 53-bit code, made once per string: the names of a state's
// fields and its constant texts recur in every state, and mixing them
// character by character was most of the time spent reading one. Two
// strings share a code as rarely as two states share a fingerprint. Only
// short ones are kept: the table holds what it codes alive, and a state
// may carry long texts, each new.
const codes = new Map<string, number>();
const MAX_CODES = 65_536;
const MAX_CODED_LENGTH = 256;

function text(fp: Fingerprint, s: string): void {
  if (s.length > MAX_CODED_LENGTH) {
    fp.str(s);
    return;
  }
  let c = codes.get(s);
  if (c === undefined) {
    if (codes.size >= MAX_CODES) codes.clear();
    c = CODER.reset().str(s).value();
    codes.set(s, c);
  }
  fp.num(c);
}

const CODER = new Fingerprint();

function notData(impl: Implementation, path: readonly Step[], what: string): InterfaceError {
  const where = path.map((k) => (typeof k === 'number' ? `[${k}]` : typeof k === 'string' ? `.${k}` : String(k))).join('');
  return new InterfaceError(`${impl.name} does not fit the Implementation interface: state() must return data, but state()${where} is ${what}`);
}
