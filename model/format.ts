// How ops and outcomes read in failures and reports: as a kernel person
// would write the calls.

import type { Op, Outcome } from './ops.ts';
import { describePacket } from './packet.ts';
import { optionName, type Profile } from './profile.ts';

export function formatOp(op: Op, profile: Profile): string {
  switch (op.kind) {
    case 'socket': return op.family === 4 ? 'socket(AF_INET)' : op.v6only === 1 ? 'socket(AF_INET6) /* IPV6_V6ONLY */' : 'socket()';
    case 'listen': return `listen(fd ${op.fd}, ${op.backlog})`;
    case 'accept': return `accept(fd ${op.fd})`;
    case 'setsockopt':
      return `setsockopt(fd ${op.fd}, ${optionName(profile, op.optname)}(${op.optname}), ${op.value})`;
    case 'getsockopt':
      return `getsockopt(fd ${op.fd}, ${optionName(profile, op.optname)}(${op.optname}), optlen=${op.bufSize})`;
    case 'close': return `close(fd ${op.fd})`;
    case 'disconnect': return `connect(fd ${op.fd}, AF_UNSPEC)`;
    case 'connect': return `connect(fd ${op.fd}) /* peer never answers */`;
    case 'dup': return `dup(fd ${op.fd})`;
    case 'bind': return `bind(fd ${op.fd}, service port) /* SO_REUSEADDR */`;
    case 'shutdown': return `shutdown(fd ${op.fd}, ${SHUT_NAMES[op.how] ?? op.how})`;
    case 'reuseport': return `setsockopt(fd ${op.fd}, SO_REUSEPORT, 1)`;
    case 'syn': return `SYN from peer ${op.conn}${steered(op.to)} [${describePacket(op.packet)}]`;
    case 'fastOpenSyn': return `Fast Open SYN+data from peer ${op.conn}${steered(op.to)} [${describePacket(op.packet)}]`;
    case 'flood': return `flood of ${op.count} half-open SYNs (peers ${op.first}..${op.first + op.count - 1})`;
    case 'ack': return `ACK from peer ${op.conn}`;
    case 'ackRetransmit': return `ACK from peer ${op.conn} (retransmitted)`;
    case 'cookieAck': return `cookie ACK from peer ${op.conn}`;
    case 'rst': return `RST from peer ${op.conn}`;
    case 'synackTimeout': return `SYN-ACK timeout for peer ${op.conn}`;
    case 'synackRetransmit': return `SYN-ACK retransmitted to peer ${op.conn} (timer)`;
    case 'sysctl': return `sysctl net.ipv4.${op.name}=${op.value}`;
    case 'expireAll': return 'all timers expire';
  }
}

const steered = (to: number | undefined): string => (to === undefined ? '' : ` to group index ${to}`);

const SHUT_NAMES: Record<number, string> = { 0: 'SHUT_RD', 1: 'SHUT_WR', 2: 'SHUT_RDWR' };

export function formatOutcome(o: Outcome): string {
  let s = o.ret === -1 && o.errno ? `-1 ${o.errno}` : String(o.ret);
  if (o.errno && o.ret !== -1) s += ` ${o.errno}`;
  if (o.optlen !== undefined) s += `, optlen ${o.optlen}`;
  if (o.bytes !== undefined && o.bytes.length > 0) s += `, ${o.bytes.length} bytes ${hexPreview(o.bytes)}`;
  return s;
}

export function hexPreview(bytes: Uint8Array, max = 8): string {
  const shown = Array.from(bytes.slice(0, max), (b) => b.toString(16).padStart(2, '0')).join('');
  return bytes.length > max ? `${shown}…` : shown;
}

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  return a.ret === b.ret && a.errno === b.errno && a.optlen === b.optlen && sameBytes(a.bytes, b.bytes);
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The first field on which two outcomes differ. */
export function firstDifference(expected: Outcome, actual: Outcome): 'ret' | 'errno' | 'optlen' | 'bytes' | undefined {
  if (expected.errno !== actual.errno) return 'errno';
  if (expected.ret !== actual.ret) return 'ret';
  if (expected.optlen !== actual.optlen) return 'optlen';
  if (!sameBytes(expected.bytes, actual.bytes)) return 'bytes';
  return undefined;
}
