// What a kernel search asked and what the kernel answered, counted over the
// generated sequences (not the shrinking runs): so a user can see whether
// SYNs were read back at all, through which devices and in which shapes.

import type { KernelRun } from '../model/kernel/lane.ts';
import { TCP_SAVED_SYN, type Op } from '../model/ops.ts';
import { extHeadersOf } from '../model/packet.ts';

export interface KernelCensus {
  sequences: number;
  /** Sequences with at least one successful TCP_SAVED_SYN read. */
  sequencesWithRead: number;
  /** getsockopt(TCP_SAVED_SYN): bytes returned, nothing returned (optlen 0), and each errno. */
  reads: { successful: number; empty: number; errno: Record<string, number> };
  /** Every op's errno, over all ops. */
  errno: Record<string, number>;
  /** SYNs sent, by shape: "IPv4+opts/eth", "IPv6/no MAC Fast Open", ... */
  synShapes: Record<string, number>;
  /** What the kernel answered each SYN with: synack, cookie, rst, quiet. */
  synAnswers: Record<string, number>;
  /** ACKs and RSTs a peer had no SYN-ACK for, so did not send. */
  unsent: number;
  /** Sequences the lane could not run (each also listed as flaky). */
  laneErrors: number;
}

export function emptyCensus(): KernelCensus {
  return { sequences: 0, sequencesWithRead: 0, reads: { successful: 0, empty: 0, errno: {} }, errno: {}, synShapes: {}, synAnswers: {}, unsent: 0, laneErrors: 0 };
}

const bump = (m: Record<string, number>, k: string, n = 1): void => {
  m[k] = (m[k] ?? 0) + n;
};

const MAC_NAMES = { ethernet: 'eth', loopback: 'lo', none: 'no MAC' } as const;

/** Adds one sequence's run to the census. */
export function countRun(c: KernelCensus, ops: readonly Op[], run: KernelRun): void {
  c.sequences++;
  let read = false;
  ops.forEach((op, i) => {
    const o = run.outcomes[i];
    if (o.errno) bump(c.errno, o.errno);
    if (op.kind === 'getsockopt' && op.optname === TCP_SAVED_SYN) {
      if (o.errno) bump(c.reads.errno, o.errno);
      else if ((o.optlen ?? 0) > 0) { c.reads.successful++; read = true; } else c.reads.empty++;
    }
    const wire = run.wire[i];
    if (wire === 'unsent') c.unsent++;
    if (op.kind === 'syn' || op.kind === 'fastOpenSyn') {
      bump(c.synShapes, synShape(op));
      bump(c.synAnswers, answerTo(op.conn, wire));
    } else if (op.kind === 'flood') {
      for (let k = 0; k < op.count; k++) bump(c.synAnswers, answerTo(op.first + k, wire));
    }
  });
  if (read) c.sequencesWithRead++;
}

export function countLaneError(c: KernelCensus): void {
  c.sequences++;
  c.laneErrors++;
}

/** A SYN's shape as the census names it: "IPv4+opts/eth", "IPv6/lo Fast Open". */
export function synShape(op: Extract<Op, { kind: 'syn' | 'fastOpenSyn' }>): string {
  const p = op.packet;
  const e = extHeadersOf(p);
  const ext = [e.hopByHop && `+hbh${e.hopByHop}`, e.routing && '+srh', e.destOpts && '+dst'].filter(Boolean).join('');
  return `IPv${p.family}${p.family === 4 && p.ipOptions ? '+opts' : ''}${ext}/${MAC_NAMES[p.mac]}${op.kind === 'fastOpenSyn' ? ' Fast Open' : ''}`;
}

/** What the kernel answered peer `conn` with during one op: synack, cookie, rst or quiet. */
export function answerTo(conn: number, wire: string | undefined): string {
  const kinds = (wire ?? '').split(',').filter((e) => e.endsWith(`/${conn}`)).map((e) => e.split('/')[0]);
  return kinds.find((k) => k === 'synack' || k === 'cookie') ?? kinds.find((k) => k === 'rst') ?? 'quiet';
}

/** Two lines for a terminal. */
export function renderCensus(c: KernelCensus): string {
  const pct = c.sequences > 0 ? Math.round((100 * c.sequencesWithRead) / c.sequences) : 0;
  const list = (m: Record<string, number>): string => Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return [
    `census: ${c.sequencesWithRead} of ${c.sequences} sequences (${pct}%) read a saved SYN; TCP_SAVED_SYN reads: ${c.reads.successful} with bytes, ${c.reads.empty} empty, errors: ${list(c.reads.errno)}`,
    `  SYNs by shape: ${list(c.synShapes)}`,
    `  answered with: ${list(c.synAnswers)}; ACK/RST not sent (no SYN-ACK to answer): ${c.unsent}; errno over all ops: ${list(c.errno)}${c.laneErrors ? `; lane errors: ${c.laneErrors}` : ''}`,
  ].join('\n');
}
