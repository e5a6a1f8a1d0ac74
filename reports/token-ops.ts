// What each op of a token must hold: a token is untrusted input, and an
// op's numbers reach C ints in the kernel lane and packet fields in the
// model, so a field missing or out of its range is refused here rather
// than read as something else there (a fractional descriptor parsed as
// its integer part, a value past 2³¹ wrapped to a small one).

import type { OpKind } from '../model/ops.ts';
import { MAX_CONN } from '../model/packet.ts';

type Field = 'int' | 'conn' | 'count' | 'index';

/** The most SYNs one flood op may send: each is a step of the op, and an
 * op is bounded (properties/lockstep.ts MAX_YIELDS_PER_OP), so a flood past
 * that would read as an implementation that never returns. Generated
 * floods send at most a few dozen. */
export const MAX_FLOOD = 1000;

const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;

/** The numeric fields of each kind: required unless listed as optional. */
const FIELDS: { [K in OpKind]: { required: Record<string, Field>; optional?: Record<string, Field> } } = {
  socket: { required: {}, optional: { family: 'int', v6only: 'int' } },
  listen: { required: { fd: 'int', backlog: 'int' } },
  accept: { required: { fd: 'int' } },
  setsockopt: { required: { fd: 'int', optname: 'int', value: 'int' } },
  getsockopt: { required: { fd: 'int', optname: 'int', bufSize: 'int' } },
  close: { required: { fd: 'int' } },
  disconnect: { required: { fd: 'int' } },
  connect: { required: { fd: 'int' } },
  dup: { required: { fd: 'int' } },
  shutdown: { required: { fd: 'int', how: 'int' } },
  bind: { required: { fd: 'int' } },
  reuseport: { required: { fd: 'int' } },
  syn: { required: { conn: 'conn' }, optional: { to: 'index' } },
  fastOpenSyn: { required: { conn: 'conn' }, optional: { to: 'index' } },
  ack: { required: { conn: 'conn' } },
  ackRetransmit: { required: { conn: 'conn' } },
  cookieAck: { required: { conn: 'conn' } },
  rst: { required: { conn: 'conn' } },
  synackTimeout: { required: { conn: 'conn' } },
  synackRetransmit: { required: { conn: 'conn' } },
  flood: { required: { first: 'conn', count: 'count' } },
  sysctl: { required: { value: 'int' } },
  expireAll: { required: {} },
};

function problemWith(v: unknown, field: Field): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) return 'is not a whole number';
  switch (field) {
    case 'int': return v < INT_MIN || v > INT_MAX ? 'is outside a C int' : undefined;
    case 'conn': return v < 0 || v > MAX_CONN ? `names no peer (peers are 0..${MAX_CONN})` : undefined;
    case 'count': return v < 0 || v > MAX_FLOOD ? `is outside 0..${MAX_FLOOD}` : undefined;
    case 'index': return v < 0 || v > INT_MAX ? 'is not a listener index (0 or more)' : undefined;
  }
}

/** What is wrong with the numeric fields of `o`, an op of a known kind. */
export function opFieldsProblem(o: Record<string, unknown>): string | undefined {
  const shape = FIELDS[o.kind as OpKind];
  if ((o.kind === 'syn' || o.kind === 'fastOpenSyn') && o.packet === undefined) return 'has no packet';
  for (const [k, field] of Object.entries(shape.required)) {
    if (!Object.hasOwn(o, k)) return `has no ${k}`;
    const bad = problemWith(o[k], field);
    if (bad) return `.${k} ${bad}`;
  }
  for (const [k, field] of Object.entries(shape.optional ?? {})) {
    if (o[k] === undefined) continue;
    const bad = problemWith(o[k], field);
    if (bad) return `.${k} ${bad}`;
  }
  if (o.kind === 'flood' && (o.first as number) + (o.count as number) - 1 > MAX_CONN) return `floods peers past ${MAX_CONN}`;
  return undefined;
}

/** A field of `o`, an op of a known kind, that no op of its kind has: it
 * would be carried along unread, and the case a token shows would not be
 * the case it runs. */
export function strayFieldProblem(o: Record<string, unknown>): string | undefined {
  const shape = FIELDS[o.kind as OpKind];
  for (const k of Object.keys(o)) {
    if (k === 'kind' || Object.hasOwn(shape.required, k) || (shape.optional !== undefined && Object.hasOwn(shape.optional, k))) continue;
    if (k === 'packet' && (o.kind === 'syn' || o.kind === 'fastOpenSyn')) continue;
    if (k === 'name' && o.kind === 'sysctl') continue;
    return `has a field ${JSON.stringify(k)}, which no ${String(o.kind)} op has`;
  }
  return undefined;
}

/** The op kinds a token may hold. */
export const OP_KINDS: ReadonlySet<string> = new Set(Object.keys(FIELDS));
