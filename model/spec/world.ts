// The world as the spec sees it: sockets, descriptors, connections and the
// handshake, each op one atomic step. It knows nothing about refcounts; a
// kept SYN simply belongs to a request or to a socket. What is kept, and who
// may read it, is the profile's promise (see ./rfc-v1.ts and ./linux.ts).

import type { Op, Outcome } from '../ops.ts';
import { fail, ok } from '../ops.ts';
import { connectsOver, DOMAINS, domainOf, groupKey, lookupScore, overlaps, type Domain } from '../families.ts';
import { buildSyn, DEFAULT_PACKET, type BuiltPacket } from '../packet.ts';
import type { Profile } from '../profile.ts';
import type { FdView } from '../impl/types.ts';

/** A SYN kept for a reader: whose it is, and the bytes the reader will get. */
export interface Kept {
  conn: number;
  bytes: Uint8Array;
}

/** struct socket's state, which decides what connect() and listen() allow. */
export type SockState = 'unconnected' | 'connecting' | 'connected';
/** FIN_WAIT1: shutdown(SHUT_WR) sent a FIN; the model's peers never answer
 * one, so a socket goes no further than that. */
export type TcpState = 'CLOSE' | 'LISTEN' | 'SYN_SENT' | 'SYN_RECV' | 'ESTABLISHED' | 'FIN_WAIT1';

export interface SpecSocket {
  id: number;
  alive: boolean;
  sockState: SockState;
  tcpState: TcpState;
  /** On the service port: the first socket (bound by the user), and every
   * child until it is disconnected. */
  onServicePort: boolean;
  /** Has a local port: bound by the user, picked by listen() or connect(),
   * or inherited by a child. bind() refuses a socket that has one. */
  bound: boolean;
  /** Bound by the user (SOCK_BINDPORT_LOCK): the port outlives a disconnect. */
  userBound: boolean;
  /** Which IP versions its wildcard bind receives; a child has its listener's. */
  domain: Domain;
  /** SO_REUSEPORT. */
  reuseport: boolean;
  /** When it last started listening, as a count of listen() calls that
   * started a listener: IPv6 listeners of two groups are found in that
   * order (the listening hash adds an AF_INET6 socket with SO_REUSEPORT at
   * its tail), and the first one found decides the group. */
  listenedAt: number;
  /** Stopped listening with tcp_migrate_req on: the group (by generation)
   * whose closed section keeps it, else -1. */
  closedGen: number;
  flag: number;
  kept: Kept | null;
  /** The connection a child belongs to. */
  conn: number | undefined;
  // Listener state.
  backlog: number;
  /** Fast Open: the queue exists (made by the first listen() with the sysctl
   * on) and how many handshakes it may hold at once. */
  fastOpenQueue: boolean;
  fastOpenMax: number;
  /** The Fast Open queue's count as the kernel keeps it: requests of Fast
   * Open children not yet given back, and reset ones kept. Today a listen()
   * empties it while children of the last listen still hold requests, and
   * a migrated child's request is given back to a queue that never counted
   * it, so it can go below 0 (both measured). */
  fastOpenCount: number;
  acceptQueue: number[];
  /** tcp_synq_overflow()'s stamp: this listener sent a syncookie since it
   * was made or last disconnected. A cookie ACK is taken only by a listener
   * that has one (tcp_synq_no_recent_overflow()), whichever socket sent
   * the cookie; tcp_disconnect() clears it (measured). */
  cookieStamp: boolean;
  /** Data the peer sent that nothing read: a Fast Open SYN's payload. */
  unread: boolean;
  /** Closed by its last descriptor with nothing unread (tcp_close()): it
   * sent its FIN and lives on, in FIN_WAIT1 and in the established hash,
   * with what it kept, until the peer resets it or its timer gives up. */
  orphan: boolean;
}

/** True only while every field of SpecSocket is required, so that an
 * object literal of the type (clone() writes one) must name them all. */
type NoOptionalFields<T> = { [K in keyof T]-?: object extends Pick<T, K> ? K : never }[keyof T] extends never ? true : false;
const SOCKET_FIELDS_ARE_REQUIRED: NoOptionalFields<SpecSocket> = true;
void SOCKET_FIELDS_ARE_REQUIRED;

export type ConnState = 'request' | 'cookie' | 'child' | 'gone';

export interface SpecConn {
  id: number;
  state: ConnState;
  packet: BuiltPacket;
  listener: number;
  /** The listener's flag when the SYN arrived. */
  flagAtSyn: number;
  /** A kept SYN still owned by the request. */
  kept: Kept | null;
  child: number | undefined;
  /** A Fast Open child whose request still waits for the final ACK. */
  fastOpenPending: boolean;
  /** A cookie's SYN steering: its ACK is steered the same way. */
  to?: number;
  /** Built by the first half of a split ACK, not yet queued. */
  unqueuedChild?: number;
  /** The split op (by history id) whose first half built that child: only
   * it queues the child; another CPU's ACK finds the child in the
   * established hash and leaves the queue alone. */
  unqueuedBy?: number;
}

/** What a profile promises about the feature itself. */
export interface Promise {
  /** setsockopt(optname, value) on `sock`. */
  setsockopt(sock: SpecSocket, optname: number, value: number): Outcome;
  /** getsockopt(optname, *optlen = bufSize) on `sock`; may consume sock.kept. */
  getsockopt(sock: SpecSocket, optname: number, bufSize: number): Outcome;
  /** What a listener with this flag keeps of a SYN that gets a request (not a cookie). */
  keep(flag: number, packet: BuiltPacket): Kept | null;
  /** The flag a new child carries. */
  childFlag(conn: SpecConn, listenerFlagNow: number): number;
  /** Whether connect(AF_UNSPEC) drops what the socket kept. */
  disconnectDrops: boolean;
}


const ascending = (a: number, b: number): number => a - b;

export const MAX_FDS = 64;
export const SERVICE_FD = 0;

export class SpecWorld {
  readonly sockets: SpecSocket[] = [];
  readonly fds: (number | undefined)[] = [];
  readonly conns = new Map<number, SpecConn>();
  /** Connections whose peer has since started another from the same port,
   * kept while their Fast Open child, disconnected but open, still holds
   * its request: it counts against the listener's Fast Open queue until the
   * child is destroyed, and no packet can reach it. */
  readonly retired: SpecConn[] = [];
  /** Requests of Fast Open children reset after accept(): the listener
   * keeps each 60 s against TFO spoofing, counted in its Fast Open queue,
   * until the listener stops listening or time passes (expireAll). */
  parked: { conn: number; listener: number }[] = [];
  /** Descriptors closed while other calls on them were in flight: those
   * calls hold a file reference, so the socket lives until the last of them
   * (listed by id) has run. Only concurrent histories make these. */
  readonly inFlight = new Map<number, { socket: number; waiting: number[] }>();
  syncookies = 1;
  fastOpen = 0;
  migrateReq = 0;
  /** The port's SO_REUSEPORT groups, one per family and IPV6_V6ONLY
   * setting: a listener joins only a group whose sockets match it in both
   * (inet_reuseport_add_sock(), measured). Each by socket id in the
   * kernel's order: a listener joins at the end, and the last one takes
   * the place of one that leaves (reuseport_add_sock(),
   * __reuseport_detach_sock()). */
  groups: Record<Domain, number[]> = { inet6: [], inet: [], inet6only: [] };
  /** Which group each is: a new generation each time a listener finds its
   * group empty, counted over all three so a generation names one group. */
  groupGens: Record<Domain, number> = { inet6: 0, inet: 0, inet6only: 0 };
  groupsMade = 0;
  /** Per group, the generation whose overflow stamp a cookie set, or -1. */
  groupStamps: Record<Domain, number> = { inet6: -1, inet: -1, inet6only: -1 };
  /** listen() calls that started a listener (SpecSocket.listenedAt). */
  listens = 0;
  /** The history id of the split op whose first half is running. */
  private unqueued: number | undefined;

  constructor(readonly profile: Profile, private readonly promise: Promise, empty = false) {
    if (empty) return;
    // The first descriptor is the service socket, bound and not yet listening.
    const s = this.newSocket(true);
    s.userBound = true;
    this.fds[SERVICE_FD] = s.id;
  }

  /** An independent copy, for exploring alternative orders of ops. Kept
   * SYNs and packets are immutable and shared. */
  clone(): SpecWorld {
    const w = new SpecWorld(this.profile, this.promise, true);
    // Field by field: a spread here met sockets of many hidden classes and
    // took most of a clone's time, and clones are made per schedule. A
    // field left out is a type error, since none is optional (below).
    for (const s of this.sockets) {
      w.sockets.push({
        id: s.id, alive: s.alive, sockState: s.sockState, tcpState: s.tcpState, onServicePort: s.onServicePort, bound: s.bound, userBound: s.userBound,
        domain: s.domain, reuseport: s.reuseport, listenedAt: s.listenedAt, closedGen: s.closedGen, flag: s.flag, kept: s.kept, conn: s.conn, backlog: s.backlog,
        fastOpenQueue: s.fastOpenQueue, fastOpenMax: s.fastOpenMax, fastOpenCount: s.fastOpenCount, acceptQueue: s.acceptQueue.slice(), cookieStamp: s.cookieStamp,
        unread: s.unread, orphan: s.orphan,
      });
    }
    w.fds.push(...this.fds);
    for (const [k, c] of this.conns) w.conns.set(k, { ...c });
    for (const c of this.retired) w.retired.push({ ...c });
    w.parked = this.parked.map((p) => ({ ...p }));
    for (const [fd, z] of this.inFlight) w.inFlight.set(fd, { socket: z.socket, waiting: [...z.waiting] });
    w.syncookies = this.syncookies;
    w.fastOpen = this.fastOpen;
    w.migrateReq = this.migrateReq;
    w.groups = { inet6: this.groups.inet6.slice(), inet: this.groups.inet.slice(), inet6only: this.groups.inet6only.slice() };
    const gens = this.groupGens;
    const stamps = this.groupStamps;
    w.groupGens = { inet6: gens.inet6, inet: gens.inet, inet6only: gens.inet6only };
    w.groupsMade = this.groupsMade;
    w.groupStamps = { inet6: stamps.inet6, inet: stamps.inet, inet6only: stamps.inet6only };
    w.listens = this.listens;
    for (const [id, s] of this.closing) w.closing.set(id, s);
    return w;
  }

  /** Equal keys mean equal worlds: what memoisation needs. */
  key(): string {
    const socks = this.sockets.map((s) => [
      s.alive ? 1 : 0, s.sockState, s.tcpState, s.onServicePort ? 1 : 0, s.bound ? 1 : 0, s.userBound ? 1 : 0, s.domain, s.reuseport ? 1 : 0, s.listenedAt, s.closedGen, s.flag, s.kept ? `${s.kept.conn}:${s.kept.bytes.length}` : '',
      s.conn ?? '', s.backlog, s.fastOpenQueue ? s.fastOpenMax : -1, s.fastOpenCount, s.acceptQueue.join('.'), s.cookieStamp ? 1 : 0,
    ].join(','));
    const conns = [...this.conns.values()].sort((a, b) => a.id - b.id).map((c) => [
      c.id, c.state, c.listener, c.flagAtSyn, c.kept ? c.kept.bytes.length : '', c.child ?? '', c.fastOpenPending ? 1 : 0, c.packet.bytes.length,
      c.unqueuedChild ?? '', c.unqueuedBy ?? '', c.to ?? '',
    ].join(','));
    const inFlight = [...this.inFlight].map(([fd, z]) => `${fd}:${z.socket}:${z.waiting.join('.')}`).join(';');
    const retired = this.retired.map((c) => `${c.listener}:${c.child}`).join(';') + `/${this.parked.map((p) => `${p.conn}:${p.listener}`).join(';')}`;
    return `${socks.join(';')}|${this.fds.map((f) => f ?? '').join(',')}|${conns.join(';')}|${this.syncookies},${this.fastOpen},${this.migrateReq}|${inFlight}|${retired}|${DOMAINS.map((d) => `${this.groupGens[d]}:${this.groups[d].join('.')}:${this.groupStamps[d]}`).join('/')}|${[...this.closing].join(';')}`;
  }

  /** One op, atomically. `observed` is what an implementation returned for
   * it in a concurrent run: there the descriptor a new socket gets depends on
   * when the call reserved it, so any free one the implementation chose is
   * taken instead of the lowest. */
  apply(op: Op, observed?: Outcome): Outcome {
    const fdHint = observed !== undefined && observed.ret >= 0 ? observed.ret : undefined;
    switch (op.kind) {
      case 'socket': return this.socket(domainOf(op), fdHint);
      case 'close': return this.close(op.fd);
      case 'syn': this.syn(op.conn, buildSyn(op.conn, op.packet), false, op.to); return ok();
      case 'fastOpenSyn': this.syn(op.conn, buildSyn(op.conn, op.packet), true, op.to); return ok();
      case 'flood':
        for (let i = 0; i < op.count; i++) this.syn(op.first + i, buildSyn(op.first + i, DEFAULT_PACKET), false);
        return ok();
      case 'ack': case 'ackRetransmit': case 'cookieAck': this.ack(op.conn); return ok();
      case 'rst': this.rst(op.conn); return ok();
      case 'synackTimeout': this.timeout(op.conn); return ok();
      case 'synackRetransmit': this.retransmit(op.conn); return ok();
      case 'sysctl':
        if (op.name === 'tcp_syncookies') this.syncookies = op.value;
        else if (op.name === 'tcp_fastopen') this.fastOpen = op.value;
        else this.migrateReq = op.value;
        return ok();
      case 'expireAll':
        for (const c of [...this.conns.values()]) this.timeout(c.id);
        // Their 60 s over, the next Fast Open SYN to find the queue full
        // would take the parked requests off it.
        for (const p of this.parked) this.sockets[p.listener].fastOpenCount--;
        this.parked = [];
        return ok();
    }
    // The rest act on the socket behind a descriptor: looked up once here,
    // not through a closure per call (the spec runs every step).
    const s = this.socketOf(op.fd);
    if (s === undefined) return fail('EBADF');
    switch (op.kind) {
      case 'listen': return this.listen(s, op.backlog);
      case 'accept': return this.accept(s, fdHint);
      case 'setsockopt': return this.promise.setsockopt(s, op.optname, op.value);
      case 'getsockopt': return this.promise.getsockopt(s, op.optname, op.bufSize);
      case 'disconnect': return this.disconnect(s);
      case 'connect': return this.connect(s);
      case 'dup': return this.dup(s, fdHint);
      case 'shutdown': return this.shutdown(s, op.how);
      case 'bind': return this.bind(s);
      case 'reuseport': s.reuseport = true; return ok();
    }
  }

  /** The descriptors that are open, in order. */
  openFds(): number[] {
    const out: number[] = [];
    for (let fd = 0; fd < this.fds.length; fd++) if (this.fds[fd] !== undefined) out.push(fd);
    return out;
  }

  socketOf(fd: number): SpecSocket | undefined {
    const id = this.fds[fd];
    return id === undefined ? undefined : this.sockets[id];
  }

  view(): FdView[] {
    return this.openFds().map((fd) => {
      const s = this.socketOf(fd)!;
      return { fd, flag: s.flag, kept: s.kept?.conn ?? null };
    });
  }

  /** The peers a request or a live socket still stands for, once for each:
   * what may hold a SYN's memory, which a flood with cookies off bounds by
   * the SYN queue. `out`, when given, is emptied and filled instead of a
   * new array (the memory oracle asks after every step). */
  liveConnections(out: number[] = []): number[] {
    out.length = 0;
    for (const c of this.conns.values()) if (c.state === 'request') out.push(c.id);
    for (const s of this.sockets) if (s.alive && s.conn !== undefined) out.push(s.conn);
    for (const p of this.parked) out.push(p.conn);
    return out.sort(ascending);
  }

  /** Every SYN still kept anywhere: requests and sockets, open or not.
   * `out` as for liveConnections(). */
  keptAnywhere(out: number[] = []): number[] {
    out.length = 0;
    for (const c of this.conns.values()) if (c.kept) out.push(c.id);
    for (const s of this.sockets) if (s.alive && s.kept) out.push(s.kept.conn);
    return out.sort(ascending);
  }

  /** keptAnywhere() and liveConnections() in one pass, into `kept` and
   * `live` (emptied first), unsorted: the memory oracle only counts and
   * sums them, after every step. */
  heldByPromise(kept: number[], live: number[]): void {
    // Written by index and cut to length at the end: emptying an array
    // first would drop its storage, and the next push allocate it again.
    let k = 0;
    let l = 0;
    for (const c of this.conns.values()) {
      if (c.kept) kept[k++] = c.id;
      if (c.state === 'request') live[l++] = c.id;
    }
    for (let i = 0; i < this.sockets.length; i++) {
      const s = this.sockets[i];
      if (!s.alive) continue;
      if (s.kept) kept[k++] = s.kept.conn;
      if (s.conn !== undefined) live[l++] = s.conn;
    }
    for (let i = 0; i < this.parked.length; i++) live[l++] = this.parked[i].conn;
    // Setting a length is a runtime call: only when it changes.
    if (kept.length !== k) kept.length = k;
    if (live.length !== l) live.length = l;
  }

  // --- system calls ------------------------------------------------------

  private socket(domain: Domain, fdHint?: number): Outcome {
    const fd = this.freeFd(fdHint);
    if (fd < 0) return fail('EMFILE');
    this.fds[fd] = this.newSocket(false, domain).id;
    return ok(fd);
  }

  private listen(s: SpecSocket, backlog: number): Outcome {
    if (s.sockState !== 'unconnected') return fail('EINVAL');
    if (s.tcpState === 'LISTEN') {
      s.backlog = clampBacklog(backlog, this.profile);
      return ok();
    }
    if (s.tcpState !== 'CLOSE') return fail('EINVAL');
    s.tcpState = 'LISTEN';
    s.backlog = clampBacklog(backlog, this.profile);
    // The Fast Open queue is sized before the port is checked, so a listen()
    // refused with EADDRINUSE has sized it all the same.
    if (this.fastOpen !== 0) {
      // The queue is sized by the listen() that makes it. Today a queue left
      // at size 0 is sized again by a later listen(); 4.1 never resizes it.
      if (!s.fastOpenQueue) {
        s.fastOpenQueue = true;
        s.fastOpenMax = s.backlog;
      } else if (this.profile.era === 'today' && s.fastOpenMax === 0) {
        s.fastOpenMax = s.backlog;
      }
    }
    // inet_csk_listen_start() -> reqsk_queue_alloc(): today's count starts
    // again from 0 (measured), before the port is checked.
    if (this.profile.era === 'today') s.fastOpenCount = 0;
    // inet_csk_listen_start(): another socket listening on the port, as
    // measured, even when both were bound with SO_REUSEADDR; unless both
    // set SO_REUSEPORT.
    if (s.onServicePort && this.portConflict(s)) {
      s.tcpState = 'CLOSE';
      return fail('EADDRINUSE');
    }
    s.bound = true;
    s.listenedAt = ++this.listens;
    if (s.onServicePort && s.reuseport) this.joinGroup(s);
    return ok();
  }

  /** bind(fd, the service port) with SO_REUSEADDR, measured
   * (reference/measured-paths.md): EINVAL for a socket that has a port,
   * EADDRINUSE while another socket listens on the port for an IP version
   * this one would receive too; sockets bound but not listening, and
   * children, are no conflict. */
  private bind(s: SpecSocket): Outcome {
    if (s.bound || s.tcpState !== 'CLOSE') return fail('EINVAL');
    if (this.portConflict(s)) return fail('EADDRINUSE');
    s.bound = true;
    s.userBound = true;
    s.onServicePort = true;
    return ok();
  }

  /** tcp_set_state(TCP_CLOSE): a port the user did not bind goes back. */
  private putPort(s: SpecSocket): void {
    if (s.userBound) return;
    s.bound = false;
    s.onServicePort = false;
  }

  private accept(s: SpecSocket, fdHint?: number): Outcome {
    // accept4() takes a descriptor before it asks the socket for a child:
    // a full table is EMFILE whether it listens or has nothing queued
    // (measured).
    const fd = this.freeFd(fdHint);
    if (fd < 0) return fail('EMFILE');
    if (s.tcpState !== 'LISTEN') return fail('EINVAL');
    const childId = s.acceptQueue[0];
    if (childId === undefined) return fail('EAGAIN');
    s.acceptQueue.shift();
    this.fds[fd] = childId;
    return ok(fd);
  }

  private close(fd: number): Outcome {
    const s = this.socketOf(fd);
    if (!s) return fail('EBADF');
    this.fds[fd] = undefined;
    this.destroyIfUnnamed(s);
    return ok();
  }

  /** The socket lives while a descriptor (a dup) or a call in flight still
   * holds its file. */
  private destroyIfUnnamed(s: SpecSocket): void {
    if (this.fds.includes(s.id)) return;
    for (const z of this.inFlight.values()) if (z.socket === s.id && z.waiting.length > 0) return;
    this.tcpClose(s);
  }

  /** tcp_close() of the last reference: a connection with nothing unread
   * sends its FIN and is orphaned (measured: the peer's next SYN on the
   * tuple meets it and gets a challenge ACK, and a Fast Open child keeps
   * its request counted); with data unread it is reset; anything else
   * (a listener, a socket not connected) is destroyed. */
  private tcpClose(s: SpecSocket): void {
    const c = s.conn === undefined ? undefined : this.conns.get(s.conn);
    if (c !== undefined && c.child === s.id && this.connAlive(c) && !s.unread) {
      s.tcpState = 'FIN_WAIT1';
      s.orphan = true;
      return;
    }
    this.destroy(s);
  }

  /** dup(): the new descriptor names the same socket. */
  private dup(s: SpecSocket, fdHint?: number): Outcome {
    const fd = this.freeFd(fdHint);
    if (fd < 0) return fail('EMFILE');
    this.fds[fd] = s.id;
    return ok(fd);
  }

  /** inet_shutdown(), measured (reference/measured-paths.md): a disconnect
   * on a connecting client, and on a listener when reading is shut; on a
   * connected socket a FIN for SHUT_WR and nothing else, so the kept SYN
   * stays; ENOTCONN in CLOSE. What sk_shutdown records is not modelled:
   * no op here sends or receives data. */
  private shutdown(s: SpecSocket, how: number): Outcome {
    if (how < 0 || how > 2) return fail('EINVAL');
    const rd = how !== 1;
    const wr = how !== 0;
    switch (s.tcpState) {
      case 'CLOSE': return fail('ENOTCONN');
      case 'LISTEN': return rd ? this.disconnect(s) : ok();
      case 'SYN_SENT': return this.disconnect(s);
      case 'ESTABLISHED': case 'SYN_RECV':
        if (wr) s.tcpState = 'FIN_WAIT1';
        return ok();
      case 'FIN_WAIT1': return ok();
    }
  }

  /** close(fd) while the calls `waiting` (by id) still hold the file: the
   * descriptor goes now, the socket when the last of them has run. */
  closeInFlight(fd: number, waiting: number[]): Outcome {
    const s = this.socketOf(fd);
    if (!s) return fail('EBADF');
    this.fds[fd] = undefined;
    this.inFlight.set(fd, { socket: s.id, waiting: [...waiting] });
    return ok();
  }

  /** Call `id` ran without the file reference it might have held: the
   * socket no longer waits for it. */
  releaseInFlight(id: number): void {
    for (const [fd, z] of this.inFlight) {
      if (!z.waiting.includes(id)) continue;
      z.waiting = z.waiting.filter((w) => w !== id);
      if (z.waiting.length === 0) {
        this.inFlight.delete(fd);
        this.destroyIfUnnamed(this.sockets[z.socket]);
      }
    }
  }

  /** Run `op` (call `id`) on the socket its descriptor named when the call
   * took its file reference, though the descriptor has since been closed. */
  /** Whether applyInFlight would run `op` (call `id`) at all: its
   * descriptor was closed while it was in flight. */
  runsInFlight(op: Op, id: number): boolean {
    if (!('fd' in op)) return false;
    const z = this.inFlight.get(op.fd);
    return z !== undefined && z.waiting.includes(id);
  }

  applyInFlight(op: Op, id: number, observed?: Outcome): Outcome | undefined {
    if (!('fd' in op) || !this.runsInFlight(op, id)) return undefined;
    const z = this.inFlight.get(op.fd)!;
    const saved = this.fds[op.fd];
    this.fds[op.fd] = z.socket;
    let out: Outcome;
    try {
      out = op.kind === 'close' ? ok() : this.apply(op, observed);
    } finally {
      if (this.fds[op.fd] === z.socket) this.fds[op.fd] = saved;
    }
    z.waiting = z.waiting.filter((w) => w !== id);
    if (z.waiting.length === 0) {
      this.inFlight.delete(op.fd);
      this.destroyIfUnnamed(this.sockets[z.socket]);
    }
    return out;
  }

  private disconnect(s: SpecSocket): Outcome {
    if (s.tcpState === 'LISTEN') this.stopListening(s);
    s.cookieStamp = false;
    // A Fast Open child still waiting for its final ACK: today's kernel
    // gives its request back to the listener's Fast Open queue (measured on
    // the live kernel); 4.1 keeps it until the child is destroyed, as 4.4's
    // inet_child_forget(), clearing fastopen_rsk after disconnect, shows.
    const c = s.conn === undefined ? undefined : this.conns.get(s.conn);
    if (this.profile.era === 'today' && c?.child === s.id && c.fastOpenPending && this.connAlive(c)) this.giveBack(c);
    s.tcpState = 'CLOSE';
    s.sockState = 'unconnected';
    // A child's port was never bound by the user: closing releases it, and a
    // later listen() picks an ephemeral port no SYN here is sent to.
    this.putPort(s);
    if (this.promise.disconnectDrops) s.kept = null;
    return ok();
  }

  private connect(s: SpecSocket): Outcome {
    if (s.sockState === 'connected') return fail('EISCONN');
    if (s.sockState === 'connecting') return fail('EALREADY');
    if (s.tcpState !== 'CLOSE') return fail('EISCONN');
    // The service port and the one peer make one 4-tuple per IP version.
    if (s.onServicePort && this.sockets.some((o) => o !== s && o.alive && o.onServicePort && o.tcpState === 'SYN_SENT' && connectsOver(o.domain) === connectsOver(s.domain))) {
      return fail('EADDRNOTAVAIL');
    }
    s.sockState = 'connecting';
    s.tcpState = 'SYN_SENT';
    return fail('EINPROGRESS');
  }

  // --- network events ------------------------------------------------------

  private syn(conn: number, packet: BuiltPacket, fastOpenData: boolean, to = 0): void {
    // A SYN for a pending request or a live connection is a retransmission;
    // otherwise it starts afresh (a syncookie leaves no state behind).
    const known = this.conns.get(conn);
    // A request whose listener stopped listening is dropped by the lookup
    // that finds it; the SYN then looks for a listener afresh.
    // Where migration could move it, the request takes the SYN for a
    // retransmission and stays.
    if (known?.state === 'request' && this.sockets[known.listener].tcpState !== 'LISTEN') {
      if (this.migrateTarget(this.sockets[known.listener], conn) !== undefined) return;
      this.forget(known);
    }
    else if (known !== undefined && (known.state === 'request' || this.connAlive(known))) return;
    else if (known?.fastOpenPending && known.child !== undefined && this.sockets[known.child].alive) {
      this.retired.push(known);
      this.conns.delete(conn);
    }
    const l = this.steer(packet.family, to);
    if (l === undefined) return;
    const requests = this.requestsOf(l.id);
    let wantCookie = false;
    if (this.syncookies === 2 || this.profile.synQueueFull(requests, l.backlog)) {
      if (this.syncookies === 0) return;
      wantCookie = true;
    }
    if (this.profile.acceptQueueFull(l.acceptQueue.length, l.backlog)) return;
    const c: SpecConn = {
      id: conn, state: wantCookie ? 'cookie' : 'request', packet, listener: l.id,
      flagAtSyn: l.flag, kept: null, child: undefined, fastOpenPending: false,
    };
    this.conns.set(conn, c);
    if (wantCookie) {
      c.to = to;
      // tcp_synq_overflow(): a group's stamp today (reuse->synq_overflow_ts),
      // else the listener's own.
      if (this.profile.era === 'today' && this.groups[this.groupOf(l)].includes(l.id)) this.groupStamps[this.groupOf(l)] = this.groupGens[this.groupOf(l)];
      else l.cookieStamp = true;
      return;
    }
    c.kept = this.promise.keep(l.flag, packet);
    if (fastOpenData && this.fastOpen !== 0 && l.fastOpenQueue && l.fastOpenCount < l.fastOpenMax) {
      c.fastOpenPending = true;
      l.fastOpenCount++;
      this.makeChild(c, l);
    }
  }

  private ack(conn: number): void {
    const c = this.conns.get(conn);
    if (!c) return;
    const l = this.sockets[c.listener];
    if (c.state === 'child') {
      // The final ACK of a Fast Open handshake frees its request; it only
      // reaches a child still waiting for it (not one reset or disconnected).
      const child = c.child === undefined ? undefined : this.sockets[c.child];
      // A child shut for writing meanwhile is in FIN_WAIT1 and stays there
      // (tcp_rcv_synrecv_state_fastopen()).
      if (c.fastOpenPending && child?.alive && (child.tcpState === 'SYN_RECV' || child.tcpState === 'FIN_WAIT1')) {
        if (child.tcpState === 'SYN_RECV') child.tcpState = 'ESTABLISHED';
        this.giveBack(c);
      }
      return;
    }
    if (c.state === 'gone') return;
    if (c.state === 'cookie') {
      this.cookieAck(c);
      return;
    }
    // A request whose listener stopped listening goes to another listener
    // of its group, with migration (reuseport_migrate_sock()): a child of
    // that one, cloned from it, with the SYN the old one kept.
    const to = c.state === 'request' && l.tcpState !== 'LISTEN' ? this.migrateTarget(l, conn) : undefined;
    if (to !== undefined) {
      if (this.profile.acceptQueueFull(to.acceptQueue.length, to.backlog)) return;
      c.listener = to.id;
      this.makeChild(c, to);
      return;
    }
    // Where nothing listens the ACK finds no request and the kernel answers
    // it with a RST: the peer, reset, gives up.
    if (l.tcpState !== 'LISTEN') {
      this.forget(c);
      return;
    }
    if (this.profile.acceptQueueFull(l.acceptQueue.length, l.backlog)) return;
    this.makeChild(c, l);
  }

  /** cookie_v4_check(): the ACK meets whichever socket the lookup finds on
   * the port now (its group's member the ACK is steered to), not the one
   * that sent the cookie; it is taken only with cookies on and by a
   * listener whose overflow stamp is set: its group's, or its own since it
   * was made or last disconnected. Otherwise the listener answers with a RST. */
  private cookieAck(c: SpecConn): void {
    const l = this.steer(c.packet.family, c.to ?? 0);
    const stamped = l !== undefined && (this.profile.era === 'today' && this.groups[this.groupOf(l)].includes(l.id) ? this.groupStamps[this.groupOf(l)] === this.groupGens[this.groupOf(l)] : l.cookieStamp);
    if (l === undefined || this.syncookies === 0 || !stamped) {
      this.forget(c);
      return;
    }
    if (this.profile.acceptQueueFull(l.acceptQueue.length, l.backlog)) return;
    c.listener = l.id;
    this.makeChild(c, l);
  }

  private rst(conn: number): void {
    const c = this.conns.get(conn);
    if (!c) return;
    if (c.state === 'request' || c.state === 'cookie') {
      this.forget(c);
      return;
    }
    // A reset reaches a child only while it is in the established hash.
    if (c.state === 'child' && c.child !== undefined && this.connAlive(c)) {
      // Reset after accept(), a Fast Open child's request is kept on its
      // listener (reqsk_fastopen_remove()).
      const l = this.sockets[c.listener];
      if (c.fastOpenPending && l.tcpState === 'LISTEN' && !l.acceptQueue.includes(c.child) && c.unqueuedChild === undefined) {
        c.fastOpenPending = false;
        this.parked.push({ conn: c.id, listener: l.id });
      } else {
        this.giveBack(c);
      }
      this.reset(this.sockets[c.child]);
      // tcp_done(): an orphan is destroyed with its connection.
      if (this.sockets[c.child].orphan) this.destroy(this.sockets[c.child]);
    }
  }

  /** The SYN-ACK timer fires and resends: a request whose listener
   * stopped listening moves to another of its group with migration, with
   * the SYN the old one kept; without, it is dropped. */
  private retransmit(conn: number): void {
    const c = this.conns.get(conn);
    if (c?.state !== 'request') return;
    const l = this.sockets[c.listener];
    if (l.tcpState === 'LISTEN') return;
    const to = this.migrateTarget(l, conn);
    if (to === undefined) this.forget(c);
    else c.listener = to.id;
  }

  private timeout(conn: number): void {
    const c = this.conns.get(conn);
    if (!c) return;
    if (c.state === 'request') {
      this.forget(c);
    } else if (c.state === 'child' && c.child !== undefined && this.connAlive(c) && (c.fastOpenPending || this.sockets[c.child].orphan)) {
      // A Fast Open child gives up on its SYN-ACK like any connecting socket;
      // disconnecting it stopped that timer. An orphan gives up on its FIN
      // and is destroyed.
      const child = this.sockets[c.child];
      this.giveBack(c);
      this.reset(child);
      if (child.orphan) this.destroy(child);
    }
  }

  // --- helpers ---------------------------------------------------------

  /** Ops that today's lockless listener carries out in two steps another
   * CPU or thread can come between: the ACK builds the child (cloning the
   * listener, so taking its flag then) and later queues it for accept(). */
  splits(op: Op): boolean {
    return this.profile.era === 'today' && (op.kind === 'ack' || op.kind === 'ackRetransmit' || op.kind === 'cookieAck' || this.closeMigrates(op));
  }

  /** A close of the last descriptor of a listener whose children migration
   * may move: the descriptor goes at once, the socket (and the migration)
   * when the final fput() runs, which another thread can come between and
   * see the descriptor gone while the children are still the old
   * listener's. */
  private closeMigrates(op: Op): boolean {
    if (op.kind !== 'close' || this.migrateReq === 0) return false;
    const s = this.socketOf(op.fd);
    return s !== undefined && s.tcpState === 'LISTEN' && this.groups[this.groupOf(s)].includes(s.id) && this.fds.filter((id) => id === s.id).length === 1;
  }

  /** Closes whose first half ran: the socket, by history id. */
  private readonly closing = new Map<number, number>();

  /** The first step of split op `id` (a history id): everything but
   * queueing the child. */
  applyFirstHalf(op: Op, id: number): void {
    if (op.kind === 'close') {
      this.closing.set(id, this.fds[op.fd]!);
      this.fds[op.fd] = undefined;
      return;
    }
    if (op.kind !== 'ack' && op.kind !== 'ackRetransmit' && op.kind !== 'cookieAck') throw new Error(`${op.kind} does not split`);
    this.unqueued = id;
    try {
      this.ack(op.conn);
    } finally {
      this.unqueued = undefined;
    }
  }

  /** The second step: queue the child the first half of the same op built,
   * if its listener still listens; otherwise the child is dropped. */
  /** The second half of a split close while calls that started on its
   * descriptor still hold the file: the socket, and what its destruction
   * moves, waits for the last of them (`waiting`, by id). */
  closeSecondHalfInFlight(id: number, fd: number, waiting: number[]): Outcome {
    const s = this.closing.get(id);
    this.closing.delete(id);
    if (s === undefined) return fail('EBADF');
    this.inFlight.set(fd, { socket: s, waiting: [...waiting] });
    return ok();
  }

  applySecondHalf(op: Op, id: number): Outcome {
    if (op.kind === 'close') {
      const s = this.closing.get(id);
      this.closing.delete(id);
      if (s === undefined) return fail('EBADF');
      this.destroyIfUnnamed(this.sockets[s]);
      return ok();
    }
    if (!('conn' in op)) throw new Error(`${op.kind} does not split`);
    const c = this.conns.get(op.conn);
    if (c?.unqueuedChild !== undefined && c.unqueuedBy === id) {
      const child = this.sockets[c.unqueuedChild];
      const l = this.sockets[c.listener];
      c.unqueuedChild = undefined;
      c.unqueuedBy = undefined;
      if (l.tcpState === 'LISTEN' && child.alive) l.acceptQueue.push(child.id);
      else if (child.alive) this.destroy(child);
    }
    return ok();
  }

  private makeChild(c: SpecConn, l: SpecSocket): void {
    const child = this.newSocket(true, l.domain);
    child.sockState = 'connected';
    child.tcpState = c.fastOpenPending ? 'SYN_RECV' : 'ESTABLISHED';
    child.conn = c.id;
    // A clone of the listener: SO_REUSEPORT too.
    child.reuseport = l.reuseport;
    child.flag = this.promise.childFlag(c, l.flag);
    child.kept = c.kept;
    // A Fast Open SYN's data is queued on the child it makes.
    child.unread = c.fastOpenPending && c.packet.payloadLen > 0;
    c.kept = null;
    c.state = 'child';
    c.child = child.id;
    if (this.unqueued !== undefined) {
      c.unqueuedChild = child.id;
      c.unqueuedBy = this.unqueued;
    } else {
      l.acceptQueue.push(child.id);
    }
  }

  private connAlive(c: SpecConn): boolean {
    if (c.state !== 'child' || c.child === undefined) return false;
    const s = this.sockets[c.child];
    // Only a connected child is in the established hash; one that was reset
    // or disconnected (and perhaps listens now) is not this peer's any more.
    return s.alive && (s.tcpState === 'ESTABLISHED' || s.tcpState === 'SYN_RECV' || s.tcpState === 'FIN_WAIT1');
  }

  private reset(s: SpecSocket): void {
    s.tcpState = 'CLOSE';
    this.putPort(s);
  }

  private forget(c: SpecConn): void {
    c.kept = null;
    this.conns.delete(c.id);
  }

  private destroy(s: SpecSocket): void {
    if (s.tcpState === 'LISTEN') this.stopListening(s);
    s.kept = null;
    s.tcpState = 'CLOSE';
    if (s.conn !== undefined) {
      const c = this.conns.get(s.conn);
      // The peer may have started a new connection since; that one lives on.
      if (c?.child === s.id) { c.state = 'gone'; this.giveBack(c); }
      const r = this.retired.findIndex((x) => x.child === s.id);
      if (r >= 0) this.giveBack(this.retired.splice(r, 1)[0]);
    }
    s.alive = false;
  }

  private stopListening(l: SpecSocket): void {
    l.tcpState = 'CLOSE';
    this.leaveGroup(l);
    for (const c of [...this.conns.values()]) {
      if (c.listener !== l.id) continue;
      // 4.1 frees the SYN table with the listener. Today requests stay in the
      // established hash, dormant: dropped by the next packet or timer that
      // finds their listener not listening, alive again if it listens again.
      if (c.state === 'request' && this.profile.era === '4.1') this.forget(c);
    }
    this.parked = this.parked.filter((p) => p.listener !== l.id);
    // With migration, a queued child moves to another listener of the
    // group as it is: its flag and its SYN are the old listener's; a Fast
    // Open child still waiting for its final ACK too (measured).
    const queue = l.acceptQueue;
    l.acceptQueue = [];
    for (const childId of queue) {
      const child = this.sockets[childId];
      const c = child.conn === undefined ? undefined : this.conns.get(child.conn);
      const to = child.conn === undefined ? undefined : this.migrateTarget(l, child.conn);
      if (to !== undefined) {
        // The socket moves whatever became of its peer: one reset, whose
        // peer has since started afresh, moves all the same.
        if (c?.child === childId) c.listener = to.id;
        const r = this.retired.find((x) => x.child === childId);
        if (r !== undefined) r.listener = to.id;
        to.acceptQueue.push(childId);
      } else {
        this.destroy(child);
      }
    }
  }

  /** reuseport_migrate_sock() by hash (the model's hash: the connection's
   * number): the group member a request or child of `l` moves to, when
   * tcp_migrate_req is on now and was when `l` left the group. Linux
   * today only: 4.1 has no migration. */
  private migrateTarget(l: SpecSocket, conn: number): SpecSocket | undefined {
    if (this.profile.era !== 'today' || this.migrateReq === 0) return undefined;
    const group = this.groups[this.groupOf(l)];
    if (group.length === 0 || l.closedGen !== this.groupGens[this.groupOf(l)]) return undefined;
    return this.sockets[group[conn % group.length]];
  }

  /** inet_bind_conflict(): a socket listening on the port that receives an
   * IP version this one would conflicts, unless both set SO_REUSEPORT (one
   * user here). */
  private portConflict(s: SpecSocket): boolean {
    return this.sockets.some((o) => o !== s && o.alive && o.onServicePort && o.tcpState === 'LISTEN' && overlaps(o.domain, s.domain) && !(s.reuseport && o.reuseport));
  }

  /** inet_reuseport_add_sock(): the group of a listener with SO_REUSEPORT
   * on the port, made for it first if it has none (it set the option after
   * it listened), or a group of its own. */
  private joinGroup(s: SpecSocket): void {
    s.closedGen = -1;
    const group = this.groups[this.groupOf(s)];
    if (group.length === 0) {
      this.groupGens[this.groupOf(s)] = ++this.groupsMade;
      const first = this.sockets.find((o) => o !== s && o.alive && o.onServicePort && o.tcpState === 'LISTEN' && o.reuseport && this.groupOf(o) === this.groupOf(s));
      if (first) group.push(first.id);
    }
    group.push(s.id);
  }

  /** Which of the port's groups `s` is in (families.ts groupKey). */
  groupOf(s: SpecSocket): Domain {
    return groupKey(this.profile.era, s.domain);
  }

  private leaveGroup(s: SpecSocket): void {
    const group = this.groups[this.groupOf(s)];
    const i = group.indexOf(s.id);
    if (i < 0) return;
    s.closedGen = this.profile.era === 'today' && this.migrateReq !== 0 ? this.groupGens[this.groupOf(s)] : -1;
    group[i] = group[group.length - 1];
    group.pop();
  }

  /** The listener an IPv`version` SYN steered to group index `to` finds:
   * the listener found first, or, in its group, the member at `to` modulo
   * the group's size (what the steering program returns). */
  private steer(version: 4 | 6, to: number): SpecSocket | undefined {
    const first = this.listenerFor(version);
    if (first === undefined) return undefined;
    const group = this.groups[this.groupOf(first)];
    if (!group.includes(first.id)) return first;
    // Today a group's members all score alike; a 4.1 pool's v6only ones
    // do not count for an IPv4 SYN.
    const score = lookupScore(first.domain, version);
    const members = group.filter((id) => lookupScore(this.sockets[id].domain, version) === score);
    return this.sockets[members[((to % members.length) + members.length) % members.length]];
  }

  /** The socket listening on the service port (besides `except`), for an
   * IP version a socket of `domain` would receive too. */
  private serviceListener(except?: SpecSocket, domain: Domain = 'inet6'): SpecSocket | undefined {
    return this.sockets.find((s) => s !== except && s.alive && s.onServicePort && s.tcpState === 'LISTEN' && overlaps(s.domain, domain));
  }

  /** __inet_lookup_listener(): the best-scoring listener for an IPv`version`
   * SYN, the one that started listening first among equals. Equals are
   * one group's members but for IPv6 listeners of two groups (dual-stack
   * and v6only), which the lookup meets in the order they started
   * listening, and the first one's group takes the SYN (measured). */
  private listenerFor(version: 4 | 6): SpecSocket | undefined {
    let best: SpecSocket | undefined;
    for (const s of this.sockets) {
      if (!s.alive || !s.onServicePort || s.tcpState !== 'LISTEN' || lookupScore(s.domain, version) < 0) continue;
      if (best === undefined) {
        best = s;
        continue;
      }
      const score = lookupScore(s.domain, version);
      const bestScore = lookupScore(best.domain, version);
      if (score > bestScore || (score === bestScore && s.listenedAt < best.listenedAt)) best = s;
    }
    return best;
  }

  /** What the SYN queue holds. Today that is the hashed requests only
   * (inet_csk_reqsk_queue_added()): a Fast Open request is never hashed, so
   * a child waiting for its final ACK does not count (measured on the live
   * kernel). 4.1, as modelled, counts its Fast Open slots too. */
  private requestsOf(listener: number): number {
    const fastOpenCounts = this.profile.era === '4.1';
    let n = 0;
    for (const c of this.conns.values()) if (c.listener === listener && c.state === 'request') n++;
    return n + (fastOpenCounts ? this.sockets[listener].fastOpenCount : 0);
  }

  /** reqsk_fastopen_remove(): a Fast Open child's request goes back to the
   * queue of the listener it names now. */
  private giveBack(c: SpecConn): void {
    if (!c.fastOpenPending) return;
    c.fastOpenPending = false;
    this.sockets[c.listener].fastOpenCount--;
  }

  private newSocket(onServicePort: boolean, domain: Domain = 'inet6'): SpecSocket {
    const s: SpecSocket = {
      id: this.sockets.length, alive: true, sockState: 'unconnected', tcpState: 'CLOSE', onServicePort, bound: onServicePort, userBound: false, domain, reuseport: false, listenedAt: 0, closedGen: -1,
      flag: 0, kept: null, conn: undefined, backlog: 0, fastOpenQueue: false, fastOpenMax: 0, fastOpenCount: 0, acceptQueue: [], cookieStamp: false,
      unread: false, orphan: false,
    };
    this.sockets.push(s);
    return s;
  }

  private freeFd(hint: number | undefined): number {
    return hint !== undefined && hint < MAX_FDS && this.fds[hint] === undefined ? hint : this.lowestFreeFd();
  }

  private lowestFreeFd(): number {
    for (let fd = 0; fd < MAX_FDS; fd++) if (this.fds[fd] === undefined) return fd;
    return -1;
  }
}

/** __sys_listen(): `if ((unsigned int)backlog > somaxconn) backlog =
 * somaxconn;`, so a negative backlog, as an unsigned one, is the largest
 * (measured: listen(fd, -1) queues past any small backlog). */
export function clampBacklog(backlog: number, profile: Profile): number {
  return backlog >>> 0 > profile.somaxconn ? profile.somaxconn : backlog;
}
