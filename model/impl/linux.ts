// Linux today (4.4 and later, lockless listener): the headers are copied
// into a kmalloc'd struct saved_syn before Fast Open is tried, moved to the
// child by the own_req winner, and freed with the request, the socket, on
// disconnect, or after a successful read under the socket lock.

import { fail, TCP_SAVE_SYN, TCP_SAVED_SYN, type Outcome } from '../ops.ts';
import { headerLength } from '../packet.ts';
import type { Gen, SavedSynFeature, UserOpt } from './stack/feature.ts';
import type { Kernel } from './stack/kernel.ts';
import { reqOwner, sockOwner, type RequestSock, type Sock } from './stack/structs.ts';
import { stackImplementation } from './stack/adapter.ts';
import { siteLabel } from './site.ts';

const SITE = {
  recordSyn: 'net/ipv4/tcp_input.c tcp_reqsk_record_syn',
  moveSyn: 'include/net/tcp.h tcp_move_syn',
  reqskFree: 'net/ipv4/request_sock.c __reqsk_free',
  migrateReset: 'include/net/request_sock.h reqsk_migrate_reset',
  savedSynFree: 'include/linux/tcp.h tcp_saved_syn_free',
  setsockopt: 'net/ipv4/tcp.c do_tcp_setsockopt',
  getsockopt: 'net/ipv4/tcp.c do_tcp_getsockopt',
} as const;
const at = siteLabel;
const INT_SIZE = 4;

/** tcp_saved_syn_free()'s line, by the caller that freed: labels made once,
 * not per call. */
const FREED_BY = {
  tcp_v4_destroy_sock: at(SITE.savedSynFree, 'kfree(tp->saved_syn); /* tcp_v4_destroy_sock */'),
  tcp_disconnect: at(SITE.savedSynFree, 'kfree(tp->saved_syn); /* tcp_disconnect */'),
  do_tcp_getsockopt: at(SITE.savedSynFree, 'kfree(tp->saved_syn); /* do_tcp_getsockopt */'),
} as const;

function savedSynFree(k: Kernel, sk: Sock, why: keyof typeof FREED_BY): void {
  k.ledger.put(sk.tp.saved_syn ?? 0, sockOwner(sk), FREED_BY[why]);
  sk.tp.saved_syn = 0;
}

export const linuxFeature: SavedSynFeature = {
  reqskAlloc(_k: Kernel, req: RequestSock): void {
    req.ireq.saved_syn = 0;
  },

  *connRequest(k: Kernel, _t: number, sk: Sock, req: RequestSock, skb: number, wantCookie: boolean): Gen<void> {
    if (wantCookie) return;
    yield at(SITE.recordSyn, 'if (tcp_sk(sk)->save_syn)');
    const mode = sk.tp.save_syn ?? 0;
    if (!mode) return;
    const p = k.skb(skb);
    const macLen = mode === 2 ? p.macLen : 0;
    const len = macLen + headerLength(p, false);
    const start = p.macLen - macLen;
    const site = at(SITE.recordSyn, 'memcpy(saved_syn->data, skb_mac_header / skb_network_header, len);');
    k.ledger.read(skb, 'rx', site);
    req.ireq.saved_syn = k.kmalloc(p.bytes.slice(start, start + len), reqOwner(req),
      at(SITE.recordSyn, 'saved_syn = kmalloc(struct_size(saved_syn, data, len), GFP_ATOMIC);'), p.conn);
  },

  createOpenreqChild(): void {
    // The child's save_syn is the listener's, cloned by sk_clone_lock().
  },

  *synRecvSock(k: Kernel, _t: number, req: RequestSock, child: Sock, ownReq: boolean): Gen<void> {
    if (!ownReq) return;
    yield at(SITE.moveSyn, 'tp->saved_syn = req->saved_syn; req->saved_syn = NULL;');
    const h = req.ireq.saved_syn ?? 0;
    k.ledger.transfer(h, reqOwner(req), sockOwner(child), at(SITE.moveSyn, 'tp->saved_syn = req->saved_syn;'));
    child.tp.saved_syn = h;
    req.ireq.saved_syn = 0;
  },

  *accept(): Gen<void> {
    // Nothing: the child already holds its copy.
  },

  reqskClone(): void {
    // inet_reqsk_clone()'s memcpy: the clone shares req->saved_syn until
    // one of the two is reset.
  },

  reqskMigrateReset(k: Kernel, req: RequestSock, to?: RequestSock): void {
    const h = req.ireq.saved_syn ?? 0;
    if (h && to) k.ledger.transfer(h, reqOwner(req), reqOwner(to), at(SITE.migrateReset, 'req->saved_syn = NULL; /* the clone keeps it */'));
    req.ireq.saved_syn = 0;
  },

  reqskDestructor(k: Kernel, req: RequestSock): void {
    k.ledger.put(req.ireq.saved_syn ?? 0, reqOwner(req), at(SITE.reqskFree, 'kfree(req->saved_syn);'));
    req.ireq.saved_syn = 0;
  },

  destroySock(k: Kernel, sk: Sock): void {
    savedSynFree(k, sk, 'tcp_v4_destroy_sock');
  },

  sockDestruct(): void {
    // Today's sockets keep nothing for sk_destruct.
  },

  disconnect(k: Kernel, sk: Sock): void {
    savedSynFree(k, sk, 'tcp_disconnect');
  },

  *setsockopt(k: Kernel, t: number, sk: Sock, optname: number, val: number): Gen<Outcome | undefined> {
    if (optname !== TCP_SAVE_SYN) return undefined;
    yield* k.lock(sk.lock, t, at(SITE.setsockopt, 'sockopt_lock_sock(sk);'));
    let out: Outcome = { ret: 0 };
    yield at(SITE.setsockopt, 'case TCP_SAVE_SYN: if (val < 0 || val > 2)');
    if (val < 0 || val > 2) out = fail('EINVAL');
    else sk.tp.save_syn = val;
    k.unlock(sk.lock, t);
    return out;
  },

  *getsockopt(k: Kernel, t: number, sk: Sock, optname: number, user: UserOpt): Gen<Outcome | undefined> {
    if (optname === TCP_SAVE_SYN) {
      // The generic path: len = min_t(unsigned int, len, sizeof(int)).
      const len = Math.min(user.len, INT_SIZE);
      yield at(SITE.getsockopt, 'case TCP_SAVE_SYN: val = tp->save_syn;');
      const all = new Uint8Array(INT_SIZE);
      new DataView(all.buffer).setInt32(0, sk.tp.save_syn ?? 0, true);
      return len === 0 ? { ret: 0, optlen: 0 } : { ret: 0, optlen: len, bytes: all.slice(0, len) };
    }
    if (optname !== TCP_SAVED_SYN) return undefined;
    const len = user.len;
    yield* k.lock(sk.lock, t, at(SITE.getsockopt, 'case TCP_SAVED_SYN: sockopt_lock_sock(sk);'));
    const h = sk.tp.saved_syn ?? 0;
    if (!h) {
      k.unlock(sk.lock, t);
      return { ret: 0, optlen: 0 };
    }
    const owner = sockOwner(sk);
    const data = k.kmemData(h);
    yield at(SITE.getsockopt, 'if (len < tcp_saved_syn_len(tp->saved_syn))');
    if (len < data.length) {
      k.unlock(sk.lock, t);
      return fail('EINVAL', data.length);
    }
    const copySite = at(SITE.getsockopt, 'copy_to_sockptr(optval, tp->saved_syn->data, len)');
    yield copySite;
    k.ledger.read(h, owner, copySite);
    const bytes = data.slice();
    savedSynFree(k, sk, 'do_tcp_getsockopt');
    k.unlock(sk.lock, t);
    return { ret: 0, optlen: bytes.length, bytes };
  },

  view(k: Kernel, sk: Sock) {
    const h = sk.tp.saved_syn ?? 0;
    return { flag: sk.tp.save_syn ?? 0, kept: h ? k.ledger.conn(h) ?? null : null };
  },
};

export default stackImplementation({
  name: 'linux',
  profile: 'linux',
  description: 'Linux today: a kmalloc\'d copy of the headers, moved on own_req',
  feature: linuxFeature,
});
