// The canonical state of a run between two ops: spec, implementation,
// ledger and the oracles' own memory, fed to a fingerprint. Equal
// fingerprints must mean states no continuation can tell apart, up to
// renaming; everything a later step can read is hashed.
//
// What is renamed, and why that is sound:
//   - Sockets, requests and buffers are numbered by allocation, so the same
//     state reached by two paths carries different numbers. Each is renamed
//     in order of first appearance in a traversal that starts from the
//     descriptors (whose numbers are observable) and then visits the tables
//     keyed by peer; nothing behaves differently by number, except the
//     order in which the stack scans its sockets for the service listener,
//     so the allocation order of the live sockets is hashed too.
//   - Descriptors are not renamed: they are allocated lowest-free, so which
//     numbers are open decides what socket() and accept() return next.
//   - Peers are not renamed here: the alphabet names them in order of first
//     appearance along a sequence instead (alphabet.ts), and how many have
//     been used is part of the state, since it decides which ops are offered.
//   - Buffer handles are renamed only when every feature field of every
//     socket and request is one this file knows to hold a handle or a plain
//     value (HANDLE_FIELDS, VALUE_FIELDS); with any other field the handles
//     are hashed as they are, which is exact but merges less.
//   - The tables keyed by peer are hashed in peer order, not insertion
//     order: the stack only iterates them to run independent per-peer work
//     (expiring timers), whose order no oracle observes.
// Every field of a spec socket, a stack socket and a request is hashed by
// name (test/verify.test.ts changes each in turn and requires the
// fingerprint to tell); only feature records, open to each
// implementation's own names, are read by shape.
// An implementation that is not the modelled stack (a third-party module)
// has no state to read: its state is its op sequence, so nothing merges.

import type { Ledger } from '../../model/ledger.ts';
import { kernelOf } from '../../model/impl/stack/adapter.ts';
import type { Kernel } from '../../model/impl/stack/kernel.ts';
import type { RequestSock, Sock } from '../../model/impl/stack/structs.ts';
import type { Op } from '../../model/ops.ts';
import type { BuiltPacket } from '../../model/packet.ts';
import type { ProfileName } from '../../model/profile.ts';
import { DOMAINS, type Domain } from '../../model/families.ts';
import type { SpecConn, SpecSocket, SpecWorld } from '../../model/spec/world.ts';
import type { Session } from '../../properties/lockstep.ts';
import { Fingerprint } from './fingerprint.ts';
import { hashModuleState } from './module-state.ts';
import { Names, Sorter } from './names.ts';
import { Shapes } from './shapes.ts';

/** Feature fields that hold a buffer handle, by profile. */
const HANDLE_FIELDS: Record<ProfileName, ReadonlySet<string>> = {
  'rfc-v1': new Set(['syn_skb']),
  linux: new Set(['saved_syn']),
};
/** Feature fields that hold a plain value (a flag), by profile. */
const VALUE_FIELDS: Record<ProfileName, ReadonlySet<string>> = {
  'rfc-v1': new Set(['saved_syn']),
  linux: new Set(['save_syn']),
};

const KNOWN: Record<ProfileName, { handles: ReadonlySet<string>; values: ReadonlySet<string> }> = {
  'rfc-v1': { handles: HANDLE_FIELDS['rfc-v1'], values: VALUE_FIELDS['rfc-v1'] },
  linux: { handles: HANDLE_FIELDS.linux, values: VALUE_FIELDS.linux },
};

const TCP_STATES = ['CLOSE', 'LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED'];
const SOCK_STATES = ['unconnected', 'connecting', 'connected'];
const CONN_STATES = ['request', 'cookie', 'child', 'gone'];
const NONE = -1;

/** Whether this session's implementation has a state verify can hash:
 * the modelled stack's, or what a module's state() tells of its own. */
export function hashable(session: Session): boolean {
  return kernelOf.has(session.instance) || typeof session.instance.state === 'function';
}

/** The fingerprint of the state a session has reached after `path`
 * (read only when the implementation's state cannot be). `peersUsed` and the SYNs sent (`sent`, as alphabet.ts codes them) are
 * the exploration's and the bounds oracle's memory of the path. */
export function stateFingerprint(
  fp: Fingerprint, session: Session, path: readonly Op[], peersUsed: number, sent: readonly number[],
): number {
  fp.reset();
  const kernel = kernelOf.get(session.instance);
  if (kernel === undefined) {
    if (typeof session.instance.state !== 'function') {
      for (const op of path) fp.str(JSON.stringify(op));
      return fp.value();
    }
    // A module's state is its own account, not renamed: what it numbers
    // by allocation, and the ledger's handles and owners, are hashed as
    // they are, which is exact and merges less.
    fp.num(peersUsed).num(sent.length);
    for (const c of sent) fp.num(c);
    hashSpec(fp, session.spec, session.readsBySocket());
    session.readState((state) => hashModuleState(fp, session.impl, state));
    hashLedger(fp, AS_THEY_ARE.start(), session.ledger, NO_PACKETS, NO_BYTES, false);
    return fp.value();
  }
  for (const exact of [true, false]) {
    fp.reset().num(peersUsed);
    fp.num(sent.length);
    for (const c of sent) fp.num(c);
    hashSpec(fp, session.spec, session.readsBySocket());
    if (hashKernel(fp, kernel, session.ledger, session.profile.name, exact)) break;
  }
  return fp.value();
}

function hashPacket(fp: Fingerprint, p: BuiltPacket): void {
  fp.num(p.conn).num(p.family).num(p.macLen).num(p.networkLen).num(p.extHeaderLen).num(p.tcpHeaderLen).num(p.payloadLen);
}

const SPEC_NAMES = new Names();
const CONNS = new Sorter<SpecConn>((c) => c.id);
const KEYS = new Sorter<number>((k) => k);

function hashSpec(fp: Fingerprint, w: SpecWorld, reads: ReadonlyMap<number, number>): void {
  const socks = SPEC_NAMES.clear();
  for (let fd = 0; fd < w.fds.length; fd++) {
    const id = w.fds[fd];
    if (id !== undefined) fp.num(fd).num(socks.of(id));
  }
  fp.num(NONE);
  for (const c of CONNS.sort(w.conns.values())) hashSpecConn(fp, c, socks);
  fp.num(NONE);
  for (const c of w.retired) hashSpecConn(fp, c, socks);
  fp.num(NONE);
  if (w.inFlight.size > 0) hashInFlight(fp, w, socks);
  fp.num(NONE);
  // Reset Fast Open requests kept against spoofing: a later listen() or
  // expireAll gives them back to their listener's count.
  for (const p of w.parked) fp.num(p.conn).num(socks.of(p.listener));
  fp.num(NONE);
  // Live sockets in allocation order, named: the listener lookup scans so.
  for (const s of w.sockets) if (s.alive) fp.num(socks.of(s.id));
  fp.num(NONE);
  for (let i = 0; i < socks.size; i++) hashSpecSocket(fp, w.sockets[socks.order[i]], socks, w);
  fp.num(NONE).num(w.syncookies).num(w.fastOpen).num(w.migrateReq);
  // Each SO_REUSEPORT group in its order, and whether its stamp is current.
  for (const d of DOMAINS) {
    const group = w.groups[d];
    fp.num(group.length);
    for (const id of group) fp.num(socks.of(id));
    fp.bool(w.groupStamps[d] === w.groupGens[d]);
  }
  if (listenOrderMatters(w.sockets, specListening)) {
    const six = w.sockets.filter((s) => s.domain !== 'inet' && specListening(s)).sort(byListenedAt);
    fp.num(six.length);
    for (const s of six) fp.num(socks.of(s.id));
  }
  fp.num(NONE);
  // Reads by sockets that can still be read (named above); the others are
  // closed for good.
  if (reads.size > 0) {
    const counted: Array<[number, number]> = [];
    for (const [raw, n] of reads) {
      const c = socks.get(raw);
      if (c !== undefined) counted.push([c, n]);
    }
    counted.sort((x, y) => x[0] - y[0]);
    for (const [c, n] of counted) fp.num(c).num(n);
  }
  fp.num(NONE);
}

/** Calls blocked in accept(), by descriptor: only a concurrent run leaves
 * any, so most states have none to sort. */
function hashInFlight(fp: Fingerprint, w: SpecWorld, socks: Names): void {
  for (const [fd, z] of [...w.inFlight].sort((x, y) => x[0] - y[0])) {
    fp.num(fd).num(socks.of(z.socket)).num(z.waiting.length);
    for (const id of z.waiting) fp.num(id);
  }
}

function hashKept(fp: Fingerprint, k: { conn: number; bytes: Uint8Array } | null): void {
  if (k === null) fp.num(NONE);
  else fp.num(k.conn).bytes(k.bytes);
}

function hashSpecConn(fp: Fingerprint, c: SpecConn, socks: Names): void {
  fp.num(c.id).num(CONN_STATES.indexOf(c.state)).num(socks.of(c.listener)).num(c.flagAtSyn);
  hashPacket(fp, c.packet);
  hashKept(fp, c.kept);
  fp.num(c.child === undefined ? NONE : socks.of(c.child)).bool(c.fastOpenPending);
  fp.num(c.unqueuedChild === undefined ? NONE : socks.of(c.unqueuedChild)).num(c.unqueuedBy ?? NONE);
  fp.num(c.to ?? NONE);
}

function hashSpecSocket(fp: Fingerprint, s: SpecSocket, socks: Names, w: SpecWorld): void {
  fp.bool(s.alive).num(SOCK_STATES.indexOf(s.sockState)).num(TCP_STATES.indexOf(s.tcpState)).bool(s.onServicePort);
  fp.bool(s.bound).bool(s.userBound).num(DOMAINS.indexOf(s.domain)).bool(s.reuseport);
  fp.num(s.flag);
  hashKept(fp, s.kept);
  fp.num(s.conn ?? NONE).num(s.backlog).bool(s.fastOpenQueue).num(s.fastOpenMax).num(s.fastOpenCount);
  fp.num(s.acceptQueue.length);
  for (const id of s.acceptQueue) fp.num(socks.of(id));
  // closedGen is only ever compared with the group's current generation,
  // and generations only grow: whether the two are equal is what a later
  // step can read.
  fp.bool(s.closedGen === w.groupGens[w.groupOf(s)]).bool(s.cookieStamp).bool(s.unread).bool(s.orphan);
}

// --- the modelled stack and its ledger ------------------------------------

/** Feature records are open (each implementation names its own fields):
 * read generically, by shape. */
const FEATURE_FIELDS = new Shapes();

/** How a fingerprint names a ledger's buffers and their owners. */
interface BufferNames {
  readonly handles: Names;
  owner(name: string): string;
  /** Owners and sites are a vocabulary (the stack's few, each mixed as one
   * code), or a module's own names, of any number (mixed as text: codes
   * for that many could clash). */
  readonly vocabulary: boolean;
}

function text(fp: Fingerprint, names: BufferNames, s: string): void {
  if (names.vocabulary) fp.sym(s);
  else fp.str(s);
}

/** A module's buffers by handle, and its owners by the names it gave. */
class NamesAsTheyAre implements BufferNames {
  readonly vocabulary = false;
  readonly handles = new Names();

  start(): this {
    this.handles.clear();
    return this;
  }

  owner(name: string): string {
    return name;
  }
}

const AS_THEY_ARE = new NamesAsTheyAre();
const NO_PACKETS: ReadonlyMap<number, BuiltPacket> = new Map();
const NO_BYTES: ReadonlyMap<number, Uint8Array> = new Map();

/** The stack's objects, renamed as a traversal meets them. One walk is
 * reused from state to state: `start` forgets the last one. */
class KernelWalk implements BufferNames {
  readonly vocabulary = true;
  readonly socks = new Names();
  readonly reqs = new Names();
  readonly handles = new Names();
  private readonly queue: Array<Sock | RequestSock> = [];
  private head = 0;
  private tail = 0;
  private fp = new Fingerprint();
  private ledger: Ledger | undefined;
  private known: { handles: ReadonlySet<string>; values: ReadonlySet<string> } | undefined;
  /** The stack, whose groups' current generations closedGen is read against. */
  private kernel: Kernel | undefined;

  /** A feature field neither holding a handle nor a value as far as this
   * file knows: renaming buffers would be unsound. */
  unknownField = false;

  start(fp: Fingerprint, ledger: Ledger, known: { handles: ReadonlySet<string>; values: ReadonlySet<string> } | undefined, kernel: Kernel): this {
    this.kernel = kernel;
    this.socks.clear();
    this.reqs.clear();
    this.handles.clear();
    this.head = 0;
    this.tail = 0;
    this.fp = fp;
    this.ledger = ledger;
    this.known = known;
    this.unknownField = false;
    return this;
  }

  sock(sk: Sock | null | undefined): void {
    if (sk === null || sk === undefined) {
      this.fp.num(NONE);
      return;
    }
    const known = this.socks.get(sk.id) !== undefined;
    this.fp.num(this.socks.of(sk.id));
    if (!known) this.queue[this.tail++] = sk;
  }

  req(req: RequestSock | null | undefined): void {
    if (req === null || req === undefined) {
      this.fp.num(NONE);
      return;
    }
    const known = this.reqs.get(req.id) !== undefined;
    this.fp.num(this.reqs.of(req.id));
    if (!known) this.queue[this.tail++] = req;
  }

  /** A feature field: a handle is renamed, a plain value hashed as it is. */
  fields(rec: Record<string, number>): void {
    const shape = FEATURE_FIELDS.read(rec);
    this.fp.num(shape.codes.length);
    for (let i = 0; i < shape.codes.length; i++) this.field(shape.keys[shape.at[i]], shape.codes[i], FEATURE_FIELDS.values[shape.at[i]] as number);
  }

  private field(k: string, code: number, v: number): void {
    this.fp.code(code);
    if (this.known === undefined) {
      this.fp.num(v);
    } else if (this.known.handles.has(k)) {
      if (Number.isInteger(v) && v > 0 && v <= this.ledger!.count()) this.fp.num(1).num(this.handles.of(v));
      else this.fp.num(0).num(v);
    } else {
      if (!this.known.values.has(k)) this.unknownField = true;
      this.fp.num(v);
    }
  }

  /** Hash every object met, and those they lead to. */
  drain(): void {
    while (this.head < this.tail) {
      const x = this.queue[this.head++];
      if ('lookups' in x) this.hashReq(x);
      else this.hashSock(x);
    }
  }

  private hashSock(sk: Sock): void {
    const fp = this.fp;
    fp.num(0x5c).bool(sk.alive).bool(sk.dead).num(SOCK_STATES.indexOf(sk.sockState)).num(TCP_STATES.indexOf(sk.state));
    fp.bool(sk.onServicePort).num(sk.lock.owner).num(sk.fileRefs).bool(sk.fileClosed);
    fp.num(sk.destruct === 'tcp_sock_destruct' ? 1 : 0).num(sk.conn ?? NONE);
    fp.bool(sk.bound).bool(sk.userBound).num(DOMAINS.indexOf(sk.domain)).bool(sk.reuseport).num(sk.fdRefs).bool(sk.synqOverflowStamp).bool(sk.unread);
    this.req(sk.fastopen_rsk);
    fp.num(sk.backlog).num(sk.acceptQueue.length);
    for (const e of sk.acceptQueue) {
      this.req(e.req);
      this.sock(e.child);
    }
    if (sk.fastopenq === null) fp.num(NONE);
    else fp.num(sk.fastopenq.maxQlen).num(sk.fastopenq.qlen);
    this.fields(sk.tp);
    fp.bool(sk.closedGen === this.kernel!.reuseGens[this.kernel!.reuseKey(sk)]);
  }

  private hashReq(req: RequestSock): void {
    const fp = this.fp;
    fp.num(0x7e).num(req.conn);
    this.sock(req.listener);
    hashPacket(fp, req.packet);
    fp.bool(req.hashed).bool(req.queued).num(req.lookups).bool(req.parked).bool(req.freed).bool(req.tfo_listener);
    this.sock(req.sk);
    fp.bool(req.acked);
    this.fields(req.ireq);
  }

  /** A ledger owner name, renamed when it names a socket or a request. */
  owner(name: string): string {
    const parsed = parseOwner(name);
    if (parsed === null) return name;
    return parsed.sock ? `s${this.socks.of(parsed.raw)}` : `r${this.reqs.of(parsed.raw)}`;
  }
}

/** `sk3` is socket 3, `req12` request 12; any other owner is named as it
 * is. Parsed once per name. */
const owners = new Map<string, { sock: boolean; raw: number } | null>();

function parseOwner(name: string): { sock: boolean; raw: number } | null {
  let p = owners.get(name);
  if (p === undefined) {
    const m = /^(sk|req)(\d+)$/.exec(name);
    p = m === null ? null : { sock: m[1] === 'sk', raw: Number(m[2]) };
    owners.set(name, p);
  }
  return p;
}

const WALK = new KernelWalk();

function hashKernel(fp: Fingerprint, k: Kernel, ledger: Ledger, profile: ProfileName, exact: boolean): boolean {
  const walk = WALK.start(fp, ledger, exact ? KNOWN[profile] : undefined, k);
  const inner = k.internals();
  for (let fd = 0; fd < k.files.length; fd++) {
    const sk = k.files[fd];
    if (sk !== undefined) {
      fp.num(fd);
      walk.sock(sk);
    }
  }
  fp.num(NONE);
  for (const fd of KEYS.sort(inner.reserved)) fp.num(fd);
  fp.num(NONE);
  for (const conn of KEYS.sort(k.requests.keys())) {
    fp.num(conn);
    walk.req(k.requests.get(conn));
  }
  fp.num(NONE);
  for (const conn of KEYS.sort(k.established.keys())) {
    fp.num(conn);
    walk.sock(k.established.get(conn));
  }
  fp.num(NONE);
  for (const conn of KEYS.sort(k.cookies.keys())) {
    const c = k.cookies.get(conn)!;
    fp.num(conn).num(c.version).num(c.to);
  }
  fp.num(NONE);
  for (const req of inner.parked) walk.req(req);
  fp.num(NONE);
  // Live sockets in allocation order: the service listener is found so.
  for (const sk of k.socks) if (sk.alive) walk.sock(sk);
  fp.num(NONE);
  walk.drain();
  fp.num(NONE).num(k.syncookies).num(k.fastopen).num(k.migrateReq);
  // The group in its order, and whether its overflow stamp is current: a
  // generation is a count, so only its relation to the stamp's is hashed.
  for (const d of DOMAINS) {
    const group = k.reuseGroups[d];
    fp.num(group.length);
    for (const sk of group) walk.sock(sk);
    fp.bool(k.reuseStamps[d] === k.reuseGens[d]);
  }
  if (listenOrderMatters(k.socks, stackListening)) {
    const six = k.socks.filter((sk) => sk.domain !== 'inet' && stackListening(sk)).sort(byListenedAt);
    fp.num(six.length);
    for (const sk of six) walk.sock(sk);
  }
  fp.num(NONE);
  if (walk.unknownField) return false;
  hashLedger(fp, walk, ledger, inner.skbPackets, inner.kmem, exact);
  return true;
}

/** Every buffer a pointer leads to, then every other live one; freed
 * buffers nothing points to can never be touched again. */
function hashLedger(
  fp: Fingerprint, walk: BufferNames, ledger: Ledger, skbs: ReadonlyMap<number, BuiltPacket>, kmem: ReadonlyMap<number, Uint8Array>, exact: boolean,
): void {
  const n = ledger.count();
  if (exact) {
    for (let h = 1; h <= n; h++) if (!ledger.stateOf(h).freed) walk.handles.of(h);
  } else {
    for (let h = 1; h <= n; h++) walk.handles.of(h);
  }
  hashBuffers(fp, walk, ledger, skbs, kmem, exact);
}

/** Each buffer the walk has named, in the order named. */
function hashBuffers(
  fp: Fingerprint, walk: BufferNames, ledger: Ledger, skbs: ReadonlyMap<number, BuiltPacket>, kmem: ReadonlyMap<number, Uint8Array>, exact: boolean,
): void {
  for (let i = 0; i < walk.handles.size; i++) {
    const h = walk.handles.order[i];
    const e = ledger.stateOf(h);
    fp.num(0xb0).num(exact ? 0 : h).num(ledger.bufferKind(h) === 'skb' ? 0 : 1).num(ledger.conn(h) ?? NONE).num(e.refs).bool(e.freed);
    // The memory oracle weighs a buffer by the size its allocation gave: the
    // stack's follow from the bytes hashed below, a module's do not.
    if (!walk.vocabulary) fp.num(e.size ?? NONE);
    fp.num(e.holders.size);
    if (e.holders.size === 1) {
      for (const [o, c] of e.holders) {
        text(fp, walk, walk.owner(o));
        fp.num(c);
        text(fp, walk, ledger.deathOf(o) ?? '');
      }
    } else {
      const holders = [...e.holders].map(([o, c]) => [walk.owner(o), c] as const).sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      // A holder destroyed without releasing names the leak: where it died.
      for (const [o, c] of holders) {
        text(fp, walk, o);
        fp.num(c);
      }
      for (const o of [...e.holders.keys()].sort()) text(fp, walk, ledger.deathOf(o) ?? '');
    }
    // A leak is named after the site that last took a reference: part of
    // what a later teardown reports, so part of the state.
    if (!e.freed) text(fp, walk, lastTaken(ledger, h));
    const p = skbs.get(h);
    if (p !== undefined) hashPacket(fp, p);
    const b = kmem.get(h);
    if (b !== undefined) fp.bytes(b);
  }
  fp.num(NONE);
}

const specListening = (s: SpecSocket): boolean => s.alive && s.onServicePort && s.tcpState === 'LISTEN';
const stackListening = (sk: Sock): boolean => sk.alive && sk.onServicePort && sk.state === 'LISTEN';

/** The order the port's IPv6 listeners started listening in, where it
 * decides which group an IPv6 SYN meets: while dual-stack and v6only
 * listeners both listen (two groups). With one kind alone it decides
 * nothing, since a listener of the other kind comes after all of them;
 * the counts themselves only grow, so only the order is hashed. */
function listenOrderMatters<T extends { domain: Domain }>(all: readonly T[], listening: (x: T) => boolean): boolean {
  let dual = false;
  let v6only = false;
  for (let i = 0; i < all.length; i++) {
    const x = all[i];
    if (x.domain === 'inet' || !listening(x)) continue;
    if (x.domain === 'inet6') dual = true;
    else v6only = true;
  }
  return dual && v6only;
}

const byListenedAt = (a: { listenedAt: number }, b: { listenedAt: number }): number => a.listenedAt - b.listenedAt;

// --- one socket, as its options see it ----------------------------------

/** The part of a state socket options on the socket `fd` names read or
 * change (the footprints independence.ts assumes): the descriptors naming
 * it, its state and lock, its file references, its feature fields and
 * every buffer they point to, with each buffer's references, holders and
 * bytes; in the spec, its state, flag and kept SYN, and how often it was
 * read. Its queues, its listener settings and every other object are left
 * out: no option reads them. Two states with equal projections give a pair
 * of options on the socket the same interleavings and the same verdicts,
 * as far as those footprints hold. */
export function socketProjection(fp: Fingerprint, session: Session, fd: number, fds: number): number {
  const kernel = kernelOf.get(session.instance);
  const w = session.spec;
  const id = w.fds[fd];
  // A module's own objects cannot be told apart by socket: its socket is
  // the spec's, which it matches at every step the search has passed.
  // Coarser than the stack's, so fewer states start pairs, never none.
  if (kernel === undefined) return specSocket(fp.reset(), session, id, fds).value();
  const sk = kernel.files[fd];
  for (const exact of [true, false]) {
    fp.reset();
    // Which descriptors in bounds name the socket (an op may come through
    // any), and how many past them do (only teardown closes those).
    specSocket(fp, session, id, fds);
    namingIt(fp, kernel.files, sk, fds);
    const walk = WALK.start(fp, session.ledger, exact ? KNOWN[session.profile.name] : undefined, kernel);
    if (sk !== undefined) {
      fp.bool(sk.alive).bool(sk.dead).num(SOCK_STATES.indexOf(sk.sockState)).num(TCP_STATES.indexOf(sk.state));
      fp.num(sk.lock.owner).num(sk.fileRefs).bool(sk.fileClosed).num(sk.destruct === 'tcp_sock_destruct' ? 1 : 0);
      walk.fields(sk.tp);
    }
    if (walk.unknownField) continue;
    const inner = kernel.internals();
    // A field this file does not know may hold a buffer: then every
    // buffer is part of the socket, as of the state.
    if (exact) hashBuffers(fp, walk, session.ledger, inner.skbPackets, inner.kmem, true);
    else hashLedger(fp, walk, session.ledger, inner.skbPackets, inner.kmem, false);
    break;
  }
  return fp.value();
}

/** The spec's part of a socket's projection: the descriptors naming it,
 * its state, flag and kept SYN, and how often it was read. */
function specSocket(fp: Fingerprint, session: Session, id: number | undefined, fds: number): Fingerprint {
  const w = session.spec;
  namingIt(fp, w.fds, id, fds);
  if (id !== undefined) {
    const x = w.sockets[id];
    fp.bool(x.alive).num(SOCK_STATES.indexOf(x.sockState)).num(TCP_STATES.indexOf(x.tcpState)).num(x.flag);
    hashKept(fp, x.kept);
    fp.num(session.readsBySocket().get(id) ?? 0);
  }
  return fp.num(NONE);
}

function namingIt<T>(fp: Fingerprint, table: readonly (T | undefined)[], x: T | undefined, inBounds: number): void {
  let past = 0;
  for (let f = 0; f < table.length; f++) {
    if (x === undefined || table[f] !== x) continue;
    if (f < inBounds) fp.num(f);
    else past++;
  }
  fp.num(NONE).num(past);
}

function lastTaken(ledger: Ledger, h: number): string {
  const history = ledger.history(h);
  for (let i = history.length - 1; i >= 0; i--) if (history[i].kind === 'get' || history[i].kind === 'alloc') return history[i].site;
  return '';
}

