// The TCP stack around the feature: descriptors and file references, the
// listener's queues, the handshake, Fast Open, syncookies and teardown. It is
// the part of the kernel the patch does not change, written once and run in
// either era:
//   - Linux 4.1 (the 2015 patch): the listener is locked while softirq
//     processes its SYNs and ACKs; requests live in the listener's SYN table
//     and die with it.
//   - Linux today: the listener is lockless; requests live in the established
//     hash, two CPUs may build a child for the same request, and only the
//     owner of the hash insertion (own_req) keeps it.
// Every function that the feature patches calls its hook in ./feature.ts.

import { connectsOver, DOMAINS, domainOf, groupKey, lookupScore, overlaps, type Domain } from '../../families.ts';
import type { Ledger } from '../../ledger.ts';
import { fail, ok, type Op, type Outcome } from '../../ops.ts';
import { buildSyn, DEFAULT_PACKET, type BuiltPacket } from '../../packet.ts';
import type { Profile } from '../../profile.ts';
import { clampBacklog, MAX_FDS, SERVICE_FD } from '../../spec/world.ts';
import type { FdView, OpRun, Yield } from '../types.ts';
import type { Gen, SavedSynFeature } from './feature.ts';
import { Lock, reqOwner, sockOwner, type FastOpenQueue, type RequestSock, type Sock } from './structs.ts';

export interface KernelInternals {
  readonly parked: readonly RequestSock[];
  readonly skbPackets: ReadonlyMap<number, BuiltPacket>;
  readonly kmem: ReadonlyMap<number, Uint8Array>;
  readonly reserved: ReadonlySet<number>;
}

/** Copies of a kernel's sockets and requests for copyStateFrom, each made
 * once, pointing at each other as the originals do. */
class StateCopy {
  private readonly socks = new Map<Sock, Sock>();
  private readonly reqs = new Map<RequestSock, RequestSock>();

  sock(sk: Sock): Sock {
    let c = this.socks.get(sk);
    if (c === undefined) {
      c = { ...sk, lock: new Lock(sk.lock.name), acceptQueue: [], fastopenq: sk.fastopenq && { ...sk.fastopenq }, tp: { ...sk.tp }, fastopen_rsk: null };
      c.lock.owner = sk.lock.owner;
      this.socks.set(sk, c);
      c.acceptQueue = sk.acceptQueue.map((e) => ({ req: this.req(e.req), child: this.sock(e.child) }));
      c.fastopen_rsk = sk.fastopen_rsk && this.req(sk.fastopen_rsk);
    }
    return c;
  }

  req(r: RequestSock): RequestSock {
    let c = this.reqs.get(r);
    if (c === undefined) {
      c = { ...r, ireq: { ...r.ireq }, sk: null };
      this.reqs.set(r, c);
      c.listener = this.sock(r.listener);
      c.sk = r.sk && this.sock(r.sk);
    }
    return c;
  }
}

export class Kernel {
  readonly socks: Sock[] = [];
  readonly files: (Sock | undefined)[] = [];
  /** The last view made of each descriptor, by descriptor (see view()). */
  private readonly shownViews: (FdView | undefined)[] = [];
  /** The last array view() handed out. */
  private shownArray: FdView[] | undefined;
  /** Requests an ACK can find, by connection. */
  readonly requests = new Map<number, RequestSock>();
  /** Established (and Fast Open) children by connection. */
  readonly established = new Map<number, Sock>();
  /** Peers holding a syncookie, with the listener that issued it: the
   * peer's state, not the kernel's; the cookie only validates while that
   * listener listens (tcp_synq_no_recent_overflow). */
  /** Cookies sent and not yet answered, by connection: the SYN's IP
   * version and steering, which pick the listener its ACK meets. */
  readonly cookies = new Map<number, { version: 4 | 6; to: number }>();
  /** Per group, the generation whose overflow stamp a cookie set
   * (reuse->synq_overflow_ts), or -1. */
  readonly reuseStamps: Record<Domain, number> = { inet6: -1, inet: -1, inet6only: -1 };
  private readonly parked: RequestSock[] = [];
  private readonly skbPackets = new Map<number, BuiltPacket>();
  private readonly kmem = new Map<number, Uint8Array>();
  /** Descriptors reserved by an accept() in progress. */
  private readonly reserved = new Set<number>();
  private nextReq = 0;
  syncookies = 1;
  fastopen = 0;
  migrateReq = 0;
  /** The service port's struct sock_reuseport groups: socks[0..num_socks).
   * inet_reuseport_add_sock() joins a listener to the group of a socket
   * of the same family and IPV6_V6ONLY setting only, so the port has one
   * per kind of socket. */
  readonly reuseGroups: Record<Domain, Sock[]> = { inet6: [], inet: [], inet6only: [] };
  /** Which struct sock_reuseport each is: a new one each time a listener
   * finds its group empty (reuseport_alloc()), counted over all three. */
  readonly reuseGens: Record<Domain, number> = { inet6: 0, inet: 0, inet6only: 0 };
  reuseAllocs = 0;
  /** inet_hash() calls: the order listeners are met in the listening
   * hash (Sock.listenedAt). */
  hashes = 0;

  constructor(readonly profile: Profile, readonly ledger: Ledger, readonly feature: SavedSynFeature) {
    this.files[SERVICE_FD] = this.sockAlloc(true);
    this.files[SERVICE_FD].fdRefs = 1;
    this.files[SERVICE_FD].userBound = true;
  }

  // --- memory the feature uses -------------------------------------------

  /** The packet an skb carries. */
  skb(handle: number): BuiltPacket {
    const p = this.skbPackets.get(handle);
    if (p === undefined) throw new Error(`no skb ${handle}`);
    return p;
  }

  kmalloc(bytes: Uint8Array, owner: string, site: string, conn: number): number {
    const h = this.ledger.alloc('kmalloc', owner, site, conn, bytes.length);
    this.kmem.set(h, bytes);
    return h;
  }

  kmemData(handle: number): Uint8Array {
    const b = this.kmem.get(handle);
    if (b === undefined) throw new Error(`no kmalloc buffer ${handle}`);
    return b;
  }

  // --- locks ----------------------------------------------------------

  *lock(l: Lock, t: number, site: string): Gen<void> {
    while (l.owner !== -1 && l.owner !== t) yield { blocked: l.name };
    l.owner = t;
    yield site;
  }

  unlock(l: Lock, t: number): void {
    if (l.owner !== t) throw new Error(`${l.name} released by thread ${t} which does not hold it`);
    l.owner = -1;
  }

  // --- entry point ----------------------------------------------------

  run(op: Op, t: number): OpRun {
    return this.dispatch(op, t);
  }

  view(): FdView[] {
    // The state oracle asks after every step, and a descriptor's view
    // rarely changes: the last view made of a descriptor is handed out
    // again while it still says the same, and the last array while every
    // element is the same. Nothing writes into a view or an array once
    // handed out, so one handed out earlier still reads what it read.
    const last = this.shownArray;
    let same = last !== undefined;
    let n = 0;
    for (let fd = 0; fd < this.files.length; fd++) {
      const sk = this.files[fd];
      if (!sk) continue;
      const v = this.feature.view(this, sk);
      let shown = this.shownViews[fd];
      if (shown === undefined || shown.flag !== v.flag || shown.kept !== v.kept) {
        shown = { fd, flag: v.flag, kept: v.kept };
        this.shownViews[fd] = shown;
      }
      if (same && last![n] !== shown) same = false;
      n++;
    }
    if (same && n === last!.length) return last!;
    const out = new Array<FdView>(n);
    let i = 0;
    for (let fd = 0; fd < this.files.length; fd++) if (this.files[fd]) out[i++] = this.shownViews[fd]!;
    this.shownArray = out;
    return out;
  }

  /** The state this class keeps private, read-only: a canonical hash of
   * the whole stack (fuzz/verify/canonical.ts) needs it. */
  internals(): KernelInternals {
    return { parked: this.parked, skbPackets: this.skbPackets, kmem: this.kmem, reserved: this.reserved };
  }

  /** Become a copy of `src` between two ops (no op in flight), sharing
   * only what nobody writes (packets, kmalloc'd bytes, the feature): lets
   * `verify` branch from a state instead of replaying the ops to it. The
   * ledger is this kernel's own; the caller copies it alongside. */
  copyStateFrom(src: Kernel): void {
    const copy = new StateCopy();
    this.socks.length = 0;
    // socks[] is read for its length (the next id) and scanned for live
    // sockets only; a freed socket never lives again, so one nothing else
    // here points to is shared, not copied (copy.sock copies it if a
    // request or queue still does).
    for (const sk of src.socks) this.socks.push(sk.alive ? copy.sock(sk) : sk);
    this.files.length = 0;
    for (const sk of src.files) this.files.push(sk && copy.sock(sk));
    this.requests.clear();
    for (const [k, r] of src.requests) this.requests.set(k, copy.req(r));
    this.established.clear();
    for (const [k, sk] of src.established) this.established.set(k, copy.sock(sk));
    this.cookies.clear();
    for (const [k, version] of src.cookies) this.cookies.set(k, version);
    this.parked.length = 0;
    for (const r of src.parked) this.parked.push(copy.req(r));
    this.skbPackets.clear();
    for (const [k, p] of src.skbPackets) this.skbPackets.set(k, p);
    this.kmem.clear();
    for (const [k, b] of src.kmem) this.kmem.set(k, b);
    this.reserved.clear();
    for (const fd of src.reserved) this.reserved.add(fd);
    this.nextReq = src.nextReq;
    this.syncookies = src.syncookies;
    this.fastopen = src.fastopen;
    this.migrateReq = src.migrateReq;
    for (const d of DOMAINS) {
      const group = this.reuseGroups[d];
      group.length = 0;
      for (const sk of src.reuseGroups[d]) group.push(copy.sock(sk));
      this.reuseGens[d] = src.reuseGens[d];
      this.reuseStamps[d] = src.reuseStamps[d];
    }
    this.reuseAllocs = src.reuseAllocs;
    this.hashes = src.hashes;
  }

  private *dispatch(op: Op, t: number): OpRun {
    switch (op.kind) {
      case 'socket': return this.sysSocket(domainOf(op));
      case 'listen': return yield* this.withFile(op.fd, (sk) => this.sysListen(sk, t, op.backlog));
      case 'accept': return yield* this.withFile(op.fd, (sk) => this.sysAccept(sk, t));
      case 'setsockopt': return yield* this.withFile(op.fd, (sk) => this.sysSetsockopt(sk, t, op.optname, op.value));
      case 'getsockopt': return yield* this.withFile(op.fd, (sk) => this.sysGetsockopt(sk, t, op.optname, op.bufSize));
      case 'close': return yield* this.sysClose(op.fd);
      case 'disconnect': return yield* this.withFile(op.fd, (sk) => this.sysDisconnect(sk, t));
      case 'connect': return yield* this.withFile(op.fd, (sk) => this.sysConnect(sk, t));
      case 'dup': return yield* this.withFile(op.fd, (sk) => this.sysDup(sk));
      case 'shutdown': return yield* this.withFile(op.fd, (sk) => this.sysShutdown(sk, t, op.how));
      case 'bind': return yield* this.withFile(op.fd, (sk) => this.sysBind(sk, t));
      case 'reuseport': return yield* this.withFile(op.fd, (sk) => this.sysReuseport(sk));
      case 'syn': yield* this.rcvSyn(t, buildSyn(op.conn, op.packet), false, op.to); return ok();
      case 'fastOpenSyn': yield* this.rcvSyn(t, buildSyn(op.conn, op.packet), true, op.to); return ok();
      case 'flood':
        for (let i = 0; i < op.count; i++) yield* this.rcvSyn(t, buildSyn(op.first + i, DEFAULT_PACKET), false);
        return ok();
      case 'ack': case 'ackRetransmit': case 'cookieAck': yield* this.rcvAck(t, op.conn); return ok();
      case 'rst': yield* this.rcvRst(t, op.conn); return ok();
      case 'synackTimeout': yield* this.reqskTimerHandler(t, op.conn, true); return ok();
      case 'synackRetransmit': yield* this.reqskTimerHandler(t, op.conn, false); return ok();
      case 'sysctl':
        if (op.name === 'tcp_syncookies') this.syncookies = op.value;
        else if (op.name === 'tcp_fastopen') this.fastopen = op.value;
        else this.migrateReq = op.value;
        return ok();
      case 'expireAll':
        for (const conn of [...this.requests.keys()]) this.timerExpired(conn);
        for (const sk of [...this.established.values()]) if (sk.fastopen_rsk || sk.dead) this.timerExpired(sk.conn!);
        // A parked request's 60 s are over: the next Fast Open SYN to find
        // the queue full would take it off (tcp_fastopen_queue_check()).
        for (const req of this.parked.splice(0)) this.unpark(req, true);
        return ok();
    }
  }

  // --- system calls ---------------------------------------------------

  /** fdget()/fdput(): the call holds a file reference, so a close racing it
   * destroys the socket only after the call returns. */
  private *withFile(fd: number, body: (sk: Sock) => Gen<Outcome>): Gen<Outcome> {
    const sk = this.files[fd];
    if (sk === undefined) return fail('EBADF');
    // A file released (sock_close(): inet_release() then sock->sk = NULL)
    // that a descriptor still names: the call dereferences NULL.
    if (sk.dead) throw new Error('NULL pointer dereference: the descriptor\'s file was released (sock_close), and its sock->sk is NULL');
    sk.fileRefs++;
    try {
      return yield* body(sk);
    } finally {
      sk.fileRefs--;
      if (sk.fileClosed && sk.fileRefs === 0) this.tcpClose(sk);
    }
  }

  private sysSocket(domain: Domain): Outcome {
    const fd = this.lowestFreeFd();
    if (fd < 0) return fail('EMFILE');
    this.files[fd] = this.sockAlloc(false, domain);
    this.files[fd].fdRefs = 1;
    return ok(fd);
  }

  protected *sysListen(sk: Sock, t: number, backlog: number): Gen<Outcome> {
    yield* this.lock(sk.lock, t, 'net/ipv4/af_inet.c:inet_listen lock_sock');
    try {
      if (sk.sockState !== 'unconnected') return fail('EINVAL');
      if (sk.state === 'LISTEN') {
        sk.backlog = clampBacklog(backlog, this.profile);
        return ok();
      }
      if (sk.state !== 'CLOSE') return fail('EINVAL');
      if (this.fastopen !== 0) {
        if (sk.fastopenq === null) {
          // fastopen_init_queue(): in 4.1 it also installs tcp_sock_destruct.
          sk.fastopenq = { maxQlen: clampBacklog(backlog, this.profile), qlen: 0 };
          if (this.profile.era === '4.1') sk.destruct = 'tcp_sock_destruct';
        } else if (this.profile.era === 'today' && sk.fastopenq.maxQlen === 0) {
          // fastopen_queue_tune() runs again while max_qlen is 0.
          sk.fastopenq.maxQlen = clampBacklog(backlog, this.profile);
        }
      }
      // inet_csk_listen_start() -> reqsk_queue_alloc() empties the Fast Open
      // queue's count, though children of the last listen may still hold
      // requests they will give back (measured: the count goes below 0).
      if (this.profile.era === 'today' && sk.fastopenq !== null) sk.fastopenq.qlen = 0;
      // inet_csk_listen_start() -> get_port(): another listener on the
      // port conflicts, SO_REUSEADDR or not, unless both set SO_REUSEPORT;
      // the Fast Open queue above is sized all the same.
      if (sk.onServicePort && this.bindConflict(sk)) return fail('EADDRINUSE');
      sk.backlog = clampBacklog(backlog, this.profile);
      sk.state = 'LISTEN';
      sk.bound = true;
      // inet_hash(): added to the listening hash, AF_INET6 sockets with
      // SO_REUSEPORT at its tail, so among them the lookup meets the one
      // that listened first first; then inet_reuseport_add_sock().
      sk.listenedAt = ++this.hashes;
      if (sk.onServicePort && sk.reuseport) this.reuseportAddSock(sk);
      return ok();
    } finally {
      this.unlock(sk.lock, t);
    }
  }

  /** inet_bind() -> __inet_bind() -> inet_csk_get_port(), the socket with
   * SO_REUSEADDR: bound sockets and children on the port are no conflict,
   * a listener is. */
  protected *sysBind(sk: Sock, t: number): Gen<Outcome> {
    yield* this.lock(sk.lock, t, 'net/ipv4/af_inet.c:__inet_bind lock_sock');
    try {
      if (sk.state !== 'CLOSE' || sk.bound) return fail('EINVAL');
      if (this.bindConflict(sk)) return fail('EADDRINUSE');
      sk.bound = true;
      sk.userBound = true;
      sk.onServicePort = true;
      return ok();
    } finally {
      this.unlock(sk.lock, t);
    }
  }

  /** sk_setsockopt(SO_REUSEPORT): takes effect at the next bind or listen. */
  private *sysReuseport(sk: Sock): Gen<Outcome> {
    sk.reuseport = true;
    return ok();
  }

  /** inet_bind_conflict(): a listener on the port conflicts unless both
   * sockets set SO_REUSEPORT (one user here). */
  private bindConflict(sk: Sock): boolean {
    return this.socks.some((o) => o !== sk && o.alive && o.onServicePort && o.state === 'LISTEN' && overlaps(o.domain, sk.domain) && !(sk.reuseport && o.reuseport));
  }

  /** Which of the port's groups `sk` is in (families.ts groupKey). */
  reuseKey(sk: Sock): Domain {
    return groupKey(this.profile.era, sk.domain);
  }

  /** reuseport_add_sock(): appended to the group of a listener that set
   * SO_REUSEPORT, made for that one first if it has none. */
  private reuseportAddSock(sk: Sock): void {
    sk.closedGen = -1;
    const group = this.reuseGroups[this.reuseKey(sk)];
    if (group.length === 0) {
      this.reuseGens[this.reuseKey(sk)] = ++this.reuseAllocs;
      const sk2 = this.socks.find((o) => o !== sk && o.alive && o.onServicePort && o.state === 'LISTEN' && o.reuseport && this.reuseKey(o) === this.reuseKey(sk));
      if (sk2) group.push(sk2);
    }
    group.push(sk);
  }

  /** __reuseport_detach_sock(): the last member takes the leaver's slot.
   * With tcp_migrate_req on, reuseport_stop_listen_sock() keeps the leaver
   * in the group's closed section, where migration finds the group. */
  protected reuseportDetachSock(sk: Sock): void {
    const group = this.reuseGroups[this.reuseKey(sk)];
    const i = group.indexOf(sk);
    if (i < 0) return;
    sk.closedGen = this.profile.era === 'today' && this.migrateReq !== 0 ? this.reuseGens[this.reuseKey(sk)] : -1;
    group[i] = group[group.length - 1];
    group.pop();
  }


  /** tcp_set_state(TCP_CLOSE) -> inet_put_port() unless SOCK_BINDPORT_LOCK. */
  private putPort(sk: Sock): void {
    if (sk.userBound) return;
    sk.bound = false;
    sk.onServicePort = false;
  }

  /** __sys_accept4_file(): the new descriptor is reserved before the
   * accept itself, so a close() racing it cannot hand its number over. */
  private *sysAccept(sk: Sock, t: number): Gen<Outcome> {
    const fd = this.lowestFreeFd();
    if (fd < 0) return fail('EMFILE');
    this.reserved.add(fd);
    try {
      const child = yield* this.inetCskAccept(sk, t);
      if (child === undefined) return fail(sk.state === 'LISTEN' ? 'EAGAIN' : 'EINVAL');
      child.sockState = 'connected';
      this.files[fd] = child;
      child.fdRefs = 1;
      return ok(fd);
    } finally {
      this.reserved.delete(fd);
    }
  }

  private *inetCskAccept(sk: Sock, t: number): Gen<Sock | undefined> {
    yield* this.lock(sk.lock, t, 'net/ipv4/inet_connection_sock.c:inet_csk_accept lock_sock');
    const entry = sk.state === 'LISTEN' ? sk.acceptQueue.shift() : undefined;
    if (entry === undefined) {
      this.unlock(sk.lock, t);
      return undefined;
    }
    const { req, child } = entry;
    req.queued = false;
    yield* this.feature.accept(this, t, sk, req, child);
    let keepReq = false;
    if (req.tfo_listener) {
      // Still waiting for the final ACK: req->sk = NULL, the request is
      // freed by reqsk_fastopen_remove() when the handshake ends.
      req.sk = null;
      keepReq = true;
    }
    this.unlock(sk.lock, t);
    if (!keepReq) this.reqskMaybeFree(req);
    return child;
  }

  private *sysSetsockopt(sk: Sock, t: number, optname: number, val: number): Gen<Outcome> {
    const out = yield* this.feature.setsockopt(this, t, sk, optname, val);
    return out ?? fail('ENOPROTOOPT');
  }

  private *sysGetsockopt(sk: Sock, t: number, optname: number, len: number): Gen<Outcome> {
    // Today a negative *optlen is refused before any option is looked at;
    // 4.1 clamps it as unsigned first (min_t(unsigned int, len, 4)), so it
    // never reads as negative there and each option sees the raw value.
    if (this.profile.era === 'today' && len < 0) return fail('EINVAL');
    const out = yield* this.feature.getsockopt(this, t, sk, optname, { len });
    return out ?? fail('ENOPROTOOPT');
  }

  private *sysClose(fd: number): Gen<Outcome> {
    const sk = this.files[fd];
    if (sk === undefined) return fail('EBADF');
    this.files[fd] = undefined;
    // fput(): another descriptor (a dup) still holds the file.
    if (--sk.fdRefs > 0) return ok();
    sk.fileClosed = true;
    yield 'fs/open.c:close filp_close';
    // The last file reference: calls in flight on it destroy it when they
    // return; a dup in flight may have installed it again meanwhile.
    if (sk.fileClosed && sk.fileRefs === 0) this.tcpClose(sk);
    return ok();
  }

  /** ksys_dup(): the file, held since fget_raw(), is installed in the
   * lowest free slot, which get_unused_fd_flags() reserved first. */
  protected *sysDup(sk: Sock): Gen<Outcome> {
    const fd = this.lowestFreeFd();
    if (fd < 0) return fail('EMFILE');
    this.reserved.add(fd);
    try {
      yield 'fs/file.c:ksys_dup fd_install';
      this.files[fd] = sk;
      sk.fdRefs++;
      sk.fileClosed = false;
      return ok(fd);
    } finally {
      this.reserved.delete(fd);
    }
  }

  /** inet_shutdown() and tcp_shutdown(). sk_shutdown itself is not
   * modelled: no op here sends or receives data. */
  protected *sysShutdown(sk: Sock, t: number, how: number): Gen<Outcome> {
    // how++: SHUT_RD..SHUT_RDWR become RCV_SHUTDOWN|SEND_SHUTDOWN bits.
    const bits = how + 1;
    if (bits <= 0 || bits > 3) return fail('EINVAL');
    yield* this.lock(sk.lock, t, 'net/ipv4/af_inet.c:inet_shutdown lock_sock');
    try {
      switch (sk.state) {
        case 'CLOSE': return fail('ENOTCONN');
        case 'LISTEN':
          if (!(bits & 1)) return ok();
          this.tcpDisconnect(sk);
          return ok();
        case 'SYN_SENT':
          // sock->state goes SS_DISCONNECTING, then SS_UNCONNECTED as
          // tcp_disconnect() succeeds.
          this.tcpDisconnect(sk);
          return ok();
        default:
          // tcp_shutdown(): tcp_close_state() sends a FIN from ESTABLISHED
          // or SYN_RECV; the saved SYN is not touched.
          if (bits & 2 && (sk.state === 'ESTABLISHED' || sk.state === 'SYN_RECV')) sk.state = 'FIN_WAIT1';
          return ok();
      }
    } finally {
      this.unlock(sk.lock, t);
    }
  }

  private *sysDisconnect(sk: Sock, t: number): Gen<Outcome> {
    yield* this.lock(sk.lock, t, 'net/ipv4/af_inet.c:inet_stream_connect lock_sock');
    this.tcpDisconnect(sk);
    this.unlock(sk.lock, t);
    return ok();
  }

  /** tcp_disconnect(), called with the socket locked; sock->state ends
   * SS_UNCONNECTED. */
  protected tcpDisconnect(sk: Sock): void {
    if (sk.state === 'LISTEN') this.listenStop(sk);
    sk.synqOverflowStamp = false;
    // Today a Fast Open child gives its request back here (measured on the
    // live kernel); in 4.1 it holds it until it is destroyed.
    if (this.profile.era === 'today') this.reqskFastopenRemove(sk, false);
    sk.state = 'CLOSE';
    this.unhashChild(sk);
    // tcp_set_state(TCP_CLOSE) puts the port back unless the user bound it.
    this.putPort(sk);
    this.feature.disconnect(this, sk);
    sk.sockState = 'unconnected';
  }

  private *sysConnect(sk: Sock, t: number): Gen<Outcome> {
    yield* this.lock(sk.lock, t, 'net/ipv4/af_inet.c:inet_stream_connect lock_sock');
    try {
      if (sk.sockState === 'connected') return fail('EISCONN');
      if (sk.sockState === 'connecting') return fail('EALREADY');
      if (sk.state !== 'CLOSE') return fail('EISCONN');
      // tcp_v4_connect() -> inet_hash_connect() -> __inet_check_established():
      // a socket bound to the port already connecting to the same peer.
      if (sk.onServicePort && this.socks.some((o) => o !== sk && o.alive && o.onServicePort && o.state === 'SYN_SENT' && connectsOver(o.domain) === connectsOver(sk.domain))) {
        return fail('EADDRNOTAVAIL');
      }
      sk.state = 'SYN_SENT';
      sk.sockState = 'connecting';
      return fail('EINPROGRESS');
    } finally {
      this.unlock(sk.lock, t);
    }
  }

  // --- softirq: packets -----------------------------------------------

  private *rcvSyn(t: number, packet: BuiltPacket, fastOpenData: boolean, to = 0): Gen<void> {
    const skb = this.ledger.alloc('skb', 'rx', 'net/core/dev.c:netif_receive_skb', packet.conn, packet.bytes.length);
    this.skbPackets.set(skb, packet);
    yield 'net/ipv4/tcp_ipv4.c:tcp_v4_rcv';
    const conn = packet.conn;
    const stale = this.requests.get(conn);
    // A request whose listener is gone is dropped by the lookup that finds
    // it, unless migration could move it: then tcp_check_req() on the new
    // listener takes the SYN for a retransmission, and the request stays.
    if (stale !== undefined && stale.listener.state !== 'LISTEN' && this.reuseportMigrateSock(stale.listener, conn) === undefined) this.reqskUnhash(stale);
    const l = this.lookupListener(packet.family, to);
    if (l !== undefined && !this.requests.has(conn) && !this.established.has(conn)) {
      if (this.profile.lockedListener) yield* this.lock(l.lock, t, 'net/ipv4/tcp_ipv4.c:tcp_v4_rcv bh_lock_sock');
      // Re-check under the lock: the world may have moved while we waited.
      if (l.state === 'LISTEN' && !this.requests.has(conn) && !this.established.has(conn)) {
        yield* this.tcpConnRequest(t, l, skb, packet, fastOpenData, to);
      }
      if (this.profile.lockedListener) this.unlock(l.lock, t);
    }
    this.ledger.put(skb, 'rx', 'net/ipv4/tcp_input.c:tcp_rcv_state_process consume_skb');
  }

  private *tcpConnRequest(t: number, l: Sock, skb: number, packet: BuiltPacket, fastOpenData: boolean, to: number): Gen<void> {
    let wantCookie = false;
    if (this.syncookies === 2 || this.profile.synQueueFull(this.requestsOf(l), l.backlog)) {
      if (this.syncookies === 0) return;
      wantCookie = true;
    }
    if (this.profile.acceptQueueFull(l.acceptQueue.length, l.backlog)) return;
    const req = this.reqskAlloc(l, packet);
    yield* this.feature.connRequest(this, t, l, req, skb, wantCookie);
    const fq = l.fastopenq;
    if (!wantCookie && fastOpenData && this.fastopen !== 0 && fq !== null && fq.qlen < fq.maxQlen) {
      // tcp_try_fastopen() -> tcp_fastopen_create_child().
      const child = this.createOpenreqChild(l, req);
      // inet_ehash_nolisten(): a socket with the same tuple already hashed
      // (another CPU's copy of this SYN) wins, and this child is dropped.
      const ownReq = !this.established.has(req.conn) && !this.requests.has(req.conn);
      if (ownReq) {
        child.state = 'SYN_RECV';
        child.fastopen_rsk = req;
        // tcp_fastopen_add_skb(): the SYN's data waits on the child.
        child.unread = packet.payloadLen > 0;
        fq.qlen++;
        req.tfo_listener = true;
        req.sk = child;
        this.established.set(req.conn, child);
        // The peer now answers this child's SYN-ACK, not an older cookie.
        this.cookies.delete(req.conn);
      }
      yield* this.settleChild(t, l, req, child, ownReq);
      return;
    }
    if (wantCookie) {
      // cookie_v4_init_sequence() → tcp_synq_overflow(): a group's stamp
      // today (reuse->synq_overflow_ts), else the listener's own.
      if (this.profile.era === 'today' && this.reuseGroups[this.reuseKey(l)].includes(l)) this.reuseStamps[this.reuseKey(l)] = this.reuseGens[this.reuseKey(l)];
      else l.synqOverflowStamp = true;
      this.cookies.set(req.conn, { version: req.packet.family, to });
      this.reqskMaybeFree(req);
      return;
    }
    if (this.profile.era === 'today' && (this.requests.has(req.conn) || this.established.has(req.conn))) {
      // inet_csk_reqsk_queue_hash_add() found another CPU's request for the
      // same tuple: this one is freed (reqsk_free()).
      this.reqskMaybeFree(req);
      return;
    }
    // The peer now answers this request's SYN-ACK, not an older cookie.
    this.cookies.delete(req.conn);
    req.hashed = true;
    this.requests.set(req.conn, req);
  }

  private *rcvAck(t: number, conn: number): Gen<void> {
    const child = this.established.get(conn);
    if (child !== undefined) {
      if (child.fastopen_rsk) {
        // The final ACK of a Fast Open handshake; a child already shut for
        // writing stays in FIN_WAIT1 (tcp_rcv_synrecv_state_fastopen()).
        if (child.state === 'SYN_RECV') child.state = 'ESTABLISHED';
        this.reqskFastopenRemove(child, false);
      }
      return;
    }
    const req = this.requests.get(conn);
    if (req !== undefined) {
      yield* this.checkReq(t, req);
      return;
    }
    const cookie = this.cookies.get(conn);
    if (cookie !== undefined) yield* this.cookieCheck(t, conn, cookie.version, cookie.to);
  }

  /** tcp_check_req() and the syn_recv_sock() it calls. */
  protected *checkReq(t: number, req: RequestSock): Gen<void> {
    req.lookups++;
    yield 'net/ipv4/tcp_ipv4.c:tcp_v4_rcv found TCP_NEW_SYN_RECV';
    const old = req.listener;
    let l = old;
    if (this.profile.lockedListener) yield* this.lock(old.lock, t, 'net/ipv4/tcp_ipv4.c:tcp_v4_rcv bh_lock_sock');
    try {
      if (req.freed || !req.hashed && this.profile.lockedListener) return;
      if (l.state !== 'LISTEN') {
        // reuseport_migrate_sock(): another listener of the group takes
        // the request, or inet_csk_reqsk_queue_drop_and_put().
        const nsk = this.reuseportMigrateSock(l, req.conn);
        if (nsk === undefined) {
          this.reqskUnhash(req);
          return;
        }
        l = nsk;
        yield 'net/ipv4/tcp_ipv4.c:tcp_v4_rcv reuseport_migrate_sock';
      }
      if (this.profile.acceptQueueFull(l.acceptQueue.length, l.backlog)) {
        req.acked = true;
        return;
      }
      const child = this.createOpenreqChild(l, req);
      yield 'net/ipv4/tcp_ipv4.c:tcp_v4_syn_recv_sock inet_ehash_nolisten';
      // Only the CPU whose insertion replaces the request owns the child;
      // the replacement is atomic, what follows it is not.
      const ownReq = req.hashed && !this.established.has(req.conn);
      if (ownReq) {
        child.state = 'ESTABLISHED';
        this.established.set(req.conn, child);
        this.reqskUnhash(req);
      }
      yield* this.settleChild(t, l, req, child, ownReq);
    } finally {
      if (this.profile.lockedListener) this.unlock(old.lock, t);
      req.lookups--;
      this.reqskMaybeFree(req);
    }
  }

  /** cookie_v4_check(): a request rebuilt from the ACK, never the SYN, by
   * whichever socket the lookup finds on the port now (in a group, the
   * member the ACK is steered to). */
  private *cookieCheck(t: number, conn: number, version: 4 | 6, to: number): Gen<void> {
    // cookie_v4_check() declines (cookies off, or tcp_synq_no_recent_overflow():
    // no stamp on the listener's group, or on a listener alone none since it
    // was made or disconnected),
    // the listener answers the ACK with a RST (tcp_v4_send_reset()), and the
    // peer, reset, holds its cookie no more.
    const l = this.lookupListener(version, to);
    const stamped = l !== undefined && (this.profile.era === 'today' && this.reuseGroups[this.reuseKey(l)].includes(l) ? this.reuseStamps[this.reuseKey(l)] === this.reuseGens[this.reuseKey(l)] : l.synqOverflowStamp);
    if (this.syncookies === 0 || l === undefined || !stamped) {
      this.cookies.delete(conn);
      return;
    }
    if (this.profile.lockedListener) yield* this.lock(l.lock, t, 'net/ipv4/tcp_ipv4.c:tcp_v4_rcv bh_lock_sock');
    try {
      if (l.state !== 'LISTEN') this.cookies.delete(conn);
      if (l.state !== 'LISTEN' || this.established.has(conn)) return;
      if (this.profile.acceptQueueFull(l.acceptQueue.length, l.backlog)) return;
      const req = this.reqskAlloc(l, buildSyn(conn, DEFAULT_PACKET));
      yield 'net/ipv4/syncookies.c:cookie_v4_check';
      const child = this.createOpenreqChild(l, req);
      // Two CPUs may validate the same cookie: the second insertion finds
      // the first child and loses.
      const ownReq = !this.established.has(conn);
      if (ownReq) {
        child.state = 'ESTABLISHED';
        this.cookies.delete(conn);
        this.established.set(conn, child);
      }
      yield* this.settleChild(t, l, req, child, ownReq);
    } finally {
      if (this.profile.lockedListener) this.unlock(l.lock, t);
    }
  }

  private *rcvRst(t: number, conn: number): Gen<void> {
    const child = this.established.get(conn);
    if (child !== undefined) {
      yield 'net/ipv4/tcp_input.c:tcp_reset';
      this.tcpDone(child, true, 'tcp_reset → tcp_done');
      return;
    }
    const req = this.requests.get(conn);
    if (req !== undefined) {
      const l = req.listener;
      if (this.profile.lockedListener) yield* this.lock(l.lock, t, 'net/ipv4/tcp_ipv4.c:tcp_v4_rcv bh_lock_sock');
      this.reqskUnhash(req);
      if (this.profile.lockedListener) this.unlock(l.lock, t);
      return;
    }
    this.cookies.delete(conn);
  }

  /** A request's SYN-ACK timer gives up; a Fast Open child's does too. */
  private timerExpired(conn: number): void {
    const req = this.requests.get(conn);
    if (req !== undefined) {
      this.reqskUnhash(req);
      return;
    }
    const child = this.established.get(conn);
    // An orphan's FIN, as a Fast Open child's SYN-ACK, is retransmitted
    // until the timer gives up.
    if (child?.fastopen_rsk || child?.dead) this.tcpDone(child, false, 'tcp_write_timeout → tcp_done');
  }

  // --- sockets and requests ---------------------------------------------

  private sockAlloc(onServicePort: boolean, domain: Domain = 'inet6'): Sock {
    const sk: Sock = {
      id: this.socks.length, alive: true, dead: false, sockState: 'unconnected', state: 'CLOSE',
      onServicePort, bound: onServicePort, userBound: false, domain, reuseport: false, listenedAt: 0, closedGen: -1, lock: new Lock(`sk${this.socks.length}.lock`), fileRefs: 0, fileClosed: false, fdRefs: 0,
      destruct: 'inet_sock_destruct', conn: undefined, fastopen_rsk: null, unread: false,
      backlog: 0, acceptQueue: [], fastopenq: null, synqOverflowStamp: false, tp: {},
    };
    this.socks.push(sk);
    return sk;
  }

  private reqskAlloc(l: Sock, packet: BuiltPacket): RequestSock {
    const req: RequestSock = {
      id: this.nextReq++, conn: packet.conn, listener: l, packet, hashed: false, queued: false,
      lookups: 0, parked: false, freed: false, tfo_listener: false, sk: null, acked: false, ireq: {},
    };
    this.feature.reqskAlloc(this, req);
    return req;
  }

  /** sk_clone_lock() + tcp_create_openreq_child(). */
  private createOpenreqChild(l: Sock, req: RequestSock): Sock {
    const child = this.sockAlloc(true, l.domain);
    child.tp = { ...l.tp };
    child.destruct = l.destruct;
    child.reuseport = l.reuseport;
    child.conn = req.conn;
    child.sockState = 'connected';
    this.feature.createOpenreqChild(this, l, req, child);
    return child;
  }

  /** The end of syn_recv_sock() and the hash dance: the feature takes what
   * it keeps from the request; the loser's child is dropped, the winner's
   * queued. */
  private *settleChild(t: number, l: Sock, req: RequestSock, child: Sock, ownReq: boolean): Gen<void> {
    yield* this.feature.synRecvSock(this, t, req, child, ownReq);
    if (!ownReq) {
      child.dead = true;
      this.destroySock(child, 'tcp_v4_syn_recv_sock (lost own_req) → inet_csk_destroy_sock');
      this.reqskMaybeFree(req);
      return;
    }
    if (l !== req.listener) {
      yield* this.completeHashdanceMigrate(l, req, child);
      return;
    }
    this.reqskQueueAdd(l, req, child);
  }

  /** inet_csk_complete_hashdance() for a request another listener took: a
   * clone of it goes into that listener's queue with the child, and the
   * old one is reset and put; if that listener stopped listening
   * meanwhile, the clone is reset and freed and the child forgotten. */
  private *completeHashdanceMigrate(nsk: Sock, req: RequestSock, child: Sock): Gen<void> {
    const nreq = this.inetReqskClone(req, nsk);
    yield 'net/ipv4/inet_connection_sock.c:inet_csk_complete_hashdance inet_reqsk_clone';
    if (nsk.state === 'LISTEN') {
      nreq.queued = true;
      nsk.acceptQueue.push({ req: nreq, child });
      this.feature.reqskMigrateReset?.(this, req, nreq);
      this.reqskMaybeFree(req);
      return;
    }
    child.dead = true;
    this.tcpDone(child, false, 'inet_child_forget → tcp_done');
    this.feature.reqskMigrateReset?.(this, nreq);
    this.reqskMaybeFree(nreq);
  }

  /** inet_reqsk_clone(): a memcpy of the request, for listener `nsk`. */
  protected inetReqskClone(req: RequestSock, nsk: Sock): RequestSock {
    const nreq: RequestSock = {
      ...req, id: this.nextReq++, listener: nsk, hashed: false, queued: false, lookups: 0, parked: false, freed: false,
      acked: false, ireq: { ...req.ireq },
    };
    // A Fast Open child's pending request follows it (tcp_sk(child)->fastopen_rsk).
    if (nreq.tfo_listener && nreq.sk !== null) nreq.sk.fastopen_rsk = nreq;
    this.feature.reqskClone?.(this, req, nreq);
    return nreq;
  }

  /** reuseport_migrate_sock(), selecting by hash (no migration program):
   * the listener `conn` hashes to among the group's members, when
   * tcp_migrate_req is on and `l` left that group with it on. The model's
   * hash is the connection's number. */
  protected reuseportMigrateSock(l: Sock, conn: number): Sock | undefined {
    if (this.profile.era !== 'today' || this.migrateReq === 0) return undefined;
    const group = this.reuseGroups[this.reuseKey(l)];
    if (group.length === 0 || l.closedGen !== this.reuseGens[this.reuseKey(l)]) return undefined;
    return group[conn % group.length];
  }

  /** inet_ehash_insert(nreq, oreq): the clone replaces the request in the
   * established hash, unless another CPU unhashed it first. */
  protected inetEhashInsert(nreq: RequestSock, oreq: RequestSock): boolean {
    return oreq.hashed && this.requests.get(oreq.conn) === oreq;
  }

  /** reqsk_timer_handler(): the SYN-ACK timer of `conn`'s request. A
   * request whose listener stopped listening is cloned for the listener
   * migration picks; the clone replaces it in the established hash
   * (inet_ehash_insert()) unless another CPU took the request meanwhile,
   * or the timer gives up (`expire`): then the clone is reset and freed,
   * and the old request dropped. */
  private *reqskTimerHandler(t: number, conn: number, expire: boolean): Gen<void> {
    const req = this.requests.get(conn);
    if (req === undefined) {
      if (expire) this.timerExpired(conn);
      return;
    }
    const l = req.listener;
    if (l.state === 'LISTEN') {
      if (expire) this.reqskUnhash(req);
      return;
    }
    const nsk = this.reuseportMigrateSock(l, conn);
    if (nsk === undefined) {
      this.reqskUnhash(req);
      return;
    }
    if (this.profile.lockedListener) yield* this.lock(l.lock, t, 'net/ipv4/inet_connection_sock.c:reqsk_timer_handler');
    const nreq = this.inetReqskClone(req, nsk);
    yield 'net/ipv4/inet_connection_sock.c:reqsk_timer_handler inet_reqsk_clone';
    if (!expire && this.inetEhashInsert(nreq, req)) {
      nreq.hashed = true;
      this.requests.set(conn, nreq);
      req.hashed = false;
      this.feature.reqskMigrateReset?.(this, req, nreq);
      this.reqskMaybeFree(req);
    } else {
      this.feature.reqskMigrateReset?.(this, nreq);
      this.reqskMaybeFree(nreq);
      this.reqskUnhash(req);
    }
    if (this.profile.lockedListener) this.unlock(l.lock, t);
  }

  /** inet_csk_reqsk_queue_add(): under the queue lock, a listener that
   * stopped listening meanwhile gets no child (inet_child_forget()). */
  private reqskQueueAdd(l: Sock, req: RequestSock, child: Sock): void {
    if (l.state !== 'LISTEN') {
      child.dead = true;
      this.tcpDone(child, false, 'inet_child_forget → tcp_done');
      this.reqskMaybeFree(req);
      return;
    }
    req.queued = true;
    l.acceptQueue.push({ req, child });
  }

  private reqskUnhash(req: RequestSock): void {
    if (!req.hashed) return;
    req.hashed = false;
    if (this.requests.get(req.conn) === req) this.requests.delete(req.conn);
    this.reqskMaybeFree(req);
  }

  /** reqsk_put() reaching zero: nothing can find the request any more. */
  reqskMaybeFree(req: RequestSock): void {
    if (req.freed || req.hashed || req.queued || req.lookups > 0 || req.parked || req.tfo_listener) return;
    req.freed = true;
    this.feature.reqskDestructor(this, req);
    this.ledger.ownerFreed(reqOwner(req), REQSK_FREE, 'reqsk_put → reqsk_free');
  }

  /** reqsk_fastopen_remove(). */
  protected reqskFastopenRemove(sk: Sock, reset: boolean): void {
    const req = sk.fastopen_rsk;
    if (req === null) return;
    sk.fastopen_rsk = null;
    // The queue of the listener the request names now: after migration,
    // one that never counted it.
    const fq = this.fastopenqOf(req.listener);
    fq.qlen--;
    req.tfo_listener = false;
    if (req.sk !== null) {
      // Not accepted yet: the accept queue still owns the request.
      req.sk = null;
      return;
    }
    if (reset && req.listener.state === 'LISTEN') {
      // Kept 60 s against TFO spoofing, and counted in the queue meanwhile.
      req.parked = true;
      fq.qlen++;
      this.parked.push(req);
      return;
    }
    this.reqskMaybeFree(req);
  }

  /** The listener's Fast Open queue: a struct inside the listener in the
   * kernel, so it counts even where Fast Open was never sized. */
  protected fastopenqOf(l: Sock): FastOpenQueue {
    l.fastopenq ??= { maxQlen: 0, qlen: 0 };
    return l.fastopenq;
  }

  /** A parked request leaves the Fast Open queue's reset list: by age, it
   * also leaves the count; inet_csk_listen_stop() just puts it. */
  private unpark(req: RequestSock, uncount: boolean): void {
    req.parked = false;
    if (uncount) this.fastopenqOf(req.listener).qlen--;
    this.reqskMaybeFree(req);
  }

  /** tcp_done(): the connection is over; an orphan is destroyed now. */
  private tcpDone(sk: Sock, reset: boolean, path = 'tcp_done'): void {
    sk.state = 'CLOSE';
    this.putPort(sk);
    this.reqskFastopenRemove(sk, reset);
    this.unhashChild(sk);
    if (sk.dead) this.destroySock(sk, `${path} → inet_csk_destroy_sock`);
  }

  private unhashChild(sk: Sock): void {
    if (sk.conn !== undefined && this.established.get(sk.conn) === sk) this.established.delete(sk.conn);
  }

  /** tcp_close() of the last file reference. A connection with nothing
   * unread sends its FIN (tcp_close_state()) and is orphaned: it stays in
   * the established hash, in FIN_WAIT1, until tcp_done(); with data unread
   * it is reset. Anything in TCP_CLOSE by then is destroyed now. */
  private tcpClose(sk: Sock): void {
    if (!sk.alive) return;
    if (sk.state === 'LISTEN') this.listenStop(sk);
    sk.dead = true;
    if (!sk.unread && (sk.state === 'ESTABLISHED' || sk.state === 'SYN_RECV' || sk.state === 'FIN_WAIT1') && sk.conn !== undefined && this.established.get(sk.conn) === sk) {
      sk.state = 'FIN_WAIT1';
      return;
    }
    sk.state = 'CLOSE';
    this.reqskFastopenRemove(sk, false);
    this.unhashChild(sk);
    this.destroySock(sk, 'tcp_close → inet_csk_destroy_sock');
  }

  /** inet_csk_destroy_sock() then the final sock_put(). `path` is how the
   * socket got here: a leak is blamed on the socket that died holding a
   * buffer, by the path that destroyed it. */
  private destroySock(sk: Sock, path: string): void {
    if (!sk.alive) return;
    this.feature.destroySock(this, sk);
    sk.alive = false;
    this.unhashChild(sk);
    if (sk.destruct === 'tcp_sock_destruct') this.feature.sockDestruct(this, sk);
    this.ledger.ownerFreed(sockOwner(sk), DESTROY_SOCK, path);
  }

  /** tcp_set_state(TCP_CLOSE), then inet_csk_listen_stop(). */
  private listenStop(l: Sock): void {
    l.state = 'CLOSE';
    this.reuseportDetachSock(l);
    if (this.profile.era === '4.1') {
      // 4.1: reqsk_queue_destroy() frees the SYN table with the listener.
      for (const req of [...this.requests.values()]) if (req.listener === l) this.reqskUnhash(req);
    }
    // Today requests stay in the established hash; an ACK or their timer
    // finds the listener gone and drops them, or migrates them.
    for (const { req, child } of l.acceptQueue.splice(0)) {
      req.queued = false;
      const nsk = this.listenStopTarget(l, req);
      if (nsk !== undefined) {
        this.migrateChild(nsk, req, child);
        continue;
      }
      if (req.tfo_listener) {
        req.sk = null;
        this.reqskFastopenRemove(child, false);
      }
      child.dead = true;
      this.tcpDone(child, false, 'inet_csk_listen_stop → tcp_done');
      this.destroySock(child, 'inet_csk_listen_stop → inet_csk_destroy_sock');
      this.reqskMaybeFree(req);
    }
    // The reset Fast Open requests kept on the listener's queue go with it.
    for (const req of this.parked.filter((r) => r.listener === l)) {
      this.parked.splice(this.parked.indexOf(req), 1);
      this.unpark(req, false);
    }
  }

  /** reuseport_migrate_sock() for a child queued on a listener that stops:
   * a Fast Open child still waiting for its final ACK moves too (measured),
   * its request cloned for the new listener. */
  protected listenStopTarget(l: Sock, req: RequestSock): Sock | undefined {
    return this.reuseportMigrateSock(l, req.conn);
  }

  /** inet_csk_listen_stop() migrating a queued child: a clone of its
   * request goes into `nsk`'s queue with the child as it is (its flag and
   * saved SYN from the old listener); the old request is reset and put. */
  protected migrateChild(nsk: Sock, req: RequestSock, child: Sock): void {
    const nreq = this.inetReqskClone(req, nsk);
    // A Fast Open child's fastopen_rsk names the clone now, so the old
    // request has no holder left but this put; nsk's queue never counted
    // the clone, though giving it back will uncount it there (the kernel's).
    req.tfo_listener = false;
    // inet_csk_reqsk_queue_add(): nsk listens, as migration picked it now.
    nreq.queued = true;
    nsk.acceptQueue.push({ req: nreq, child });
    this.feature.reqskMigrateReset?.(this, req, nreq);
    this.reqskMaybeFree(req);
  }

  /** A listener on the service port that receives an IP version a socket
   * of `domain` would receive too (inet_csk_bind_conflict()). */
  private serviceListener(domain: Domain): Sock | undefined {
    for (const sk of this.socks) if (sk.alive && sk.onServicePort && sk.state === 'LISTEN' && overlaps(sk.domain, domain)) return sk;
    return undefined;
  }

  /** __inet_lookup_listener() -> inet_lhash2_lookup(): the first listener
   * met with the best score (`if (score > hiscore)`), in hash order, which
   * for two groups' AF_INET6 members is the order they listened in; and,
   * if it is in a group, reuseport_select_sock() of that group: the
   * program's index `to` modulo the group's size. */
  protected lookupListener(version: 4 | 6, to = 0): Sock | undefined {
    let best: Sock | undefined;
    for (const sk of this.socks) {
      if (!sk.alive || !sk.onServicePort || sk.state !== 'LISTEN' || lookupScore(sk.domain, version) < 0) continue;
      const score = lookupScore(sk.domain, version);
      const bestScore = best === undefined ? -1 : lookupScore(best.domain, version);
      if (best === undefined || score > bestScore || (score === bestScore && sk.listenedAt < best.listenedAt)) best = sk;
    }
    if (best === undefined) return undefined;
    const group = this.reuseGroups[this.reuseKey(best)];
    if (!group.includes(best)) return best;
    // 4.1's pool counts only the listeners of the best score.
    const score = lookupScore(best.domain, version);
    const members = group.filter((m) => lookupScore(m.domain, version) === score);
    return members[((to % members.length) + members.length) % members.length];
  }

  /** inet_csk_reqsk_queue_len(): today the hashed requests only; a Fast
   * Open request is never hashed (tcp_conn_request()). 4.1 as modelled
   * counts the Fast Open queue too. */
  private requestsOf(l: Sock): number {
    let n = 0;
    for (const req of this.requests.values()) if (req.listener === l) n++;
    if (l.fastopenq && this.profile.era === '4.1') n += l.fastopenq.qlen;
    return n;
  }

  private lowestFreeFd(): number {
    for (let fd = 0; fd < MAX_FDS; fd++) if (this.files[fd] === undefined && !this.reserved.has(fd)) return fd;
    return -1;
  }
}

const DESTROY_SOCK = 'net/ipv4/inet_connection_sock.c inet_csk_destroy_sock';
const REQSK_FREE = 'include/net/request_sock.h reqsk_free';

/** Drive a run to completion on one thread: a lock held by nobody else
 * never blocks, so a Blocked yield here is a harness or model defect. */
export function runToCompletion(run: OpRun): Outcome {
  for (;;) {
    const r = run.next();
    if (r.done) return r.value;
    const y: Yield = r.value;
    if (typeof y !== 'string') throw new Error(`single-thread run blocked on ${y.blocked}`);
  }
}
