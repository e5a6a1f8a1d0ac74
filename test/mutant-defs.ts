// Implementations with one small defect planted each: the harness must find
// every one, by the oracle expected to catch it, whatever the seed.
import type { VerifyOptions } from '../api/verify.ts';
import { linuxFeature } from '../model/impl/linux.ts';
import { stackImplementation, type StackClass } from '../model/impl/stack/adapter.ts';
import type { Gen, SavedSynFeature } from '../model/impl/stack/feature.ts';
import { Kernel } from '../model/impl/stack/kernel.ts';
import { Lock, reqOwner, sockOwner, type RequestSock, type Sock } from '../model/impl/stack/structs.ts';
import type { Implementation } from '../model/impl/types.ts';
import { fail, ok, TCP_SAVE_SYN, type Outcome } from '../model/ops.ts';
import { MAX_FDS } from '../model/spec/world.ts';

export interface Mutant {
  name: string;
  /** The oracle expected to catch it. */
  oracle: string;
  /** Where it shows: in a single-thread case, or only in a race. */
  lane: 'single-thread' | 'concurrent';
  feature: Partial<SavedSynFeature>;
  /** A defect in the stack rather than in the feature's hooks. */
  stack?: StackClass;
  /** The mutant's own verify bounds: the smallest alphabet and depth in
   * which its shortest counterexample lies (scripts/verify-mutants.ts). */
  verify?: MutantBounds;
}

/** What of verify's options a mutant's bounds name. */
export type MutantBounds = Pick<VerifyOptions, 'depth' | 'peers' | 'fds' | 'shapes' | 'groups' | 'families' | 'kinds' | 'pairDepth' | 'pairFrom'>;

function lowestFree(k: Kernel): number {
  for (let fd = 0; fd < MAX_FDS; fd++) if (k.files[fd] === undefined) return fd;
  return -1;
}

/** dup() that gives the new descriptor a socket of its own, a copy of the
 * old one with a copy of its saved SYN, instead of the same file. */
class DupCopies extends Kernel {
  protected override *sysDup(sk: Sock): Gen<Outcome> {
    const fd = lowestFree(this);
    if (fd < 0) return fail('EMFILE');
    yield 'fs/file.c:ksys_dup fd_install';
    const copy: Sock = {
      ...sk, id: this.socks.length, lock: new Lock(`sk${this.socks.length}.lock`), fileRefs: 0, fileClosed: false, fdRefs: 1,
      acceptQueue: [], fastopen_rsk: null, tp: { ...sk.tp },
    };
    this.socks.push(copy);
    const h = sk.tp.saved_syn ?? 0;
    if (h) copy.tp.saved_syn = this.kmalloc(this.kmemData(h), sockOwner(copy), 'mutant', this.ledger.conn(h)!);
    this.files[fd] = copy;
    return ok(fd);
  }
}

/** dup() that installs the file without taking a reference for the new
 * descriptor: closing either one closes the socket under the other. */
class DupTakesNoReference extends Kernel {
  protected override *sysDup(sk: Sock): Gen<Outcome> {
    const out = yield* super.sysDup(sk);
    if (out.ret >= 0) sk.fdRefs--;
    return out;
  }
}

/** dup() that installs the file but leaves it marked released: a close that
 * ran while the dup was in flight destroys the socket when the dup returns,
 * under the descriptor the dup just made. */
class DupAfterCloseReleases extends Kernel {
  protected override *sysDup(sk: Sock): Gen<Outcome> {
    const out = yield* super.sysDup(sk);
    // The new descriptor is the only one left: the old one's close ran
    // meanwhile, and its release is not undone.
    if (out.ret >= 0 && sk.fdRefs === 1) sk.fileClosed = true;
    return out;
  }
}

/** The listener lookup that ignores the SYN's family: the first socket
 * listening on the port takes every SYN, a v6only one IPv4 peers too. */
class LookupIgnoresFamily extends Kernel {
  protected override lookupListener(version: 4 | 6): Sock | undefined {
    return super.lookupListener(version) && this.socks.find((sk) => sk.alive && sk.onServicePort && sk.state === 'LISTEN');
  }
}

/** An ACK for a request whose listener is gone handed to whichever socket
 * listens on the port now, as if migrated: the new listener's child with
 * the old listener's copy. */
class NewListenerTakesRequests extends Kernel {
  protected override *checkReq(t: number, req: RequestSock): Gen<void> {
    if (req.listener.state !== 'LISTEN') {
      const now = this.socks.find((s) => s.alive && s.onServicePort && s.state === 'LISTEN');
      if (now) req.listener = now;
    }
    yield* super.checkReq(t, req);
  }
}

/** shutdown() that frees the saved SYN as a disconnect would. */
class ShutdownFrees extends Kernel {
  protected override *sysShutdown(sk: Sock, t: number, how: number): Gen<Outcome> {
    const out = yield* super.sysShutdown(sk, t, how);
    if (out.ret === 0) this.feature.disconnect(this, sk);
    return out;
  }
}

/** shutdown(SHUT_RD) of a listener that leaves it listening, as SHUT_WR does. */
class ShutdownKeepsListening extends Kernel {
  protected override *sysShutdown(sk: Sock, t: number, how: number): Gen<Outcome> {
    if (sk.state === 'LISTEN' && (how === 0 || how === 2)) return yield* super.sysShutdown(sk, t, 1);
    return yield* super.sysShutdown(sk, t, how);
  }
}

/** Every SYN to the group's first listener, whatever the program says. */
class SteersToFirst extends Kernel {
  protected override lookupListener(version: 4 | 6, to = 0): Sock | undefined {
    return super.lookupListener(version, 0 * to);
  }
}

/** A listener leaving the group closes the gap, keeping the others' order,
 * instead of giving its slot to the last one. */
class GroupKeepsOrder extends Kernel {
  protected override reuseportDetachSock(sk: Sock): void {
    const group = this.reuseGroups[sk.domain];
    const i = group.indexOf(sk);
    if (i >= 0) group.splice(i, 1);
  }
}

/** A queued child migrated at the old listener's close takes the new
 * listener's flag, as if cloned from it. */
class MigratedChildTakesNewFlag extends Kernel {
  protected override migrateChild(nsk: Sock, req: RequestSock, child: Sock): void {
    child.tp.save_syn = nsk.tp.save_syn ?? 0;
    super.migrateChild(nsk, req, child);
  }
}

/** A Fast Open child still waiting for its final ACK dies with its
 * listener instead of moving with the other queued children. */
class FastOpenChildStays extends Kernel {
  protected override listenStopTarget(l: Sock, req: RequestSock): Sock | undefined {
    return req.tfo_listener ? undefined : super.listenStopTarget(l, req);
  }
}

/** The moved Fast Open request is counted in its new listener's Fast Open
 * queue, as if it had arrived there. */
class MovedFastOpenCounted extends Kernel {
  protected override migrateChild(nsk: Sock, req: RequestSock, child: Sock): void {
    if (req.tfo_listener) this.fastopenqOf(nsk).qlen++;
    super.migrateChild(nsk, req, child);
  }
}

/** A listen() after SHUT_RD keeps the Fast Open queue's count of the last
 * listen, requests long given back included. */
class ListenKeepsFastOpenCount extends Kernel {
  protected override *sysListen(sk: Sock, t: number, backlog: number): Gen<Outcome> {
    const kept = sk.fastopenq?.qlen;
    const out = yield* super.sysListen(sk, t, backlog);
    if (kept !== undefined && sk.fastopenq) sk.fastopenq.qlen = kept;
    return out;
  }
}

/** A reset Fast Open request is put at once instead of kept against
 * spoofing. */
class ResetFastOpenNotKept extends Kernel {
  protected override reqskFastopenRemove(sk: Sock, _reset: boolean): void {
    super.reqskFastopenRemove(sk, false);
  }
}

/** The SYN-ACK timer's clone replaces the request in the established hash
 * even when another CPU's ACK took the request meanwhile. */
class TimerCloneAlwaysInserted extends Kernel {
  protected override inetEhashInsert(nreq: RequestSock, oreq: RequestSock): boolean {
    if (!super.inetEhashInsert(nreq, oreq)) this.requests.set(oreq.conn, oreq);
    oreq.hashed = true;
    return true;
  }
}

// The kinds of op some mutants' bounds share: reading a kept SYN through a
// child; forming a SO_REUSEPORT group of two listeners of backlog 0; and
// moving what a member in mode 1 held when it leaves, with tcp_migrate_req
// on. One backlog, one mode and one setting are enough for each defect, and
// every value left out divides the states at each depth.
const READ: MutantBounds['kinds'] = ['setsockopt', 'listen', 'syn', 'ack', 'accept', 'getsockopt'];
const GROUP: NonNullable<MutantBounds['kinds']> = ['socket', 'reuseport', 'bind', 'listen=0', 'syn', 'ack', 'accept'];
const MIGRATION: NonNullable<MutantBounds['kinds']> = ['socket', 'reuseport', 'bind', 'listen=0', 'setsockopt=1', 'syn', 'close', 'tcp_migrate_req=1'];

export const MUTANTS: Mutant[] = [
  { name: 'disconnect keeps the copy', oracle: 'state', lane: 'single-thread', verify: { depth: 6, kinds: ['setsockopt', 'listen', 'syn', 'ack', 'accept', 'disconnect'] }, feature: { disconnect() {} } },
  { name: 'the request never frees its copy', oracle: 'leak', lane: 'single-thread', verify: { depth: 3, kinds: ['setsockopt', 'listen', 'syn'] }, feature: { reqskDestructor() {} } },
  { name: 'a destroyed socket never frees its copy', oracle: 'leak', lane: 'single-thread', verify: { depth: 4, kinds: ['setsockopt', 'listen', 'syn', 'ack'] }, feature: { destroySock() {} } },
  {
    name: 'the destructor frees the copy twice', oracle: 'ledger', lane: 'single-thread', verify: { depth: 4, kinds: ['setsockopt', 'listen', 'syn', 'ack'] },
    feature: {
      destroySock(k, sk) {
        const h = sk.tp.saved_syn ?? 0;
        k.ledger.put(h, sockOwner(sk), 'mutant');
        k.ledger.put(h, sockOwner(sk), 'mutant again');
        sk.tp.saved_syn = 0;
      },
    },
  },
  {
    name: 'the child does not inherit the listener\'s mode', oracle: 'state', lane: 'single-thread', verify: { depth: 5, kinds: ['setsockopt', 'listen', 'syn', 'ack', 'accept'] },
    feature: { createOpenreqChild(_k, _l, _req, child) { child.tp.save_syn = 0; } },
  },
  {
    name: 'a buffer too small frees the copy anyway', oracle: 'state', lane: 'single-thread', verify: { depth: 6, kinds: READ },
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        if (out?.errno === 'EINVAL' && out.optlen !== undefined) {
          k.ledger.put(sk.tp.saved_syn ?? 0, sockOwner(sk), 'mutant');
          sk.tp.saved_syn = 0;
        }
        return out;
      },
    },
  },
  {
    name: 'a successful read does not free the copy', oracle: 'state', lane: 'single-thread', verify: { depth: 6, kinds: READ },
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const h = sk.tp.saved_syn ?? 0;
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        if (out?.ret === 0 && out.bytes && h && optname !== TCP_SAVE_SYN) {
          // Undo the free: the socket keeps a fresh copy of the same bytes.
          sk.tp.saved_syn = k.kmalloc(out.bytes, sockOwner(sk), 'mutant', k.ledger.conn(h)!);
        }
        return out;
      },
    },
  },
  {
    // Wrong at once (the socket still shows its SYN), and a double free
    // waiting for the socket's destruction: the worse names it.
    name: 'a successful read frees the copy but keeps the pointer', oracle: 'ledger', lane: 'single-thread', verify: { depth: 6, kinds: READ },
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const h = sk.tp.saved_syn ?? 0;
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        if (out?.ret === 0 && out.bytes && h && optname !== TCP_SAVE_SYN) sk.tp.saved_syn = h;
        return out;
      },
    },
  },
  {
    name: 'too small a buffer does not report the size needed', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 6, kinds: READ },
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        return out?.errno === 'EINVAL' ? fail('EINVAL') : out;
      },
    },
  },
  {
    // The copy made of the IP header and the TCP header alone, as if the
    // network header were always sizeof(struct ipv6hdr) long.
    name: 'the saved headers drop IPv6 extension headers', oracle: 'bounds', lane: 'single-thread', verify: { depth: 6, shapes: 4, kinds: READ },
    feature: {
      *connRequest(k, t, sk, req, skb, wantCookie) {
        yield* linuxFeature.connRequest(k, t, sk, req, skb, wantCookie);
        const h = req.ireq.saved_syn ?? 0;
        const p = k.skb(skb);
        if (!h || p.extHeaderLen === 0) return;
        const kept = k.kmemData(h);
        const ip = kept.length - p.networkLen - p.tcpHeaderLen;
        const cut = Uint8Array.from([...kept.subarray(0, ip + 40), ...kept.subarray(ip + p.networkLen)]);
        cut[ip + 6] = 6; // next header: TCP
        k.ledger.put(h, reqOwner(req), 'mutant');
        req.ireq.saved_syn = k.kmalloc(cut, reqOwner(req), 'mutant', p.conn);
      },
    },
  },
  {
    // An IPv4 peer of a dual-stack listener kept as the IPv6 header the
    // socket shows it as: v4-mapped addresses, an ipv6hdr in place of the iphdr.
    name: 'a v4-mapped SYN is saved as IPv6', oracle: 'bounds', lane: 'single-thread', verify: { depth: 3, kinds: ['setsockopt', 'listen', 'syn'] },
    feature: {
      *connRequest(k, t, sk, req, skb, wantCookie) {
        yield* linuxFeature.connRequest(k, t, sk, req, skb, wantCookie);
        const h = req.ireq.saved_syn ?? 0;
        const p = k.skb(skb);
        if (!h || p.family !== 4 || sk.domain !== 'inet6') return;
        const kept = k.kmemData(h);
        const ip = kept.length - p.networkLen - p.tcpHeaderLen;
        const v4 = kept.subarray(ip, ip + p.networkLen);
        const mapped = (a: Uint8Array): number[] => [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...a];
        const ip6 = [0x60, 0, 0, 0, 0, p.tcpHeaderLen, 6, v4[8], ...mapped(v4.subarray(12, 16)), ...mapped(v4.subarray(16, 20))];
        const copy = Uint8Array.from([...kept.subarray(0, ip), ...ip6, ...kept.subarray(ip + p.networkLen)]);
        if (ip > 0) copy[ip - 1] = 0xdd; // ETH_P_IPV6
        if (ip > 0) copy[ip - 2] = 0x86;
        k.ledger.put(h, reqOwner(req), 'mutant');
        req.ireq.saved_syn = k.kmalloc(copy, reqOwner(req), 'mutant', p.conn);
      },
    },
  },
  {
    // The request keeps a reference to the SYN's skb besides its copy, and
    // drops it only when it is freed: no leak, but a whole frame held per
    // request, past what today's kernel holds.
    name: 'the request holds the SYN\'s skb besides the copy', oracle: 'memory', lane: 'single-thread', verify: { depth: 3, kinds: ['setsockopt', 'listen', 'syn'] },
    feature: {
      *connRequest(k, t, sk, req, skb, wantCookie) {
        yield* linuxFeature.connRequest(k, t, sk, req, skb, wantCookie);
        if (req.ireq.saved_syn) req.ireq.syn_skb = k.ledger.get(skb, reqOwner(req), 'mutant skb_get');
      },
      reqskDestructor(k, req) {
        linuxFeature.reqskDestructor(k, req);
        k.ledger.put(req.ireq.syn_skb ?? 0, reqOwner(req), 'mutant consume_skb');
        req.ireq.syn_skb = 0;
      },
    },
  },
  {
    name: 'mode 2 forgets the MAC header', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 6, kinds: READ },
    feature: {
      *connRequest(k, t, sk, req, skb, wantCookie) {
        const mode = sk.tp.save_syn;
        if (mode === 2) sk.tp.save_syn = 1;
        try {
          yield* linuxFeature.connRequest(k, t, sk, req, skb, wantCookie);
        } finally {
          sk.tp.save_syn = mode;
        }
      },
    },
  },
  {
    name: 'the request keeps a reference it handed on', oracle: 'ledger', lane: 'single-thread', verify: { depth: 4, kinds: ['setsockopt', 'listen', 'syn', 'ack'] },
    feature: {
      *synRecvSock(k, t, req, child, ownReq) {
        const h = req.ireq.saved_syn ?? 0;
        yield* linuxFeature.synRecvSock(k, t, req, child, ownReq);
        if (ownReq) req.ireq.saved_syn = h;
      },
    },
  },
  {
    // Only seen when two CPUs take the same ACK: the loser moves the copy to
    // the child it is about to drop, before the winner moves it to its own.
    name: 'the loser of own_req moves the copy too', oracle: 'linearizability', lane: 'concurrent', verify: { depth: 3, pairDepth: 3, kinds: ['setsockopt', 'listen', 'syn', 'ack', 'accept', 'getsockopt'] },
    feature: {
      *synRecvSock(k, t, req, child) {
        yield* linuxFeature.synRecvSock(k, t, req, child, true);
      },
    },
  },
  { name: 'dup copies the socket instead of sharing it', oracle: 'memory', lane: 'single-thread', verify: { depth: 2, kinds: ['setsockopt', 'dup'] }, feature: {}, stack: DupCopies },
  { name: 'closing one dup closes the socket under the other', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 4, kinds: ['listen', 'accept', 'close', 'dup'] }, feature: {}, stack: DupTakesNoReference },
  {
    // Only seen when a close of the last descriptor lands while a dup of it
    // is between fget_raw() and fd_install(), and only through the new
    // descriptor, which the pair's reader reads after both return: a third
    // descriptor in bounds, naming a file whose socket was released.
    name: 'a dup racing the last close installs a released file', oracle: 'crash', lane: 'concurrent',
    verify: { depth: 5, pairDepth: 5, fds: 3, kinds: ['listen=0', 'setsockopt=1', 'syn', 'ack', 'accept', 'close', 'dup'] }, feature: {}, stack: DupAfterCloseReleases,
  },
  { name: 'a new listener on the port completes the old one\'s requests', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 8, kinds: ['socket', 'listen', 'close', 'bind', 'syn', 'ack', 'accept'] }, feature: {}, stack: NewListenerTakesRequests },
  { name: 'the listener lookup ignores the SYN\'s family', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 9, fds: 3, families: true, kinds: ['socket', 'bind', 'listen=0', 'syn', 'ack', 'accept'] }, feature: {}, stack: LookupIgnoresFamily },
  { name: 'shutdown frees the saved SYN', oracle: 'state', lane: 'single-thread', verify: { depth: 6, kinds: ['setsockopt', 'listen', 'syn', 'ack', 'accept', 'shutdown'] }, feature: {}, stack: ShutdownFrees },
  { name: 'shutdown(SHUT_RD) leaves a listener listening', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 3, kinds: ['listen', 'accept', 'shutdown'] }, feature: {}, stack: ShutdownKeepsListening },
  { name: 'every SYN goes to the group\'s first listener', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 9, groups: true, kinds: GROUP }, feature: {}, stack: SteersToFirst },
  { name: 'a listener leaving the group keeps the others\' order', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 11, groups: true, kinds: [...GROUP, 'shutdown=0', 'tcp_migrate_req=1'] }, feature: {}, stack: GroupKeepsOrder },
  {
    name: 'a SYN is saved in the mode of the group\'s first listener', oracle: 'state', lane: 'single-thread', verify: { depth: 10, groups: true, kinds: [...GROUP, 'setsockopt=1'] },
    feature: {
      *connRequest(k, t, sk, req, skb, wantCookie) {
        yield* linuxFeature.connRequest(k, t, k.reuseGroups[sk.domain][0] ?? sk, req, skb, wantCookie);
      },
    },
  },
  {
    name: 'a child takes the flag of the group\'s first listener', oracle: 'state', lane: 'single-thread', verify: { depth: 10, groups: true, kinds: [...GROUP, 'setsockopt=1'] },
    feature: { createOpenreqChild(k, l, _req, child) { child.tp.save_syn = (k.reuseGroups[l.domain][0] ?? l).tp.save_syn; } },
  },
  {
    name: 'the migrated request keeps the saved SYN its clone took', oracle: 'ledger', lane: 'single-thread', verify: { depth: 11, groups: true, kinds: [...MIGRATION, 'synackTimeout'] },
    feature: { reqskMigrateReset() {} },
  },
  {
    name: 'reqsk_migrate_reset frees the saved SYN the clone took', oracle: 'ledger', lane: 'single-thread', verify: { depth: 11, groups: true, kinds: [...MIGRATION, 'synackTimeout'] },
    feature: {
      reqskMigrateReset(k, req) {
        k.ledger.put(req.ireq.saved_syn ?? 0, reqOwner(req), 'mutant');
        req.ireq.saved_syn = 0;
      },
    },
  },
  {
    name: 'migration drops the saved SYN', oracle: 'leak', lane: 'single-thread', verify: { depth: 11, groups: true, kinds: [...MIGRATION, 'synackRetransmit'] },
    feature: {
      reqskClone(_k, _req, nreq) { nreq.ireq.saved_syn = 0; },
      reqskMigrateReset(k, req, to) { linuxFeature.reqskMigrateReset?.(k, req, to); },
    },
  },
  { name: 'a migrated child takes the new listener\'s flag', oracle: 'state', lane: 'single-thread', verify: { depth: 12, groups: true, kinds: [...MIGRATION, 'ack', 'accept'] }, feature: {}, stack: MigratedChildTakesNewFlag },
  { name: 'a Fast Open child waiting for its ACK does not migrate', oracle: 'lockstep', lane: 'single-thread', verify: { depth: 11, groups: true, kinds: ['socket', 'reuseport', 'bind', 'listen=1', 'fastOpenSyn', 'close', 'accept', 'tcp_fastopen=1', 'tcp_migrate_req=1'] }, feature: {}, stack: FastOpenChildStays },
  {
    name: 'a request migrated on its ACK keeps the old listener\'s flag', oracle: 'state', lane: 'single-thread', verify: { depth: 12, groups: true, kinds: [...MIGRATION, 'ack', 'accept'] },
    feature: { createOpenreqChild(_k, l, req, child) { child.tp.save_syn = req.listener.tp.save_syn ?? l.tp.save_syn; } },
  },
  {
    // Only seen when the timer migrates on one CPU while the ACK migrates
    // the same request on another, after the ten ops that leave a request
    // at a closed group member: pairs start from the states ten ops deep
    // only, since every state up to depth 10 is more than any budget pairs.
    name: 'the timer\'s clone replaces a request the ACK took', oracle: 'ledger', lane: 'concurrent',
    verify: { depth: 10, pairDepth: 10, pairFrom: 10, groups: true, kinds: [...MIGRATION, 'ack', 'synackRetransmit'] }, feature: {}, stack: TimerCloneAlwaysInserted,
  },
];

export function mutant(m: Mutant, withView = true): Implementation {
  const impl = stackImplementation({
    name: 'linux-mutant', profile: 'linux', description: m.name, feature: { ...linuxFeature, ...m.feature }, stack: m.stack,
  });
  if (withView) return impl;
  // As a third-party module without view(): the state oracle is blind and
  // the oracles on what userspace sees must do the work.
  return { ...impl, create: (env: Parameters<typeof impl.create>[0]) => ({ run: impl.create(env).run }) };
}


/** Defects of the Fast Open queue's count, which shows only in a long,
 * particular sequence (a Fast Open child held before its final ACK, a
 * listener gone or listening anew, a second Fast Open SYN accepted before
 * its ACK) that random cases reach too seldom for the default budget: each
 * is held to the lane-measured sequences (properties/lane-paths.ts) that
 * show it, and verify finds each within its bounds. */
export const COUNT_MUTANTS: (Mutant & { caughtBy: string[] })[] = [
  {
    name: 'a moved Fast Open request is counted by its new listener', oracle: 'lockstep', lane: 'single-thread', feature: {}, stack: MovedFastOpenCounted,
    verify: { depth: 13, peers: 2, groups: true, kinds: ['socket', 'reuseport', 'bind', 'listen=1', 'fastOpenSyn', 'close', 'accept', 'tcp_fastopen=1', 'tcp_migrate_req=1'] },
    caughtBy: ['tfo.migrate1.uncounted-on-b', 'tfo.migrate1.ack-below-zero'],
  },
  {
    name: 'listen() keeps the Fast Open queue\'s count', oracle: 'lockstep', lane: 'single-thread', feature: {}, stack: ListenKeepsFastOpenCount,
    verify: { depth: 8, peers: 2, kinds: ['listen=1', 'fastOpenSyn', 'accept', 'shutdown=0', 'tcp_fastopen=1'] },
    caughtBy: ['tfo.relisten.emptied', 'tfo.relisten.ack-below-zero', 'tfo.relisten.reset-kept-freed'],
  },
  {
    name: 'a reset Fast Open request is not kept', oracle: 'lockstep', lane: 'single-thread', feature: {}, stack: ResetFastOpenNotKept,
    verify: { depth: 8, peers: 2, kinds: ['listen=1', 'fastOpenSyn', 'accept', 'rst', 'close', 'tcp_fastopen=1'] },
    caughtBy: ['tfo.reset-kept'],
  },
];
