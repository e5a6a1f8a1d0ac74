// The oracles that judge one step of a single-thread run. Each returns a
// Verdict naming what went wrong, or undefined. A run keeps every verdict;
// the most severe names it (memory safety over leak over race over wrong
// result), the earliest among equals.

import type { FdView } from '../model/impl/types.ts';
import { firstDifference, formatOutcome } from '../model/format.ts';
import type { Violation } from '../model/ledger.ts';
import type { Op, Outcome } from '../model/ops.ts';
import { buildSyn, DEFAULT_PACKET, locate, parseSyn, type BuiltPacket } from '../model/packet.ts';
import type { SpecWorld } from '../model/spec/world.ts';
import { lastWithFd } from './linearizable.ts';

export type OracleName =
  | 'crash' | 'hang' | 'bounds' | 'identity' | 'one-shot' | 'lockstep' | 'state' | 'ledger' | 'leak' | 'memory' | 'linearizability' | 'deadlock';

/** How bad a violation is, worst first. A crash stands for an oops; a
 * hang, like a deadlock, for a machine that stops making progress. */
export type Severity = 'memory-safety' | 'leak' | 'race' | 'wrong-result';

const SEVERITY_ORDER: readonly Severity[] = ['memory-safety', 'leak', 'race', 'wrong-result'];

export function severityOf(oracle: string): Severity {
  if (oracle === 'ledger' || oracle === 'bounds' || oracle === 'crash') return 'memory-safety';
  // Memory held past the profile's bound is a leak while it lasts.
  if (oracle === 'leak' || oracle === 'memory') return 'leak';
  if (oracle === 'linearizability' || oracle === 'deadlock' || oracle === 'hang') return 'race';
  return 'wrong-result';
}

/** The verdict that names a run: the most severe, the earliest among equals. */
export function mostSevere<V extends { oracle: string }>(found: readonly V[]): V | undefined {
  let worst: V | undefined;
  let rank = SEVERITY_ORDER.length;
  for (const v of found) {
    const r = SEVERITY_ORDER.indexOf(severityOf(v.oracle));
    if (r < rank) {
      worst = v;
      rank = r;
    }
  }
  return worst;
}

export interface Verdict {
  oracle: OracleName;
  /** Stable across runs and shrinks: used to deduplicate findings. */
  signature: string;
  message: string;
}

/** What the oracles need to know about the world, taken from the spec. */
export interface StepContext {
  op: Op;
  /** The profile's option that reads a kept SYN. */
  readOpt: number;
  /** The spec's socket behind op.fd, and its connection, before the op ran. */
  readerSocket: number | undefined;
  readerConn: number | undefined;
  /** Every SYN sent so far, by connection (a peer may open more than one). */
  packets: ReadonlyMap<number, readonly BuiltPacket[]>;
  /** How many SYNs each socket has already read. */
  delivered: Map<number, number>;
}

/** Bounds, identity and one-shot: about the bytes a successful read returned. */
export function judgeRead(ctx: StepContext, actual: Outcome): Verdict | undefined {
  const { op } = ctx;
  if (op.kind !== 'getsockopt' || op.optname !== ctx.readOpt || actual.ret !== 0 || actual.bytes === undefined || actual.bytes.length === 0) return undefined;
  const bytes = actual.bytes;
  const parsed = parseSyn(bytes);
  const conn = parsed.ok ? parsed.syn.conn : undefined;
  if (!sliceOfAny(bytes, conn === undefined ? undefined : ctx.packets.get(conn))) {
    return {
      oracle: 'bounds', signature: 'bounds:getsockopt',
      message: `getsockopt returned ${bytes.length} bytes that are not a slice of any SYN received`,
    };
  }
  if (ctx.readerConn !== undefined && conn !== ctx.readerConn) {
    return {
      oracle: 'identity', signature: 'identity:getsockopt',
      message: `the socket of peer ${ctx.readerConn} read the SYN of peer ${conn}`,
    };
  }
  if (ctx.readerSocket === undefined) return undefined;
  const seen = ctx.delivered.get(ctx.readerSocket) ?? 0;
  ctx.delivered.set(ctx.readerSocket, seen + 1);
  if (seen > 0) {
    return {
      oracle: 'one-shot', signature: 'one-shot:getsockopt',
      message: `fd ${op.fd} read a SYN (peer ${conn}'s) ${seen + 1} times`,
    };
  }
  return undefined;
}

function sliceOfAny(bytes: Uint8Array, candidates: readonly BuiltPacket[] | undefined): boolean {
  if (candidates !== undefined) for (let i = 0; i < candidates.length; i++) if (locate(bytes, candidates[i]) >= 0) return true;
  return false;
}

export function judgeLockstep(op: Op, expected: Outcome, actual: Outcome, readOpt?: number): Verdict | undefined {
  const field = firstDifference(expected, actual);
  if (field === undefined) return undefined;
  // A read that sizes the SYN otherwise than the spec shows as another
  // length, or as "too small" on one side only, depending on the buffer
  // the case happened to pass: one defect, so one name.
  const read = op.kind === 'getsockopt' && op.optname === readOpt;
  const detail = read && differsInLength(expected, actual) ? 'length'
    : field === 'errno' ? `${expected.errno ?? 'ok'}->${actual.errno ?? 'ok'}` : field;
  return {
    oracle: 'lockstep', signature: `lockstep:${op.kind}:${detail}`,
    message: `${op.kind}: the spec returns ${formatOutcome(expected)}, the implementation ${formatOutcome(actual)}`,
  };
}

/** "Too small": E2BIG, or EINVAL with the size needed (today's kernel). */
const tooSmall = (o: Outcome): boolean => o.errno === 'E2BIG' || (o.errno === 'EINVAL' && o.optlen !== undefined);

const ok = (o: Outcome): boolean => o.errno === undefined && o.ret === 0;

function differsInLength(expected: Outcome, actual: Outcome): boolean {
  if (ok(expected) && ok(actual)) return expected.optlen !== actual.optlen;
  return (ok(expected) && tooSmall(actual)) || (tooSmall(expected) && ok(actual))
    || (tooSmall(expected) && tooSmall(actual) && expected.optlen !== actual.optlen);
}

export function judgeState(op: Op, expected: FdView[], actual: FdView[]): Verdict | undefined {
  for (const e of expected) {
    const a = lastWithFd(actual, e.fd);
    if (a === undefined) continue;
    if (a.flag !== e.flag) {
      return {
        oracle: 'state', signature: `state:${op.kind}:flag`,
        message: `after ${op.kind}, fd ${e.fd} has the save-SYN flag ${a.flag}; the spec says ${e.flag}`,
      };
    }
    if (a.kept !== e.kept) {
      return {
        oracle: 'state', signature: `state:${op.kind}:kept`,
        message: `after ${op.kind}, fd ${e.fd} holds ${a.kept === null ? 'no SYN' : `the SYN of peer ${a.kept}`}; the spec says ${e.kept === null ? 'none' : `peer ${e.kept}'s`}`,
      };
    }
  }
  return undefined;
}

/** judgeState against the spec's own sockets: the same verdict, without
 * building the spec's view when every descriptor agrees (most steps). */
export function judgeStateOf(op: Op, spec: SpecWorld, actual: FdView[]): Verdict | undefined {
  for (let fd = 0; fd < spec.fds.length; fd++) {
    const id = spec.fds[fd];
    if (id === undefined) continue;
    const a = lastWithFd(actual, fd);
    if (a === undefined) continue;
    const s = spec.sockets[id];
    if (a.flag !== s.flag || a.kept !== (s.kept?.conn ?? null)) return judgeState(op, spec.view(), actual);
  }
  return undefined;
}


/** A leak is named by the kind of owner that held it and where it lost
 * the last chance to release it (the path that destroyed it, or the store
 * that overwrote its pointer); other violations by where they happened. */
export function judgeLedger(v: Violation): Verdict {
  if (v.kind === 'leak') {
    return { oracle: 'leak', signature: `leak:${ownerKind(v.owner)}:${siteFunction(v.site)}`, message: `leak: ${v.message}` };
  }
  return { oracle: 'ledger', signature: `ledger:${v.kind}:${siteFunction(v.site)}`, message: `${v.kind}: ${v.message} (at ${v.site})` };
}

/** `sk3` → `sk`, `req12` → `req`: owners are named per object, and a
 * signature must not depend on how many were made before. */
export function ownerKind(owner: string): string {
  return owner.replace(/[#\s]*\d+$/, '') || owner;
}

/** The function part of a site label, which survives small code edits. */
export function siteFunction(site: string): string {
  const head = site.split(' | ')[0];
  return head.replace(/ @@[^@]*@@/, '');
}

/** Every packet a sequence of ops sends, by connection. */
export function packetsOf(ops: readonly Op[]): Map<number, BuiltPacket[]> {
  const out = new Map<number, BuiltPacket[]>();
  for (const op of ops) addPackets(out, op);
  return out;
}

/** `packets` and those `op` sends: `packets` itself when it sends none. */
export function withPacketsOf(packets: ReadonlyMap<number, readonly BuiltPacket[]>, op: Op): ReadonlyMap<number, readonly BuiltPacket[]> {
  if (op.kind !== 'syn' && op.kind !== 'fastOpenSyn' && op.kind !== 'flood') return packets;
  const out = new Map<number, BuiltPacket[]>();
  for (const [conn, list] of packets) out.set(conn, list.slice());
  addPackets(out, op);
  return out;
}

function addPackets(out: Map<number, BuiltPacket[]>, op: Op): void {
  if (op.kind === 'syn' || op.kind === 'fastOpenSyn') addPacket(out, buildSyn(op.conn, op.packet));
  if (op.kind === 'flood') for (let i = 0; i < op.count; i++) addPacket(out, buildSyn(op.first + i, DEFAULT_PACKET));
}

function addPacket(out: Map<number, BuiltPacket[]>, p: BuiltPacket): void {
  const list = out.get(p.conn);
  if (list) list.push(p);
  else out.set(p.conn, [p]);
}
