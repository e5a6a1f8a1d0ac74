// Linux today, as measured on a live kernel (shared/reference/README.md):
// TCP_SAVE_SYN (27) sets 0, 1 or 2 on any socket; TCP_SAVED_SYN (28) reads
// a kmalloc'd copy of the headers once, from the accepted child.

import { fail, ok, TCP_SAVE_SYN, TCP_SAVED_SYN, type Outcome } from '../ops.ts';
import { headerLength, type BuiltPacket } from '../packet.ts';
import type { Kept, Promise, SpecConn, SpecSocket } from './world.ts';

const INT_SIZE = 4;

export const linuxPromise: Promise = {
  setsockopt(sock: SpecSocket, optname: number, value: number): Outcome {
    if (optname !== TCP_SAVE_SYN) return fail('ENOPROTOOPT');
    if (value < 0 || value > 2) return fail('EINVAL');
    sock.flag = value;
    return ok();
  },

  getsockopt(sock: SpecSocket, optname: number, bufSize: number): Outcome {
    // A negative *optlen is refused whatever the option, and left as it was.
    if (bufSize < 0) return fail('EINVAL');
    if (optname === TCP_SAVE_SYN) return readInt(sock.flag, bufSize);
    if (optname !== TCP_SAVED_SYN) return fail('ENOPROTOOPT');
    if (sock.kept === null) return { ret: 0, optlen: 0 };
    const need = sock.kept.bytes.length;
    // Too small: the size needed is written back so the caller can retry.
    if (bufSize < need) return fail('EINVAL', need);
    const { bytes } = sock.kept;
    sock.kept = null;
    return { ret: 0, optlen: need, bytes };
  },

  // tcp_reqsk_record_syn(): the headers only, with the MAC header in mode 2.
  keep(flag: number, packet: BuiltPacket): Kept | null {
    if (flag === 0) return null;
    const withMac = flag === 2;
    const start = withMac ? 0 : packet.macLen;
    const end = packet.macLen + headerLength(packet, false);
    // A view, not a copy: a built packet is never written, and neither is
    // what the spec keeps of it.
    return { conn: packet.conn, bytes: packet.bytes.subarray(start, end) };
  },

  // The child is a clone of the listener made when the handshake completes.
  childFlag(_conn: SpecConn, listenerFlagNow: number): number {
    return listenerFlagNow;
  },

  disconnectDrops: true,
};

/** The generic int path of do_tcp_getsockopt(): len = min(len, sizeof(int)),
 * then that many bytes of the value. */
function readInt(value: number, bufSize: number): Outcome {
  const len = Math.min(bufSize, INT_SIZE);
  const all = new Uint8Array(INT_SIZE);
  new DataView(all.buffer).setInt32(0, value, true);
  return len === 0 ? { ret: 0, optlen: 0 } : { ret: 0, optlen: len, bytes: all.slice(0, len) };
}
