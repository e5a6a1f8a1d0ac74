// The operation alphabet: one discriminated union shared by the spec, the
// implementations, the generators and the reports. An op is plain data so a
// case can be printed, encoded in a token and replayed anywhere.

import type { PacketDescriptor } from './packet.ts';

/** Socket option numbers. The 2015 patch used 26 for both directions; the
 * merged feature sets with 27 and reads with 28. */
export const TCP_SAVED_SYN_RFC = 26;
export const TCP_SAVE_SYN = 27;
export const TCP_SAVED_SYN = 28;

// --- system calls, issued by user threads -------------------------------

/** socket(AF_INET6, SOCK_STREAM): a fresh socket, not bound to the service
 * port; dual-stack unless `v6only` is 1 (IPV6_V6ONLY), or AF_INET with
 * `family` 4 (model/families.ts). Absent fields are the dual-stack default. */
export interface SocketOp { kind: 'socket'; family?: 4 | 6; v6only?: 0 | 1 }
export interface ListenOp { kind: 'listen'; fd: number; backlog: number }
/** Non-blocking accept: EAGAIN on an empty queue. */
export interface AcceptOp { kind: 'accept'; fd: number }
export interface SetsockoptOp { kind: 'setsockopt'; fd: number; optname: number; value: number }
/** bufSize is the int the caller stores in *optlen: it may be 0 or negative. */
export interface GetsockoptOp { kind: 'getsockopt'; fd: number; optname: number; bufSize: number }
export interface CloseOp { kind: 'close'; fd: number }
/** connect(fd, {AF_UNSPEC}): tcp_disconnect(). */
export interface DisconnectOp { kind: 'disconnect'; fd: number }
/** Non-blocking active open towards a peer that never answers: the socket
 * stays in SYN_SENT, a "connecting client". */
export interface ConnectOp { kind: 'connect'; fd: number }
/** dup(fd): a second descriptor for the same open file, hence the same socket. */
export interface DupOp { kind: 'dup'; fd: number }
/** setsockopt(SO_REUSEADDR, 1) then bind(fd, [::]:the service port): a
 * second socket on the port, a new listener once the old one is gone. */
export interface BindOp { kind: 'bind'; fd: number }
/** shutdown(fd, how): SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2; anything else is EINVAL. */
export interface ShutdownOp { kind: 'shutdown'; fd: number; how: number }
/** setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, 1): the socket may share the
 * port with others that set it; listening, it joins the port's group. */
export interface ReuseportOp { kind: 'reuseport'; fd: number }

// --- network events, processed in softirq ---------------------------------

/** A SYN from peer `conn` to the service port. `conn` is the connection's
 * identity; it is written into the packet (source port) so a reader's bytes
 * say whose SYN they are. */
export interface SynOp { kind: 'syn'; conn: number; packet: PacketDescriptor; to?: number }
/** The third ACK of the handshake for `conn`. */
export interface AckOp { kind: 'ack'; conn: number }
/** The same ACK again (a retransmission, or a copy seen by another CPU). */
export interface AckRetransmitOp { kind: 'ackRetransmit'; conn: number }
/** An ACK that carries a syncookie for `conn`. Where a request exists the
 * lookup finds it first, exactly as for a plain ACK. */
export interface CookieAckOp { kind: 'cookieAck'; conn: number }
export interface RstOp { kind: 'rst'; conn: number }
/** The SYN-ACK retransmission timer of `conn`'s request gives up. */
export interface SynAckTimeoutOp { kind: 'synackTimeout'; conn: number }
/** The SYN-ACK retransmission timer of `conn`'s request fires and resends
 * (reqsk_timer_handler()): a request whose listener stopped listening is
 * migrated to another listener of its group, or dropped. */
export interface SynAckRetransmitOp { kind: 'synackRetransmit'; conn: number }
/** A SYN carrying data and a Fast Open option. */
export interface FastOpenSynOp { kind: 'fastOpenSyn'; conn: number; packet: PacketDescriptor; to?: number }
/** `to` on a SYN: the index, in the port's SO_REUSEPORT group, of the
 * listener that gets it, taken modulo the group's size (what a
 * SO_ATTACH_REUSEPORT_CBPF program returns; absent, 0). Without a group the
 * one listener gets every SYN. */
export type SteeredSyn = SynOp | FastOpenSynOp;
/** `count` half-open SYNs from peers first..first+count-1 that never answer. */
export interface FloodOp { kind: 'flood'; first: number; count: number }

// --- the system ----------------------------------------------------------

export interface SysctlOp { kind: 'sysctl'; name: SysctlName; value: number }
/** tcp_migrate_req (Linux 5.14+): a closing listener's children and
 * requests move to another listener of its SO_REUSEPORT group. */
export type SysctlName = 'tcp_syncookies' | 'tcp_fastopen' | 'tcp_migrate_req';
export const SYSCTL_NAMES: readonly SysctlName[] = ['tcp_syncookies', 'tcp_fastopen', 'tcp_migrate_req'];
/** Every timer fires: requests expire, Fast Open requests are dropped.
 * Used by teardown to reach quiescence. */
export interface ExpireAllOp { kind: 'expireAll' }

export type SyscallOp =
  | SocketOp | ListenOp | AcceptOp | SetsockoptOp | GetsockoptOp | CloseOp | DisconnectOp | ConnectOp
  | DupOp | ShutdownOp | BindOp | ReuseportOp;
export type NetworkOp =
  | SynOp | AckOp | AckRetransmitOp | CookieAckOp | RstOp | SynAckTimeoutOp | FastOpenSynOp | FloodOp | SynAckRetransmitOp;
export type SystemOp = SysctlOp | ExpireAllOp;
export type Op = SyscallOp | NetworkOp | SystemOp;
export type OpKind = Op['kind'];

export const SYSCALL_KINDS: readonly OpKind[] = [
  'socket', 'listen', 'accept', 'setsockopt', 'getsockopt', 'close', 'disconnect', 'connect', 'dup', 'shutdown', 'bind', 'reuseport',
];
export const NETWORK_KINDS: readonly OpKind[] = [
  'syn', 'ack', 'ackRetransmit', 'cookieAck', 'rst', 'synackTimeout', 'fastOpenSyn', 'flood', 'synackRetransmit',
];
export const SYSTEM_KINDS: readonly OpKind[] = ['sysctl', 'expireAll'];

export function isSyscall(op: Op): op is SyscallOp {
  return SYSCALL_KINDS.includes(op.kind);
}

/** The calls whose result is a new descriptor. */
export function makesDescriptor(op: Op): boolean {
  return op.kind === 'socket' || op.kind === 'accept' || op.kind === 'dup';
}

/** The result of one op, as userspace (or the wire) sees it. Fields a call
 * does not produce stay undefined, so two outcomes compare field by field. */
export interface Outcome {
  /** The system call's return value: 0, a new fd, or -1. Network and system
   * events return 0. */
  ret: number;
  errno?: Errno;
  /** getsockopt: the value left in *optlen (also when the call failed). */
  optlen?: number;
  /** getsockopt: the bytes copied to optval; absent when none were. */
  bytes?: Uint8Array;
}

export type Errno =
  | 'EBADF' | 'EINVAL' | 'ENOENT' | 'E2BIG' | 'EAGAIN' | 'ENOPROTOOPT' | 'EISCONN'
  | 'EALREADY' | 'EINPROGRESS' | 'EADDRINUSE' | 'EADDRNOTAVAIL' | 'EMFILE' | 'EFAULT' | 'EOPNOTSUPP' | 'ENOTCONN';

export const ok = (ret = 0): Outcome => ({ ret });
export const fail = (errno: Errno, optlen?: number): Outcome =>
  optlen === undefined ? { ret: -1, errno } : { ret: -1, errno, optlen };
