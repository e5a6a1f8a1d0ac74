// Reading the plain fields of an object quickly: the objects of one kind
// (spec sockets, the stack's sockets and requests, feature records) come in
// a few shapes, so a shape's sorted field names and their fingerprint codes
// are worked out once, and an object is read by a for-in loop checked
// against the shape last seen.

import { symbolCode } from './fingerprint.ts';

export interface Shape {
  /** Own field names in the order Object.keys gives them. */
  keys: string[];
  /** The codes of the same names but for those skipped, in sorted
   * order, and where each is in `keys`. */
  codes: number[];
  at: number[];
}

/** The field names of the objects of one kind, sorted: the objects of a
 * kind come in a few shapes (field orders), so the sort is done once per
 * shape, not once per object. Fields are read by a for-in loop, which the
 * engine serves from the object's layout, rather than by name. */
export class Shapes {
  private readonly seen: Shape[] = [];
  /** The shape last read: objects of a kind mostly share one. */
  private last: Shape | undefined;
  /** The values `read` read, in the object's field order. */
  readonly values: unknown[] = [];

  private readonly skip: ReadonlySet<string>;

  /** `skip`: fields the caller hashes its own way (an id it renames, a
   * generation it relates to another). */
  constructor(...skip: string[]) {
    this.skip = new Set(skip);
  }

  /** Read `obj`'s own fields into `values`; its shape. */
  read(obj: object): Shape {
    const rec = obj as Record<string, unknown>;
    const last = this.last;
    if (last !== undefined) {
      // For-in lists own fields (and inherited enumerable ones, which no
      // shape has): it matches `last` only if the fields are the same.
      const keys = last.keys;
      let n = 0;
      let same = true;
      for (const k in rec) {
        if (keys[n] !== k) {
          same = false;
          break;
        }
        this.values[n++] = rec[k];
      }
      if (same && n === keys.length) return last;
    }
    const keys = Object.keys(obj);
    for (let i = 0; i < keys.length; i++) this.values[i] = rec[keys[i]];
    let shape = this.seen.find((s) => sameKeys(s.keys, keys, keys.length));
    if (shape === undefined) {
      const order = keys.map((k, i) => i).filter((i) => !this.skip.has(keys[i])).sort((x, y) => (keys[x] < keys[y] ? -1 : keys[x] > keys[y] ? 1 : 0));
      shape = { keys, codes: order.map((i) => symbolCode(keys[i])), at: order };
      if (this.seen.length < 16) this.seen.push(shape);
    }
    this.last = forInOwn(rec, keys.length) ? shape : undefined;
    return shape;
  }
}

/** Whether a for-in over `rec` lists only its `n` own fields. */
function forInOwn(rec: Record<string, unknown>, n: number): boolean {
  let count = 0;
  for (const k in rec) {
    if (!Object.prototype.hasOwnProperty.call(rec, k)) return false;
    count++;
  }
  return count === n;
}

function sameKeys(a: readonly string[], b: readonly string[], n: number): boolean {
  if (a.length !== n) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

