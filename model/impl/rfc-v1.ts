// The 2015 RFC patch "Allow TCP connections to cache SYN packet for userspace
// inspection", transliterated hunk by hunk. Defects are kept on purpose: the
// harness must find them. Each label names the patched file, the hunk and
// the line the step stands for; a `yield` is a point where another CPU or
// thread may run.

import { fail, ok, TCP_SAVED_SYN_RFC, type Errno, type Outcome } from '../ops.ts';
import type { BuiltPacket } from '../packet.ts';
import type { Gen, SavedSynFeature, UserOpt } from './stack/feature.ts';
import type { Kernel } from './stack/kernel.ts';
import { reqOwner, sockOwner, type RequestSock, type Sock } from './stack/structs.ts';
import { stackImplementation } from './stack/adapter.ts';
import { siteLabel } from './site.ts';

/** Labels: `file @@hunk@@ function | line`. */
export const HUNK = {
  reqskAlloc: 'net/ipv4/tcp_input.c @@ -6005,6 +6005,7 @@ inet_reqsk_alloc',
  connRequest: 'net/ipv4/tcp_input.c @@ -6163,6 +6164,9 @@ tcp_conn_request',
  openreqChild: 'net/ipv4/tcp_minisocks.c @@ -535,6 +535,7 @@ tcp_create_openreq_child',
  accept: 'net/ipv4/inet_connection_sock.c @@ -325,21 +325,26 @@ inet_csk_accept',
  v4ReqskDestructor: 'net/ipv4/tcp_ipv4.c @@ -853,6 +853,7 @@ tcp_v4_reqsk_destructor',
  v6ReqskDestructor: 'net/ipv6/tcp_ipv6.c @@ -475,6 +475,7 @@ tcp_v6_reqsk_destructor',
  sockDestruct: 'net/ipv4/tcp.c @@ -2227,6 +2227,8 @@ tcp_sock_destruct',
  setsockopt: 'net/ipv4/tcp.c @@ -2558,6 +2560,11 @@ do_tcp_setsockopt',
  getsockopt: 'net/ipv4/tcp.c @@ -2738,6 +2745,40 @@ do_tcp_getsockopt',
} as const;

export const at = siteLabel;

/** The line that sizes what getsockopt() copies: the patch copies from the
 * MAC header to the skb's tail, payload included. */
export interface BufszLine {
  site: string;
  of(syn: BuiltPacket): number;
}

export const rfcV1Feature: SavedSynFeature & { bufsz: BufszLine } = {
  bufsz: {
    site: at(HUNK.getsockopt, 'bufsz = (unsigned long)skb_tail_pointer(syn) - (unsigned long)eth_hdr(syn);'),
    of: (syn) => syn.bytes.length,
  },

  reqskAlloc(_k: Kernel, req: RequestSock): void {
    req.ireq.syn_skb = 0; // ireq->syn_skb = NULL;
  },

  *connRequest(k: Kernel, _t: number, sk: Sock, req: RequestSock, skb: number, wantCookie: boolean): Gen<void> {
    const site = at(HUNK.connRequest, 'if (!want_cookie && tp->saved_syn)');
    yield site;
    if (!wantCookie && sk.tp.saved_syn) {
      req.ireq.syn_skb = k.ledger.get(skb, reqOwner(req), at(HUNK.connRequest, 'inet_rsk(req)->syn_skb = skb_get(skb);'));
    }
  },

  createOpenreqChild(_k: Kernel, _l: Sock, _req: RequestSock, child: Sock): void {
    child.tp.syn_skb = 0; // newtp->syn_skb = NULL;
  },

  *synRecvSock(): Gen<void> {
    // The patch attaches nothing when the child is created.
  },

  *accept(k: Kernel, _t: number, sk: Sock, req: RequestSock, newsk: Sock): Gen<void> {
    yield at(HUNK.accept, 'tcp_sk(newsk)->saved_syn = tcp_sk(sk)->saved_syn;');
    newsk.tp.saved_syn = sk.tp.saved_syn ?? 0;
    yield at(HUNK.accept, 'if (inet_rsk(req)->syn_skb)');
    if (req.ireq.syn_skb) {
      newsk.tp.syn_skb = k.ledger.get(req.ireq.syn_skb, sockOwner(newsk),
        at(HUNK.accept, 'tcp_sk(newsk)->syn_skb = skb_get(inet_rsk(req)->syn_skb);'));
    }
  },

  reqskDestructor(k: Kernel, req: RequestSock): void {
    // A v4 SYN on a dual-stack listener still gets the IPv4 request ops.
    const hunk = req.packet.family === 6 ? HUNK.v6ReqskDestructor : HUNK.v4ReqskDestructor;
    k.ledger.put(req.ireq.syn_skb, reqOwner(req), at(hunk, 'consume_skb(inet_rsk(req)->syn_skb);'));
  },

  destroySock(): void {
    // tcp_v4_destroy_sock() is not touched by the patch.
  },

  sockDestruct(k: Kernel, sk: Sock): void {
    k.ledger.put(sk.tp.syn_skb ?? 0, sockOwner(sk), at(HUNK.sockDestruct, 'consume_skb(tcp_sk(sk)->syn_skb);'));
  },

  disconnect(): void {
    // tcp_disconnect() is not touched by the patch.
  },

  *setsockopt(k: Kernel, t: number, sk: Sock, optname: number, val: number): Gen<Outcome | undefined> {
    if (optname !== TCP_SAVED_SYN_RFC) return undefined;
    yield* k.lock(sk.lock, t, at(HUNK.setsockopt, 'lock_sock(sk);'));
    let err: Errno | undefined;
    yield at(HUNK.setsockopt, 'if (!((1 << sk->sk_state) & TCPF_LISTEN))');
    if (sk.state !== 'LISTEN') err = 'EINVAL';
    yield at(HUNK.setsockopt, 'tp->saved_syn = !!(val);');
    sk.tp.saved_syn = val !== 0 ? 1 : 0;
    k.unlock(sk.lock, t);
    return err ? fail(err) : ok();
  },

  *getsockopt(k: Kernel, _t: number, sk: Sock, optname: number, user: UserOpt): Gen<Outcome | undefined> {
    if (optname !== TCP_SAVED_SYN_RFC) return undefined;
    const owner = sockOwner(sk);
    // No lock_sock(): do_tcp_getsockopt() runs this case unlocked.
    yield at(HUNK.getsockopt, 'struct sk_buff *syn = xchg(&tp->syn_skb, NULL);');
    const syn = sk.tp.syn_skb ?? 0;
    sk.tp.syn_skb = 0;
    let ret: Errno;
    const len = user.len; // get_user(len, optlen)
    reset: {
      ret = 'EINVAL';
      yield at(HUNK.getsockopt, 'if ((1 << sk->sk_state) & TCPF_LISTEN)');
      if (sk.state === 'LISTEN') break reset;
      yield at(HUNK.getsockopt, 'if (!tp->saved_syn)');
      if (!sk.tp.saved_syn) break reset;
      ret = 'ENOENT';
      if (!syn) break reset;
      const bufszSite = this.bufsz.site;
      yield bufszSite;
      k.ledger.read(syn, owner, bufszSite);
      const frame = k.skb(syn).bytes;
      const bufsz = this.bufsz.of(k.skb(syn));
      ret = 'E2BIG';
      if (len < bufsz) break reset;
      yield at(HUNK.getsockopt, 'if (put_user(bufsz, optlen))');
      const copySite = at(HUNK.getsockopt, 'if (copy_to_user(optval, eth_hdr(syn), bufsz))');
      yield copySite;
      k.ledger.read(syn, owner, copySite);
      const bytes = frame.slice(0, bufsz);
      yield at(HUNK.getsockopt, 'consume_skb(syn);');
      k.ledger.put(syn, owner, at(HUNK.getsockopt, 'consume_skb(syn);'));
      return { ret: 0, optlen: bufsz, bytes };
    }
    const writeBack = at(HUNK.getsockopt, 'tp->syn_skb = syn;');
    yield writeBack;
    // Not the patch: the ledger stands for kmemleak here. Another reader
    // may have put the skb back since our xchg(); storing over it loses
    // the socket's only pointer to it.
    if (sk.tp.syn_skb && sk.tp.syn_skb !== syn) k.ledger.lost(sk.tp.syn_skb, owner, writeBack);
    sk.tp.syn_skb = syn;
    return fail(ret);
  },

  view(k: Kernel, sk: Sock) {
    const h = sk.tp.syn_skb ?? 0;
    return { flag: sk.tp.saved_syn ?? 0, kept: h ? k.ledger.conn(h) ?? null : null };
  },
};

export default stackImplementation({
  name: 'rfc-v1',
  profile: 'rfc-v1',
  description: 'the 2015 RFC patch as posted, defects kept',
  feature: rfcV1Feature,
});
