// The 2015 patch with the smallest repair of each finding the harness made
// on it. Everything not listed here is the patch as posted (./rfc-v1.ts).

import { fail, ok, TCP_SAVED_SYN_RFC, type Outcome } from '../ops.ts';
import { at, HUNK, rfcV1Feature, type BufszLine } from './rfc-v1.ts';
import type { Gen, SavedSynFeature, UserOpt } from './stack/feature.ts';
import type { Kernel } from './stack/kernel.ts';
import { sockOwner, type RequestSock, type Sock } from './stack/structs.ts';
import { stackImplementation } from './stack/adapter.ts';

/** The findings the harness makes on the 2015 patch, by the signature it
 * gives them, and the repair of each. The suites assert every one is still
 * found, and that the repaired implementation passes its minimal case. */
export const REPAIRS = {
  'setsockopt-refused-but-applied': {
    title: 'tcp: setsockopt(TCP_SAVED_SYN) returns -EINVAL on a non-listening socket but sets the flag anyway',
    severity: 'wrong-result',
    signature: 'state:setsockopt:flag',
    concurrent: false,
    finding: 'do_tcp_setsockopt() returns -EINVAL on a socket that is not listening, yet still sets tp->saved_syn',
    repair: 'break out of the case before the assignment when the socket is not listening',
    consequence: 'A caller told -EINVAL takes it that nothing changed, but the flag is set: a socket that goes on to listen() keeps every SYN although its owner was told the option was refused, and on an accepted socket the flag that getsockopt(TCP_SAVED_SYN) checks changes under it.',
  },
  'flag-copied-at-accept': {
    title: "tcp: inet_csk_accept() gives the child the listener's TCP_SAVED_SYN flag as of accept(), not of the SYN",
    severity: 'wrong-result',
    signature: 'state:accept:flag',
    concurrent: false,
    finding: 'inet_csk_accept() copies the listener\'s flag as it is at accept() time, not as it was when the SYN was cached',
    repair: 'record the listener\'s flag on the request in inet_reqsk_alloc() and copy that one to the child in inet_csk_accept()',
    consequence: 'Whether a SYN is kept follows the flag the listener had when it arrived, but the child\'s flag, which getsockopt(TCP_SAVED_SYN) checks first, is the one the listener has at accept(): turn the option off in between and the child answers -EINVAL while it holds its SYN; turn it on and the child answers -ENOENT for a SYN never kept. What a connection gets depends on when accept() ran.',
  },
  'unlocked-getsockopt-races': {
    title: 'tcp: do_tcp_getsockopt(TCP_SAVED_SYN) races with itself: a concurrent reader gets a spurious -ENOENT',
    severity: 'race',
    signature: 'linearizability:getsockopt:ENOENT',
    concurrent: true,
    finding: 'do_tcp_getsockopt() takes tp->syn_skb with xchg() and puts it back on every error path without the socket lock: a second reader in that window gets -ENOENT although the SYN is still there',
    repair: 'hold lock_sock() across the TCP_SAVED_SYN case, so the take, the checks and the write-back are one step to any other reader',
    consequence: 'Two threads reading one accepted socket at once can get -ENOENT for a SYN that nobody has read, and take it that the connection has none. The same window loses the skb when the second reader writes back last (racing-readers-lose-the-skb).',
  },
  'racing-readers-lose-the-skb': {
    title: 'tcp: do_tcp_getsockopt(TCP_SAVED_SYN) readers that race leak the syn_skb: a write-back of NULL overwrites the skb another reader put back',
    severity: 'leak',
    signature: 'leak:sk:net/ipv4/tcp.c do_tcp_getsockopt',
    concurrent: true,
    finding: 'a reader that took NULL from xchg() still stores it back into tp->syn_skb on its error path: when another reader has put the skb back in the meantime, the store overwrites the socket\'s only pointer to it',
    repair: 'hold lock_sock() across the TCP_SAVED_SYN case, so the take, the checks and the write-back are one step to any other reader',
    consequence: 'The SYN is gone for the connection (later reads answer -ENOENT) and its skb can never be freed: not by a read, not when the socket is destroyed. Every such race leaks a whole SYN, payload included.',
  },
  'payload-read-as-headers': {
    title: 'tcp: getsockopt(TCP_SAVED_SYN) copies the SYN to its tail: the data of a SYN comes back as "packet headers"',
    severity: 'wrong-result',
    signature: 'lockstep:getsockopt:length',
    concurrent: false,
    finding: 'do_tcp_getsockopt() sizes the copy as skb_tail_pointer(syn) - eth_hdr(syn), the whole skb: a SYN that carries data hands its payload to the reader with its headers, where the cover letter promises "the packet headers"',
    repair: 'size the copy to the end of the TCP header and its options: skb_transport_header(syn) + tcp_hdrlen(syn) - eth_hdr(syn)',
    consequence: 'The data a SYN carries (a Fast Open client\'s request, application bytes) reaches whoever reads the saved SYN as if it were header; and the buffer a reader must allow grows with the payload, so one sized for the largest headers (MAC, IP with options, TCP with options) fails with -E2BIG on a SYN that carries data.',
  },
  'unread-syn-leaks-on-close': {
    title: 'tcp: syn_skb leaks when an accepted socket is closed without reading it (tcp_sock_destruct not installed)',
    severity: 'leak',
    signature: 'leak:sk:net/ipv4/inet_connection_sock.c inet_csk_destroy_sock',
    concurrent: false,
    finding: 'the child\'s syn_skb is released only in tcp_sock_destruct(), which Linux installs only on sockets with a Fast Open queue: an accepted socket closed without reading its SYN leaks the skb',
    repair: 'release tp->syn_skb in tcp_v4_destroy_sock(), which every TCP socket reaches, instead of tcp_sock_destruct()',
    consequence: 'Every accepted connection whose SYN is not read leaks that skb, the whole SYN with any payload, when its socket is closed: with the option on, memory leaks at the rate connections arrive unless each of them is read.',
  },
} as const;

export type RepairId = keyof typeof REPAIRS;

/** The lock around the TCP_SAVED_SYN case: one repair for both races. */
const UNLOCKED_GETSOCKOPT_DIFF = [
  '--- a/net/ipv4/tcp.c',
  '+++ b/net/ipv4/tcp.c',
  '@@ -2746,10 +2746,12 @@',
  ' \t\tbreak;',
  ' ',
  ' \tcase TCP_SAVED_SYN: {',
  '-\t\tstruct sk_buff *syn = xchg(&tp->syn_skb, NULL);',
  '+\t\tstruct sk_buff *syn;',
  ' \t\tint bufsz;',
  ' \t\tint ret = -EFAULT;',
  ' ',
  '+\t\tlock_sock(sk);',
  '+\t\tsyn = xchg(&tp->syn_skb, NULL);',
  ' \t\tif (get_user(len, optlen))',
  ' \t\t\tgoto reset;',
  ' ',
  '@@ -2772,10 +2774,12 @@',
  ' \t\tif (copy_to_user(optval, eth_hdr(syn), bufsz))',
  ' \t\t\tgoto reset;',
  ' \t\tconsume_skb(syn);',
  '+\t\trelease_sock(sk);',
  ' ',
  ' \t\treturn 0;',
  ' reset:',
  ' \t\ttp->syn_skb = syn;',
  '+\t\trelease_sock(sk);',
  ' \t\treturn ret;',
  ' \t}',
  ' ',
].join('\n');

/** Each repair as a C diff against the patched tree, the change the hooks
 * below make, for a reply to the patch (reports/rfc-v1/repairs/). Every
 * line a hook's step label marks as a repair is an added line of its diff
 * (test/review.test.ts). Lines stay within 72 columns, tabs counted as 8,
 * so hunk headers leave out the function where it would not fit. */
export const REPAIR_DIFFS: Record<RepairId, { diff: string; note?: string }> = {
  'setsockopt-refused-but-applied': {
    diff: [
      '--- a/net/ipv4/tcp.c',
      '+++ b/net/ipv4/tcp.c',
      '@@ -2561,8 +2561,10 @@',
      ' \t\tsk->sk_write_space(sk);',
      ' \t\tbreak;',
      ' \tcase TCP_SAVED_SYN:',
      '-\t\tif (!((1 << sk->sk_state) & TCPF_LISTEN))',
      '+\t\tif (!((1 << sk->sk_state) & TCPF_LISTEN)) {',
      ' \t\t\terr = -EINVAL;',
      '+\t\t\tbreak;',
      '+\t\t}',
      ' \t\ttp->saved_syn = !!(val);',
      ' \t\tbreak;',
      ' \tdefault:',
    ].join('\n'),
  },
  'flag-copied-at-accept': {
    note: 'inet_reqsk_alloc() serves DCCP too, hence the protocol test; the syncookie path allocates through it as well, so a cookie child gets the flag as it was at the cookie ACK.',
    diff: [
      '--- a/include/net/inet_sock.h',
      '+++ b/include/net/inet_sock.h',
      '@@ -99,5 +99,6 @@ struct inet_request_sock {',
      ' \t\tstruct sk_buff\t\t*pktopts;',
      ' \t};',
      ' \tstruct sk_buff\t\t*syn_skb;',
      '+\tu8\t\t\tsaved_syn;',
      ' };',
      ' ',
      '--- a/net/ipv4/inet_connection_sock.c',
      '+++ b/net/ipv4/inet_connection_sock.c',
      '@@ -326,5 +326,5 @@',
      ' ',
      ' \tsk_acceptq_removed(sk);',
      ' \tif (sk->sk_protocol == IPPROTO_TCP) {',
      '-\t\ttcp_sk(newsk)->saved_syn = tcp_sk(sk)->saved_syn;',
      '+\t\ttcp_sk(newsk)->saved_syn = inet_rsk(req)->saved_syn;',
      ' \t\tif (inet_rsk(req)->syn_skb)',
      '--- a/net/ipv4/tcp_input.c',
      '+++ b/net/ipv4/tcp_input.c',
      '@@ -6006,6 +6006,8 @@',
      ' \tkmemcheck_annotate_bitfield(ireq, flags);',
      ' \tireq->opt = NULL;',
      ' \tireq->syn_skb = NULL;',
      '+\tif (sk_listener->sk_protocol == IPPROTO_TCP)',
      '+\t\tireq->saved_syn = tcp_sk(sk_listener)->saved_syn;',
      ' \tatomic64_set(&ireq->ir_cookie, 0);',
      ' \tireq->ireq_state = TCP_NEW_SYN_RECV;',
      ' \twrite_pnet(&ireq->ireq_net, sock_net(sk_listener));',
    ].join('\n'),
  },
  'unlocked-getsockopt-races': {
    note: 'Under the socket lock the xchg() is no longer needed; it stays, to keep the change small.',
    diff: UNLOCKED_GETSOCKOPT_DIFF,
  },
  'racing-readers-lose-the-skb': {
    note: 'The same change as for unlocked-getsockopt-races, which closes both windows: under the socket lock no reader runs between another\'s xchg() and its write-back.',
    diff: UNLOCKED_GETSOCKOPT_DIFF,
  },
  'payload-read-as-headers': {
    note: 'The cached skb keeps its headers in place, so the copy can end where the TCP header and its options end, whatever the SYN carries after them.',
    diff: [
      '--- a/net/ipv4/tcp.c',
      '+++ b/net/ipv4/tcp.c',
      '@@ -2762,6 +2762,7 @@',
      ' \t\tif (!syn)',
      ' \t\t\tgoto reset;',
      '-\t\tbufsz = (unsigned long)skb_tail_pointer(syn) - (unsigned long)eth_hdr(syn);',
      '+\t\tbufsz = skb_transport_header(syn) + tcp_hdrlen(syn) -',
      '+\t\t\t(unsigned char *)eth_hdr(syn);',
      ' \t\tret = -E2BIG;',
      ' \t\tif (len < bufsz)',
      ' \t\t\tgoto reset;',
    ].join('\n'),
  },
  'unread-syn-leaks-on-close': {
    note: 'tcp_v4_destroy_sock() lies outside the patch, and the tree the patch was made against is not at hand: the line numbers of the second hunk are an estimate, and git apply finds its place by the context. IPv6 sockets reach it through tcp_v6_destroy_sock().',
    diff: [
      '--- a/net/ipv4/tcp.c',
      '+++ b/net/ipv4/tcp.c',
      '@@ -2227,8 +2227,6 @@ EXPORT_SYMBOL(tcp_disconnect);',
      ' ',
      ' void tcp_sock_destruct(struct sock *sk)',
      ' {',
      '-\tconsume_skb(tcp_sk(sk)->syn_skb);',
      '-',
      ' \tinet_sock_destruct(sk);',
      ' ',
      ' \tkfree(inet_csk(sk)->icsk_accept_queue.fastopenq);',
      '--- a/net/ipv4/tcp_ipv4.c',
      '+++ b/net/ipv4/tcp_ipv4.c',
      '@@ -1835,6 +1835,7 @@ void tcp_v4_destroy_sock(struct sock *sk)',
      ' ',
      ' \t/* If socket is aborted during connect operation */',
      ' \ttcp_free_fastopen_req(tp);',
      '+\tconsume_skb(tp->syn_skb);',
      ' ',
      ' \tsk_sockets_allocated_dec(sk);',
      ' \tsock_release_memcg(sk);',
    ].join('\n'),
  },
};

const FIXED = 'repair';
/** The repaired lines, labelled once: they are named at preemption points. */
const REPAIRED = {
  flagAtAlloc: at(HUNK.reqskAlloc, `ireq->saved_syn = tcp_sk(sk_listener)->saved_syn; /* ${FIXED}: flag-copied-at-accept */`),
  flagAtAccept: at(HUNK.accept, `tcp_sk(newsk)->saved_syn = inet_rsk(req)->saved_syn; /* ${FIXED}: flag-copied-at-accept */`),
  destroy: `net/ipv4/tcp_ipv4.c tcp_v4_destroy_sock | consume_skb(tp->syn_skb); /* ${FIXED}: unread-syn-leaks-on-close */`,
  getsockoptLock: at(HUNK.getsockopt, `lock_sock(sk); /* ${FIXED}: unlocked-getsockopt-races */`),
  setsockoptBreak: at(HUNK.setsockopt, `break; /* ${FIXED}: setsockopt-refused-but-applied */`),
} as const;

export const rfcV1FixedFeature: SavedSynFeature & { bufsz: BufszLine } = {
  ...rfcV1Feature,

  // Repair for 'payload-read-as-headers': copy the headers the letter
  // promises, up to the end of the TCP header, not the skb to its tail.
  bufsz: {
    site: at(HUNK.getsockopt, `bufsz = skb_transport_header(syn) + tcp_hdrlen(syn) - /* ${FIXED}: payload-read-as-headers */`),
    of: (syn) => syn.bytes.length - syn.payloadLen,
  },

  // Repair for 'flag-copied-at-accept': the request remembers the flag the
  // listener had when the SYN (or, for a syncookie, the ACK) arrived.
  reqskAlloc(k: Kernel, req: RequestSock): void {
    rfcV1Feature.reqskAlloc(k, req);
    req.ireq.saved_syn = req.listener.tp.saved_syn ?? 0;
  },

  // inet_reqsk_alloc() has no preemption point, and its hook is no
  // generator: the line it gains is labelled at the first step after it,
  // which for a SYN is the top of tcp_conn_request()'s hunk, still under
  // the listener's lock. A syncookie request, allocated by
  // cookie_v4_check(), reaches no such step.
  *connRequest(k: Kernel, t: number, sk: Sock, req: RequestSock, skb: number, wantCookie: boolean): Gen<void> {
    yield REPAIRED.flagAtAlloc;
    yield* rfcV1Feature.connRequest(k, t, sk, req, skb, wantCookie);
  },

  *accept(k: Kernel, _t: number, _sk: Sock, req: RequestSock, newsk: Sock): Gen<void> {
    yield REPAIRED.flagAtAccept;
    newsk.tp.saved_syn = req.ireq.saved_syn ?? 0;
    yield at(HUNK.accept, 'if (inet_rsk(req)->syn_skb)');
    if (req.ireq.syn_skb) {
      newsk.tp.syn_skb = k.ledger.get(req.ireq.syn_skb, sockOwner(newsk),
        at(HUNK.accept, 'tcp_sk(newsk)->syn_skb = skb_get(inet_rsk(req)->syn_skb);'));
    }
  },

  // Repair for 'unread-syn-leaks-on-close': moved from tcp_sock_destruct().
  destroySock(k: Kernel, sk: Sock): void {
    k.ledger.put(sk.tp.syn_skb ?? 0, sockOwner(sk), REPAIRED.destroy);
  },

  sockDestruct(): void {
    // The release moved to tcp_v4_destroy_sock().
  },

  // Repair for 'unlocked-getsockopt-races'.
  *getsockopt(k: Kernel, t: number, sk: Sock, optname: number, user: UserOpt): Gen<Outcome | undefined> {
    if (optname !== TCP_SAVED_SYN_RFC) return undefined;
    yield* k.lock(sk.lock, t, REPAIRED.getsockoptLock);
    try {
      return yield* rfcV1Feature.getsockopt.call(this, k, t, sk, optname, user);
    } finally {
      k.unlock(sk.lock, t);
    }
  },

  // Repair for 'setsockopt-refused-but-applied'.
  *setsockopt(k: Kernel, t: number, sk: Sock, optname: number, val: number): Gen<Outcome | undefined> {
    if (optname !== TCP_SAVED_SYN_RFC) return undefined;
    yield* k.lock(sk.lock, t, at(HUNK.setsockopt, 'lock_sock(sk);'));
    yield at(HUNK.setsockopt, 'if (!((1 << sk->sk_state) & TCPF_LISTEN))');
    if (sk.state !== 'LISTEN') {
      yield REPAIRED.setsockoptBreak;
      k.unlock(sk.lock, t);
      return fail('EINVAL');
    }
    yield at(HUNK.setsockopt, 'tp->saved_syn = !!(val);');
    sk.tp.saved_syn = val !== 0 ? 1 : 0;
    k.unlock(sk.lock, t);
    return ok();
  },
};

export default stackImplementation({
  name: 'rfc-v1-fixed',
  profile: 'rfc-v1',
  description: 'the 2015 patch with the smallest repair of each finding',
  feature: rfcV1FixedFeature,
});
