// The promise of the 2015 patch, read from its cover letter:
//
//   "a new setsockopt() option that will, when used with a listening socket,
//    ask the kernel to cache the skb holding the SYN packet ... The SYN skbs
//    will not be saved while the kernel is in syn cookie mode. The same
//    option will ask the kernel for the packet headers when used with
//    getsockopt() with the socket returned from accept(). The cached packet
//    will only be available for the first getsockopt() call ... Subsequent
//    calls will return -ENOENT ... getsockopt() will return -E2BIG if the
//    caller supplied a buffer that is too small."
//
// Where the letter is silent, the choices below are written down with why.

import { fail, ok, TCP_SAVED_SYN_RFC, type Outcome } from '../ops.ts';
import type { BuiltPacket } from '../packet.ts';
import type { Kept, Promise, SpecConn, SpecSocket } from './world.ts';

export const rfcV1Promise: Promise = {
  setsockopt(sock: SpecSocket, optname: number, value: number): Outcome {
    if (optname !== TCP_SAVED_SYN_RFC) return fail('ENOPROTOOPT');
    // "when used with a listening socket": anything else is refused and,
    // being refused, changes nothing.
    if (sock.tcpState !== 'LISTEN') return fail('EINVAL');
    sock.flag = value !== 0 ? 1 : 0;
    return ok();
  },

  getsockopt(sock: SpecSocket, optname: number, bufSize: number): Outcome {
    if (optname !== TCP_SAVED_SYN_RFC) return fail('ENOPROTOOPT');
    if (sock.tcpState === 'LISTEN') return fail('EINVAL');
    if (sock.flag === 0) return fail('EINVAL');
    if (sock.kept === null) return fail('ENOENT');
    // A negative length is a buffer too small like any other (the letter
    // names one error for it); the SYN stays for a retry.
    if (bufSize < sock.kept.bytes.length) return fail('E2BIG');
    const { bytes } = sock.kept;
    sock.kept = null;
    return { ret: 0, optlen: bytes.length, bytes };
  },

  // "the packet headers": the skb is cached whole, but the letter promises
  // the reader its headers, from the MAC header (the network header on a
  // device without one) to the end of the TCP header and its options. A
  // SYN's payload (Fast Open data) is not a header; where the letter speaks
  // it wins over what the code copies. An IPv6 SYN's extension headers
  // (hop-by-hop, routing, destination options) are packet headers: they
  // sit between the IPv6 and TCP headers and are returned with them, as
  // today's kernel does (measured, reference/measured-paths.md).
  keep(flag: number, packet: BuiltPacket): Kept | null {
    if (flag === 0) return null;
    return { conn: packet.conn, bytes: packet.bytes.subarray(0, packet.bytes.length - packet.payloadLen) };
  },

  // The letter ties the request to the listener's setting when "the SYN
  // packet" is cached, so the child inherits the flag as it was at the SYN.
  // A cookie connection leaves nothing behind at its SYN, so its child takes
  // the listener's flag when the cookie ACK creates it.
  childFlag(conn: SpecConn, listenerFlagNow: number): number {
    return conn.state === 'cookie' ? listenerFlagNow : conn.flagAtSyn;
  },

  // SO_REUSEPORT (3.9) predates the patch, without a program to steer:
  // 4.1 picks a group member by a hash of the peer's address and port, so
  // any member may get a SYN, and a SYN op's group index names the one the
  // hash picked. The letter's "a listening socket" is each member on its
  // own: a member keeps the SYNs it gets if its own option is set, and
  // their children inherit its flag as it was at the SYN (childFlag above,
  // where conn.flagAtSyn is the flag of the member that got the SYN), never
  // another member's. Requests live in the member's SYN table and die with
  // it: 4.1 has no migration (tcp_migrate_req is 5.14).

  // The letter says nothing of connect(AF_UNSPEC): the cached SYN belongs to
  // the socket until it is read or the socket is destroyed.
  disconnectDrops: false,
};
