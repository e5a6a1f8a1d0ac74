// The memory oracle: what the feature holds, summed from the ledger's live
// buffers, against the bound each profile states (Profile.heldBound).
import { describe, expect, it } from 'vitest';
import { Ledger } from '../model/ledger.ts';
import { TCP_SAVE_SYN as SAVE, TCP_SAVED_SYN_RFC as RFC, type Op } from '../model/ops.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { buildSyn, DEFAULT_PACKET, headerLength } from '../model/packet.ts';
import { LINUX, profileByName, RFC_V1 } from '../model/profile.ts';
import { Session } from '../properties/lockstep.ts';
import { heldBytes, judgeMemory } from '../properties/memory.ts';
import { severityOf } from '../properties/oracles.ts';
import { pkt } from './helpers.ts';

const syn: Op = { kind: 'syn', conn: 1, packet: pkt() };

describe('the ledger knows what is held', () => {
  it('sizes are optional: an allocation without one still works and counts nothing', () => {
    const l = new Ledger();
    const a = l.alloc('skb', 'rx', 'site', 1);
    const b = l.alloc('kmalloc', 'req1', 'site', 1, 60);
    expect(heldBytes(l.held())).toEqual({ byConn: new Map([[1, 60]]), total: 60 });
    l.put(a, 'rx', 'site');
    l.put(b, 'req1', 'site');
    expect(l.held()).toEqual([]);
  });

  it('a buffer whose every holder was destroyed is a leak, not memory held', () => {
    const l = new Ledger();
    l.alloc('kmalloc', 'sk3', 'site', 2, 60);
    l.ownerFreed('sk3', 'destroy');
    expect(l.held()).toEqual([]);
  });
});

describe('the bound each profile states', () => {
  const packets = new Map([[1, [buildSyn(1, pkt({ payload: 20, fastOpen: 'cookie' }))]]]);
  const p = packets.get(1)![0];

  it('linux: the headers, never the payload; rfc-v1: the whole frame', () => {
    expect(LINUX.heldBound.perConnection(p)).toBe(headerLength(p, true));
    expect(RFC_V1.heldBound.perConnection(p)).toBe(p.bytes.length);
    expect(LINUX.heldBound.reason).toMatch(/never the payload/);
    expect(RFC_V1.heldBound.reason).toMatch(/whole frame/);
  });

  it('a connection holding more than its bound is memory:<op>:per-connection, leak-class', () => {
    const held = [{ handle: 1, kind: 'kmalloc' as const, conn: 1, size: headerLength(p, true) + 1 }];
    const v = judgeMemory(syn, LINUX, held, packets, [1], [1]);
    expect(v?.signature).toBe('memory:syn:per-connection');
    expect(severityOf(v!.oracle)).toBe('leak');
    expect(judgeMemory(syn, RFC_V1, held, packets, [1], [1])).toBeUndefined();
  });

  it('bytes held for a peer with neither a request nor a socket are over the total', () => {
    const held = [{ handle: 1, kind: 'skb' as const, conn: 1, size: 10 }];
    expect(judgeMemory(syn, RFC_V1, held, packets, [], [])?.signature).toBe('memory:syn:total');
    expect(judgeMemory(syn, RFC_V1, held, packets, [], [1])).toBeUndefined();
  });
});

describe('what each implementation holds, in lockstep', () => {
  /** What the feature holds after `ops`, every step judged by the oracles. */
  function holdsAfter(impl: string, ops: Op[]): { total: number; byConn: Map<number, number> } {
    const implementation = bundledByName(impl)!;
    const s = new Session(implementation, profileByName(implementation.profile)!, ops);
    for (const op of ops) expect(s.sequential(op, false), `${impl}: ${op.kind}`).toBeUndefined();
    return heldBytes(s.ledger.held());
  }

  it('a flood with cookies off: one header copy (linux) or one whole skb (rfc-v1) per request the SYN queue admits', () => {
    const flood = (opt: number): Op[] => [
      { kind: 'sysctl', name: 'tcp_syncookies', value: 0 }, { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: opt, value: 1 },
      { kind: 'flood', first: 100, count: 40 },
    ];
    const frame = buildSyn(100, DEFAULT_PACKET);
    // listen(fd, 4): today five requests (full past the backlog); 4.1's table has 16 slots.
    expect(holdsAfter('linux', flood(SAVE))).toMatchObject({ total: 5 * headerLength(frame, false) });
    expect(holdsAfter('rfc-v1-fixed', flood(RFC))).toMatchObject({ total: 16 * frame.bytes.length });
  });

  it('a Fast Open SYN with data: rfc-v1 holds the frame, payload included, within its bound; linux the headers', () => {
    const packet = pkt({ fastOpen: 'request', payload: 20 });
    const built = buildSyn(1, packet);
    const ops = (opt: number): Op[] => [
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: opt, value: 1 },
      { kind: 'fastOpenSyn', conn: 1, packet }, { kind: 'accept', fd: 0 },
    ];
    expect(holdsAfter('rfc-v1-fixed', ops(RFC)).byConn.get(1)).toBe(built.bytes.length);
    expect(holdsAfter('linux', ops(SAVE)).byConn.get(1)).toBe(headerLength(built, false));
  });

  // What rfc-v1's reference-counted skb keeps that a header copy would not:
  // a Fast Open request shares the child's skb and outlives the child's read.
  const fastOpen = (ops: Op[]): Op[] => [
    { kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'listen', fd: 0, backlog: 1 }, { kind: 'setsockopt', fd: 0, optname: RFC, value: 1 },
    { kind: 'fastOpenSyn', conn: 1, packet: pkt() }, { kind: 'accept', fd: 0 }, ...ops,
  ];
  const frame = buildSyn(1, DEFAULT_PACKET).bytes.length;

  it('a peer that opens again after a disconnect holds once for each connection, its reset Fast Open request kept too', () => {
    // The disconnected child's request still holds the first SYN; the new
    // request holds the second.
    const again = holdsAfter('rfc-v1-fixed', fastOpen([{ kind: 'disconnect', fd: 1 }, syn, { kind: 'getsockopt', fd: 1, optname: RFC, bufSize: 74 }]));
    expect(again.byConn.get(1)).toBe(2 * frame);
    // Reset after accept(), the request is kept (counted in the total)
    // after its child is closed, until the listener stops or time passes.
    const kept = holdsAfter('rfc-v1-fixed', fastOpen([{ kind: 'rst', conn: 1 }, { kind: 'close', fd: 1 }]));
    expect(kept.total).toBe(frame);
    expect(holdsAfter('rfc-v1-fixed', fastOpen([{ kind: 'rst', conn: 1 }, { kind: 'close', fd: 1 }, { kind: 'close', fd: 0 }])).total).toBe(0);
  });
});
