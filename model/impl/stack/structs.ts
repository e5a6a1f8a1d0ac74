// The kernel objects the implementations manipulate, reduced to the fields
// the saved-SYN lifecycle touches. Feature fields (`tp`, `ireq`) are open
// records so each implementation names them as its code does: `tp.syn_skb`,
// `tp.saved_syn`, `ireq.syn_skb`.

import type { Domain } from '../../families.ts';
import type { BuiltPacket } from '../../packet.ts';
import type { SockState, TcpState } from '../../spec/world.ts';

export class Lock {
  owner = -1;
  constructor(readonly name: string) {}
}

export interface AcceptEntry {
  req: RequestSock;
  child: Sock;
}

export interface FastOpenQueue {
  maxQlen: number;
  qlen: number;
}

export interface Sock {
  id: number;
  /** Not yet destroyed (sk_free not reached). */
  alive: boolean;
  /** SOCK_DEAD: orphaned, no file. */
  dead: boolean;
  sockState: SockState;
  state: TcpState;
  onServicePort: boolean;
  /** inet_num != 0: a local port, bound, picked, or inherited. */
  bound: boolean;
  /** SOCK_BINDPORT_LOCK: bound by the user, kept across tcp_set_state(TCP_CLOSE). */
  userBound: boolean;
  /** sk_family and sk_ipv6only: which IP versions a wildcard bind receives. */
  domain: Domain;
  /** sk_reuseport: SO_REUSEPORT. */
  reuseport: boolean;
  /** When inet_hash() last put it in the listening hash (Kernel.hashes):
   * AF_INET6 members of two groups are met in that order. */
  listenedAt: number;
  /** A listener that stopped listening with tcp_migrate_req on: the group
   * (by generation) whose closed section holds it, else -1. */
  closedGen: number;
  /** lock_sock() owner; the 2015 listener is also locked by softirq. */
  lock: Lock;
  /** File references: a close racing a system call destroys afterwards. */
  fileRefs: number;
  fileClosed: boolean;
  /** Descriptors naming the socket's one struct file (dup() adds one): the
   * file is released, and the socket closed, when the last goes. */
  fdRefs: number;
  /** sk->sk_destruct: Linux 4.1 installs tcp_sock_destruct only on a socket
   * that gets a Fast Open queue, and a child inherits it from its listener. */
  destruct: 'inet_sock_destruct' | 'tcp_sock_destruct';
  conn: number | undefined;
  /** Fast Open: the request still waiting for the final ACK. */
  fastopen_rsk: RequestSock | null;
  /** sk_receive_queue holds data: a Fast Open SYN's payload, never read. */
  unread: boolean;
  // Listener.
  backlog: number;
  acceptQueue: AcceptEntry[];
  fastopenq: FastOpenQueue | null;
  /** tcp_synq_overflow()'s stamp (rx_opt.ts_recent_stamp on a listener):
   * set when it sends a syncookie, cleared by tcp_disconnect(); a cookie
   * ACK is taken only by a listener with one. */
  synqOverflowStamp: boolean;
  /** struct tcp_sock fields added by a feature. */
  tp: Record<string, number>;
}

export interface RequestSock {
  id: number;
  conn: number;
  listener: Sock;
  packet: BuiltPacket;
  // The request lives while anything can still reach it; this stands for
  // rsk_refcnt without modelling every get and put of the stack around it.
  /** Findable by an ACK (in the listener's SYN table or the established hash). */
  hashed: boolean;
  /** Queued for accept() with its child. */
  queued: boolean;
  /** ACKs being processed that looked it up. */
  lookups: number;
  /** Reset Fast Open request parked until its timer frees it. */
  parked: boolean;
  freed: boolean;
  /** tcp_rsk(req)->tfo_listener. */
  tfo_listener: boolean;
  /** req->sk: the Fast Open child, until accept takes it. */
  sk: Sock | null;
  /** An ACK arrived while the accept queue was full. */
  acked: boolean;
  /** struct inet_request_sock fields added by a feature. */
  ireq: Record<string, number>;
}

/** Ledger owner names: who holds a reference. Made once per id, not at
 * every buffer event: the same string each time, whose hash the ledger's
 * maps have already computed. */
export const sockOwner = (sk: Sock): string => ownerName(sockNames, 'sk', sk.id);
export const reqOwner = (req: RequestSock): string => ownerName(reqNames, 'req', req.id);

const sockNames: string[] = [];
const reqNames: string[] = [];

function ownerName(names: string[], prefix: string, id: number): string {
  // Ids are small counters; anything else is named without the table.
  if (!(id >= 0 && id < 4096 && Number.isInteger(id))) return `${prefix}${id}`;
  let name = names[id];
  if (name === undefined) {
    for (let i = names.length; i < id; i++) names[i] = `${prefix}${i}`;
    name = `${prefix}${id}`;
    names[id] = name;
  }
  return name;
}
