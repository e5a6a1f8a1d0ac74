// An accepted connection closed with nothing unread is not gone: tcp_close()
// sends its FIN and leaves the socket orphaned in FIN_WAIT1, in the
// established hash, holding what it kept, until the peer resets it or its
// timer gives up (measured on the live kernel: test/kernel-lane.test.ts).
// The spec says so, and every bundled implementation of today's kernel
// and of 2015's agrees, buffers included.
import { describe, expect, it } from 'vitest';
import { bundledByName } from '../model/impl/registry.ts';
import { TCP_SAVE_SYN as SAVE, TCP_SAVED_SYN as SAVED, type Op, type Outcome } from '../model/ops.ts';
import { LINUX, RFC_V1 } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { pkt } from './helpers.ts';

const tfo = pkt({ fastOpen: 'request' });
/** Listen saving SYNs, take peer 1's connection, close it. */
const ACCEPTED_AND_CLOSED: Op[] = [
  { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }, { kind: 'listen', fd: 0, backlog: 5 },
  { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, { kind: 'close', fd: 1 },
];
const AGAIN: Op[] = [{ kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }];
/** A Fast Open queue of one, its one child accepted and closed before the final ACK. */
const FAST_OPEN_CLOSED = (payload: number): Op[] => [
  { kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }, { kind: 'listen', fd: 0, backlog: 1 },
  { kind: 'fastOpenSyn', conn: 1, packet: { ...tfo, payload } }, { kind: 'accept', fd: 0 }, { kind: 'close', fd: 1 },
];
const NEXT_FAST_OPEN: Op[] = [{ kind: 'fastOpenSyn', conn: 2, packet: tfo }, { kind: 'accept', fd: 0 }];

/** What the spec answers to the ops after `before`. */
function after(before: Op[], ops: Op[]): Array<number | string> {
  const spec = createSpec(LINUX);
  for (const op of before) spec.apply(op);
  return ops.map((op) => { const o: Outcome = spec.apply(op); return o.errno ?? o.ret; });
}

describe('a connection closed with nothing unread', () => {
  it('keeps its tuple: the peer\'s next SYN makes nothing, until the peer resets it or its timer gives up', () => {
    expect(after(ACCEPTED_AND_CLOSED, AGAIN)).toEqual([0, 0, 'EAGAIN']);
    expect(after([...ACCEPTED_AND_CLOSED, { kind: 'rst', conn: 1 }], AGAIN)).toEqual([0, 0, 1]);
    expect(after([...ACCEPTED_AND_CLOSED, { kind: 'expireAll' }], AGAIN)).toEqual([0, 0, 1]);
  });

  it('keeps the SYN it saved until it is destroyed', () => {
    const spec = createSpec(LINUX);
    for (const op of ACCEPTED_AND_CLOSED) spec.apply(op);
    const kept: number[] = [];
    spec.heldByPromise(kept, []);
    expect(kept).toEqual([1]);
    spec.apply({ kind: 'expireAll' });
    spec.heldByPromise(kept.splice(0), []);
    expect(kept).toEqual([]);
  });

  it('a Fast Open child keeps its request counted until the final ACK; reset, the request stays on the listener', () => {
    expect(after(FAST_OPEN_CLOSED(0), NEXT_FAST_OPEN)).toEqual([0, 'EAGAIN']);
    expect(after([...FAST_OPEN_CLOSED(0), { kind: 'ack', conn: 1 }], NEXT_FAST_OPEN)).toEqual([0, 1]);
    expect(after([...FAST_OPEN_CLOSED(0), { kind: 'rst', conn: 1 }], NEXT_FAST_OPEN)).toEqual([0, 'EAGAIN']);
  });

  it('with the Fast Open SYN\'s data unread, it is reset and gone at once', () => {
    expect(after(FAST_OPEN_CLOSED(10), NEXT_FAST_OPEN)).toEqual([0, 1]);
  });

  for (const [name, profile] of [['linux', LINUX], ['rfc-v1-fixed', RFC_V1]] as const) {
    it(`${name} agrees step by step, and frees every buffer by teardown`, () => {
      const save = profile === LINUX ? SAVE : profile.readOpt;
      const flag = (ops: Op[]) => ops.map((op) => (op.kind === 'setsockopt' ? { ...op, optname: save } : op.kind === 'getsockopt' ? { ...op, optname: profile.readOpt } : op));
      for (const ops of [
        [...ACCEPTED_AND_CLOSED, ...AGAIN],
        [...ACCEPTED_AND_CLOSED, { kind: 'rst', conn: 1 }, ...AGAIN, { kind: 'getsockopt', fd: 1, optname: SAVED, bufSize: 200 }],
        [...ACCEPTED_AND_CLOSED, { kind: 'expireAll' }, ...AGAIN],
        [...FAST_OPEN_CLOSED(0), ...NEXT_FAST_OPEN], [...FAST_OPEN_CLOSED(0), { kind: 'rst', conn: 1 }, ...NEXT_FAST_OPEN],
        [...FAST_OPEN_CLOSED(0), { kind: 'ack', conn: 1 }, ...NEXT_FAST_OPEN], [...FAST_OPEN_CLOSED(10), ...NEXT_FAST_OPEN],
      ] as Op[][]) {
        const r = runLockstep(bundledByName(name)!, profile, flag(ops));
        expect(r.failure, r.failure && `${r.failure.signature}: ${r.failure.message}`).toBeUndefined();
      }
    });
  }
});
