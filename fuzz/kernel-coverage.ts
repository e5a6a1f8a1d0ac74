// What one sequence on the live kernel covered, as campaign coverage keys.
// The kernel has no preemption points to count, so its keys are of two
// kinds: `t:` the spec transitions the sequence drove (the same keys a
// lockstep run records, so a kernel campaign's coverage reads like any
// other's), and `s:` the census classes of what the kernel answered (each
// SYN's shape with the kernel's answer, what a peer's ACK or RST drew, each
// TCP_SAVED_SYN read by its length or errno). Where the kernel agrees with
// the spec the two kinds overlap; the `s:` keys also tell apart answers the
// spec's outcome does not show (a SYN-ACK against a cookie, a silent drop).

import type { KernelRun } from '../model/kernel/lane.ts';
import { TCP_SAVED_SYN, type Op } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import { answerTo, synShape } from './kernel-census.ts';

export function kernelCoverage(ops: readonly Op[], run: KernelRun): Set<string> {
  const keys = new Set<string>();
  const spec = createSpec(LINUX);
  ops.forEach((op, i) => {
    // As properties/lockstep.ts words them: socket state, op, outcome.
    const reader = 'fd' in op ? spec.socketOf(op.fd) : undefined;
    keys.add(`t:${reader ? `${reader.tcpState}/${reader.sockState}` : '-'}:${op.kind}:${'optname' in op ? op.optname : ''}`);
    const expected = spec.apply(op);
    keys.add(`t:${op.kind}:${expected.errno ?? (expected.bytes ? 'bytes' : 'ok')}`);
    const got = run.outcomes[i];
    const wire = run.wire[i];
    if (op.kind === 'syn' || op.kind === 'fastOpenSyn') {
      keys.add(`s:${op.kind} ${synShape(op)}:${answerTo(op.conn, wire)}`);
    } else if (op.kind === 'flood') {
      const answers = new Set(Array.from({ length: op.count }, (_, k) => answerTo(op.first + k, wire)));
      keys.add(`s:flood:${[...answers].sort().join('+')}`);
    } else if (op.kind === 'ack' || op.kind === 'ackRetransmit' || op.kind === 'cookieAck' || op.kind === 'rst') {
      keys.add(`s:${op.kind}:${wireKinds(wire)}`);
    } else if (op.kind === 'getsockopt' && op.optname === TCP_SAVED_SYN) {
      keys.add(`s:read:${got.errno ?? ((got.optlen ?? 0) > 0 ? `${got.optlen} bytes` : 'empty')}`);
    } else if (got.errno !== undefined) {
      keys.add(`s:${op.kind}:${got.errno}`);
    }
  });
  return keys;
}

/** What the kernel sent during an op, without the peers' numbers:
 * 'synack/3,rst/4' is 'rst+synack'; 'unsent' and 'quiet' stay. */
function wireKinds(wire: string | undefined): string {
  if (wire === undefined) return 'quiet';
  return [...new Set(wire.split(',').map((e) => e.split('/')[0]))].sort().join('+');
}
