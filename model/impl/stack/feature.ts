// The seams where a saved-SYN implementation meets the TCP stack: one hook
// per kernel function the feature patches. The stack (./kernel.ts) is the
// rest of the kernel; an implementation file supplies only these hooks, so
// it reads like the patch it transliterates.

import type { Outcome } from '../../ops.ts';
import type { Yield } from '../types.ts';
import type { Kernel } from './kernel.ts';
import type { RequestSock, Sock } from './structs.ts';

export type Gen<T> = Generator<Yield, T, void>;

/** The user's *optlen and optval for one getsockopt call. */
export interface UserOpt {
  len: number;
}

export interface SavedSynFeature {
  /** inet_reqsk_alloc(): initialise the request's fields. */
  reqskAlloc(k: Kernel, req: RequestSock): void;
  /** tcp_conn_request(), once want_cookie is known, before Fast Open. */
  connRequest(k: Kernel, t: number, listener: Sock, req: RequestSock, skb: number, wantCookie: boolean): Gen<void>;
  /** tcp_create_openreq_child(): the child is a clone of the listener. */
  createOpenreqChild(k: Kernel, listener: Sock, req: RequestSock, child: Sock): void;
  /** The end of syn_recv_sock(), when the hash insertion decided own_req. */
  synRecvSock(k: Kernel, t: number, req: RequestSock, child: Sock, ownReq: boolean): Gen<void>;
  /** inet_csk_accept(), under the listener's lock, once the entry is dequeued. */
  accept(k: Kernel, t: number, listener: Sock, req: RequestSock, child: Sock): Gen<void>;
  /** inet_reqsk_clone(), after the stack's memcpy of `req` into `nreq`
   * (a request migrated to another listener of its group). */
  reqskClone?(k: Kernel, req: RequestSock, nreq: RequestSock): void;
  /** reqsk_migrate_reset(): `req` gives up what its clone shares with it;
   * `to` is the clone that now owns it, absent when the clone is the one
   * reset (a failed migration, the original keeping everything). */
  reqskMigrateReset?(k: Kernel, req: RequestSock, to?: RequestSock): void;
  /** The request sock destructor (tcp_v4/v6_reqsk_destructor, __reqsk_free). */
  reqskDestructor(k: Kernel, req: RequestSock): void;
  /** tcp_v4_destroy_sock(): every TCP socket that is destroyed. */
  destroySock(k: Kernel, sk: Sock): void;
  /** tcp_sock_destruct(): only on sockets whose sk_destruct it is. */
  sockDestruct(k: Kernel, sk: Sock): void;
  /** tcp_disconnect(). */
  disconnect(k: Kernel, sk: Sock): void;
  /** do_tcp_setsockopt() case; undefined means "not my option". */
  setsockopt(k: Kernel, t: number, sk: Sock, optname: number, val: number): Gen<Outcome | undefined>;
  /** do_tcp_getsockopt() case; undefined means "not my option". */
  getsockopt(k: Kernel, t: number, sk: Sock, optname: number, user: UserOpt): Gen<Outcome | undefined>;
  /** The flag and the kept SYN's connection, for the state oracle. */
  view(k: Kernel, sk: Sock): { flag: number; kept: number | null };
}
