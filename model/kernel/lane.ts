// Running an operation sequence, one thread, on the live kernel: each op is
// turned into a line for the native helper, which runs in a private user and
// network namespace of its own (unshare -rn) on loopback only, and its
// answers are read back as Outcomes. The namespace, its sockets and its
// sysctls end with the helper, when the sequence ends.

import { spawnSync } from 'node:child_process';
import type { Errno, Op, Outcome } from '../ops.ts';
import { DEFAULT_PACKET, type PacketDescriptor } from '../packet.ts';
import { kernelLane } from './native.ts';

/** Why an op cannot be run on the kernel, or undefined when it can. The
 * kernel decides timing and options itself, so only SYNs it can send are
 * asked of it: the default options, on loopback, IPv4 (with or without IP
 * options) or IPv6; Fast Open with data and no cookie option. */
export function unrealisable(op: Op): string | undefined {
  switch (op.kind) {
    case 'connect': return 'a client that stays in SYN_SENT needs a peer that never answers';
    case 'synackTimeout': case 'expireAll': return 'timers are not advanced on the live kernel';
    case 'syn': return plainSyn(op.packet, false);
    case 'fastOpenSyn': return plainSyn(op.packet, true);
    case 'flood': return op.count > 64 ? 'floods of more than 64 SYNs' : undefined;
    default: return undefined;
  }
}

/** The SYNs the helper's clients send: the default options on loopback;
 * a Fast Open client (TCP_FASTOPEN_NO_COOKIE) puts its data in the SYN with
 * no Fast Open option. */
function plainSyn(p: PacketDescriptor, fastOpen: boolean): string | undefined {
  const { family, ipOptions, payload } = p;
  const want: PacketDescriptor = { ...DEFAULT_PACKET, family, ipOptions: family === 4 && ipOptions, payload: fastOpen ? Math.max(1, payload) : 0 };
  if (JSON.stringify(want) !== JSON.stringify({ ...p, ipOptions: family === 4 && ipOptions })) return 'a SYN whose options, data or device the kernel would not send';
  return undefined;
}

export function toLine(op: Op): string {
  switch (op.kind) {
    case 'socket': return 'socket';
    case 'listen': return `listen ${op.fd} ${op.backlog}`;
    case 'accept': return `accept ${op.fd}`;
    case 'setsockopt': return `setsockopt ${op.fd} ${op.optname} ${op.value}`;
    case 'getsockopt': return `getsockopt ${op.fd} ${op.optname} ${op.bufSize}`;
    case 'close': return `close ${op.fd}`;
    case 'disconnect': return `disconnect ${op.fd}`;
    case 'syn': return `syn ${op.conn} ${op.packet.family} ${op.packet.ipOptions ? 1 : 0}`;
    case 'fastOpenSyn': return `tfo ${op.conn} ${op.packet.family} ${op.packet.payload}`;
    case 'ack': case 'ackRetransmit': case 'cookieAck': return `ack ${op.conn}`;
    case 'rst': return `rst ${op.conn}`;
    case 'flood': return `flood ${op.first} ${op.count}`;
    case 'sysctl': return `sysctl ${op.name} ${op.value}`;
    case 'connect': case 'synackTimeout': case 'expireAll':
      throw new Error(`${op.kind} cannot run on the live kernel: ${unrealisable(op)}`);
  }
}

export class KernelLaneError extends Error {}

/** The outcome of every op, in order. Throws KernelLaneError when the lane
 * is unavailable or the helper fails. */
export function runOnKernel(ops: readonly Op[]): Outcome[] {
  const lane = kernelLane();
  if (!lane.ok) throw new KernelLaneError(lane.reason);
  const input = ops.map(toLine).join('\n') + '\n';
  const r = spawnSync('unshare', ['-rn', lane.binary], { input, encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
  if (r.error) throw new KernelLaneError(`the kernel lane did not run: ${r.error.message}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (lines[0] !== 'ready' || r.status !== 0) {
    throw new KernelLaneError(`the kernel lane failed (exit ${r.status}): ${r.stderr.trim() || lines[0] || 'no output'}`);
  }
  const out = lines.slice(1).map(parseLine);
  if (out.length !== ops.length) throw new KernelLaneError(`the kernel lane answered ${out.length} of ${ops.length} ops`);
  return out;
}

function parseLine(line: string): Outcome {
  const [ret, errno, optlen, hex] = line.split(' ');
  const o: Outcome = { ret: Number(ret) };
  if (errno !== '-') o.errno = errno as Errno;
  if (optlen !== '-') o.optlen = Number(optlen);
  // No bytes copied reads as no bytes at all, as in the model's outcomes.
  if (hex !== '-' && hex !== '=') o.bytes = Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
  return o;
}
