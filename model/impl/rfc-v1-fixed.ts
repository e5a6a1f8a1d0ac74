// The 2015 patch with the smallest repair of each finding the harness made
// on it. Everything not listed here is the patch as posted (./rfc-v1.ts).

import { fail, ok, TCP_SAVED_SYN_RFC, type Outcome } from '../ops.ts';
import { at, HUNK, rfcV1Feature } from './rfc-v1.ts';
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
  },
  'flag-copied-at-accept': {
    title: "tcp: inet_csk_accept() gives the child the listener's TCP_SAVED_SYN flag as of accept(), not of the SYN",
    severity: 'wrong-result',
    signature: 'state:accept:flag',
    concurrent: false,
    finding: 'inet_csk_accept() copies the listener\'s flag as it is at accept() time, not as it was when the SYN was cached',
    repair: 'record the listener\'s flag on the request in inet_reqsk_alloc() and copy that one to the child in inet_csk_accept()',
  },
  'unlocked-getsockopt-races': {
    title: 'tcp: do_tcp_getsockopt(TCP_SAVED_SYN) races with itself: spurious -ENOENT and a lost syn_skb',
    severity: 'race',
    signature: 'linearizability:getsockopt:ENOENT',
    concurrent: true,
    finding: 'do_tcp_getsockopt() takes tp->syn_skb with xchg() and puts it back on every error path without the socket lock: a second reader in that window gets -ENOENT although the SYN is still there, and its write-back of NULL can overwrite the first reader\'s, losing the skb',
    repair: 'hold lock_sock() across the TCP_SAVED_SYN case, so the take, the checks and the write-back are one step to any other reader',
  },
  'unread-syn-leaks-on-close': {
    title: 'tcp: syn_skb leaks when an accepted socket is closed without reading it (tcp_sock_destruct not installed)',
    severity: 'leak',
    signature: 'leak:net/ipv4/inet_connection_sock.c inet_csk_accept',
    concurrent: false,
    finding: 'the child\'s syn_skb is released only in tcp_sock_destruct(), which Linux installs only on sockets with a Fast Open queue: an accepted socket closed without reading its SYN leaks the skb',
    repair: 'release tp->syn_skb in tcp_v4_destroy_sock(), which every TCP socket reaches, instead of tcp_sock_destruct()',
  },
} as const;

export type RepairId = keyof typeof REPAIRS;

const FIXED = 'repair';

export const rfcV1FixedFeature: SavedSynFeature = {
  ...rfcV1Feature,

  // Repair for 'flag-copied-at-accept': the request remembers the flag the
  // listener had when the SYN (or, for a syncookie, the ACK) arrived.
  reqskAlloc(k: Kernel, req: RequestSock): void {
    rfcV1Feature.reqskAlloc(k, req);
    req.ireq.saved_syn = req.listener.tp.saved_syn ?? 0; // ireq->saved_syn = tcp_sk(sk_listener)->saved_syn;
  },

  *accept(k: Kernel, _t: number, _sk: Sock, req: RequestSock, newsk: Sock): Gen<void> {
    yield at(HUNK.accept, `tcp_sk(newsk)->saved_syn = inet_rsk(req)->saved_syn; /* ${FIXED}: flag-copied-at-accept */`);
    newsk.tp.saved_syn = req.ireq.saved_syn ?? 0;
    yield at(HUNK.accept, 'if (inet_rsk(req)->syn_skb)');
    if (req.ireq.syn_skb) {
      newsk.tp.syn_skb = k.ledger.get(req.ireq.syn_skb, sockOwner(newsk),
        at(HUNK.accept, 'tcp_sk(newsk)->syn_skb = skb_get(inet_rsk(req)->syn_skb);'));
    }
  },

  // Repair for 'unread-syn-leaks-on-close': moved from tcp_sock_destruct().
  destroySock(k: Kernel, sk: Sock): void {
    k.ledger.put(sk.tp.syn_skb ?? 0, sockOwner(sk),
      `net/ipv4/tcp_ipv4.c tcp_v4_destroy_sock | consume_skb(tp->syn_skb); /* ${FIXED}: unread-syn-leaks-on-close */`);
    sk.tp.syn_skb = 0;
  },

  sockDestruct(): void {
    // The release moved to tcp_v4_destroy_sock().
  },

  // Repair for 'unlocked-getsockopt-races'.
  *getsockopt(k: Kernel, t: number, sk: Sock, optname: number, user: UserOpt): Gen<Outcome | undefined> {
    if (optname !== TCP_SAVED_SYN_RFC) return undefined;
    yield* k.lock(sk.lock, t, at(HUNK.getsockopt, `lock_sock(sk); /* ${FIXED}: unlocked-getsockopt-races */`));
    try {
      return yield* rfcV1Feature.getsockopt(k, t, sk, optname, user);
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
      k.unlock(sk.lock, t);
      return fail('EINVAL'); // err = -EINVAL; break;  (repair: setsockopt-refused-but-applied)
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
