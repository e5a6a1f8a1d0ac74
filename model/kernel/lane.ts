// Running an operation sequence, one thread, on the live kernel: each op is
// turned into a line for the native helper, which runs in a private user and
// network namespace of its own (unshare -rn), and its answers are read back
// as Outcomes. A peer's SYN is the very frame the model builds; the helper
// writes it into the device its MAC kind names and builds the peer's later
// ACK or RST from the kernel's SYN-ACK. The namespace, its devices and its
// sysctls end with the helper, when the sequence ends.

import { spawnSync } from 'node:child_process';
import type { Errno, Op, Outcome } from '../ops.ts';
import { domainOf } from '../families.ts';
import { buildSyn, DEFAULT_PACKET, type PacketDescriptor } from '../packet.ts';
import { kernelLane } from './native.ts';

/** The most SYNs one flood op sends. */
export const MAX_FLOOD = 64;

/** To the kernel, a SYN is a Fast Open SYN when it carries data or a Fast
 * Open option: with the server's cookie check off (TFO_SERVER_COOKIE_NOT_REQD,
 * which the lane's tcp_fastopen=1 sets), either one gets a child at once. */
export function isFastOpenShape(p: PacketDescriptor): boolean {
  return p.payload > 0 || p.fastOpen !== 'none';
}

/** Why an op cannot be run on the kernel, or undefined when it can. */
export function unrealisable(op: Op): string | undefined {
  switch (op.kind) {
    case 'synackTimeout': case 'expireAll': return 'timers are not advanced on the live kernel';
    case 'syn':
      return isFastOpenShape(op.packet) ? 'a SYN with data or a Fast Open option is a Fast Open SYN to the kernel' : undefined;
    case 'fastOpenSyn':
      return isFastOpenShape(op.packet) ? undefined : 'a Fast Open SYN with neither data nor a Fast Open option is a plain SYN to the kernel';
    case 'flood': return op.count > MAX_FLOOD ? `floods of more than ${MAX_FLOOD} SYNs` : undefined;
    default: return undefined;
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

export function toLine(op: Op): string {
  switch (op.kind) {
    case 'socket': {
      const d = domainOf(op);
      return d === 'inet6' ? 'socket' : `socket ${d}`;
    }
    case 'listen': return `listen ${op.fd} ${op.backlog}`;
    case 'accept': return `accept ${op.fd}`;
    case 'setsockopt': return `setsockopt ${op.fd} ${op.optname} ${op.value}`;
    case 'getsockopt': return `getsockopt ${op.fd} ${op.optname} ${op.bufSize}`;
    case 'close': return `close ${op.fd}`;
    case 'disconnect': return `disconnect ${op.fd}`;
    case 'connect': return `connect ${op.fd}`;
    case 'dup': return `dup ${op.fd}`;
    case 'bind': return `bind ${op.fd}`;
    case 'shutdown': return `shutdown ${op.fd} ${op.how}`;
    case 'reuseport': return `reuseport ${op.fd}`;
    case 'syn': case 'fastOpenSyn': {
      const p = buildSyn(op.conn, op.packet);
      // Steered: the helper's SO_ATTACH_REUSEPORT_CBPF program finds the
      // source port at this offset from the network header.
      if (op.to !== undefined) return `synto ${op.conn} ${op.to} ${p.networkLen} ${op.packet.mac} ${hex(p.bytes)}`;
      return `syn ${op.conn} ${op.packet.mac} ${hex(p.bytes)}`;
    }
    case 'ack': case 'ackRetransmit': case 'cookieAck': return `ack ${op.conn}`;
    case 'rst': return `rst ${op.conn}`;
    // Real time: the first SYN-ACK retransmission is 1 s after the SYN.
    // Every pending request's timer fires then, not only this peer's.
    case 'synackRetransmit': return `retransmit ${op.conn}`;
    case 'flood': {
      const frames = Array.from({ length: op.count }, (_, i) => hex(buildSyn(op.first + i, DEFAULT_PACKET).bytes));
      return `flood ${op.first} ${DEFAULT_PACKET.mac} ${frames.join(' ')}`;
    }
    case 'sysctl': return `sysctl ${op.name} ${op.value}`;
    case 'synackTimeout': case 'expireAll':
      throw new Error(`${op.kind} cannot run on the live kernel: ${unrealisable(op)}`);
  }
}

export class KernelLaneError extends Error {}

/** What the kernel did with one sequence: each op's outcome, and for
 * network ops what the kernel sent the peers meanwhile ('synack/3',
 * 'cookie/3', 'rst/3', ..., 'quiet', or 'unsent' when the peer had no
 * SYN-ACK to answer); undefined for the other ops. */
export interface KernelRun {
  outcomes: Outcome[];
  wire: (string | undefined)[];
}

export interface LaneOptions {
  /** Milliseconds the helper sleeps after every op before it drains the
   * wire: a second, slower run to tell a real disagreement from a race. */
  settleMs?: number;
}

/** How long the helper waits on a SYN-ACK retransmission op (kernel-lane.c). */
const RETRANSMIT_WAIT_MS = 1500;

/** Runs `ops` in a fresh namespace. Throws KernelLaneError when the lane is
 * unavailable or the helper fails. */
export function runOnKernel(ops: readonly Op[], opts: LaneOptions = {}): KernelRun {
  const lane = kernelLane();
  if (!lane.ok) throw new KernelLaneError(lane.reason);
  const input = ops.map(toLine).join('\n') + '\n';
  const settle = opts.settleMs ?? 0;
  const args = ['-rn', lane.binary, ...(settle > 0 ? ['--settle', String(settle)] : [])];
  // Every barrier is bounded (5 s); the whole run is bounded too, past
  // the time its ops wait on purpose.
  let waits = 0;
  for (const op of ops) if (op.kind === 'synackRetransmit') waits += RETRANSMIT_WAIT_MS;
  const timeout = 30_000 + ops.length * settle + waits;
  const r = spawnSync('unshare', args, { input, encoding: 'utf8', timeout, killSignal: 'SIGKILL', maxBuffer: 64 << 20 });
  const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ETIMEDOUT') throw new KernelLaneError(`the kernel lane did not finish ${ops.length} ops within ${Math.round(timeout / 1000)} s`);
  // A helper that fails before reading its ops closes the pipe: its exit
  // status and message say why, the EPIPE does not.
  if (r.error && !(code === 'EPIPE' && r.status !== null)) throw new KernelLaneError(`the kernel lane did not run: ${r.error.message}`);
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  if (lines[0] !== 'ready' || r.status !== 0) {
    throw new KernelLaneError(`the kernel lane failed (exit ${r.status}): ${r.stderr.trim() || lines[0] || 'no output'}`);
  }
  const parsed = lines.slice(1).map(parseLine);
  if (parsed.length !== ops.length) throw new KernelLaneError(`the kernel lane answered ${parsed.length} of ${ops.length} ops`);
  return { outcomes: parsed.map((p) => p.outcome), wire: parsed.map((p) => p.wire) };
}

function parseLine(line: string): { outcome: Outcome; wire: string | undefined } {
  const [ret, errno, optlen, bytes, wire] = line.split(' ');
  const o: Outcome = { ret: Number(ret) };
  if (errno !== '-') o.errno = errno as Errno;
  if (optlen !== '-') o.optlen = Number(optlen);
  // No bytes copied reads as no bytes at all, as in the model's outcomes.
  if (bytes !== '-' && bytes !== '=') o.bytes = Uint8Array.from(Buffer.from(bytes, 'hex'));
  return { outcome: o, wire: wire === undefined || wire === '-' ? undefined : wire };
}
