// The live kernel as an oracle: every row of the reference table and both
// cookie modes, run on this machine's kernel in a private namespace with the
// model's own frames, agree with the linux spec; so do generated sequences,
// most of which read a saved SYN back. A disagreement is reported only once
// a fresh namespace confirms it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { CONFIRM_SETTLE_MS, confirmSettleMs, laneNeverRan, MAX_FLAKY_TRIES, searchKernel } from '../fuzz/kernel-search.ts';
import { isKernelCase, toKernelCase } from '../fuzz/kernel-cases.ts';
import { KernelLaneError, toLine, unrealisable } from '../model/kernel/lane.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { TCP_SAVE_SYN as SAVE, TCP_SAVED_SYN as SAVED, type Op, type Outcome } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import { runDifferential, specOutcomes, type DifferentialResult } from '../properties/differential.ts';
import { cReproducer } from '../reports/reproducers.ts';
import { renderKernelFinding } from '../reports/text.ts';
import { encodeToken } from '../reports/token.ts';
import { acceptedWith, CONNECTS_TO_ONE_PEER, pkt, twoIpv6Groups } from './helpers.ts';
import { SAVEDSYN } from './built.ts';

const lane = kernelLane();
const read = (fd: number, bufSize: number): Op => ({ kind: 'getsockopt', fd, optname: SAVED, bufSize });
const flag = (fd: number, bufSize = 4): Op => ({ kind: 'getsockopt', fd, optname: SAVE, bufSize });

/** Run on the kernel; the spec must agree; return the kernel's outcomes. */
function kernel(ops: Op[]) {
  const r = runDifferential(ops);
  expect(r.disagreement?.differences, r.disagreement && `step ${r.disagreement.step}`).toBeUndefined();
  return r.actual;
}

it.runIf(!lane.ok)(`live-kernel lane unavailable here, so its suite does not run: ${lane.ok ? '' : lane.reason}`, () => {
  expect(lane.ok).toBe(false);
});

describe.runIf(lane.ok)('the live kernel agrees with the linux spec on every row of the reference table', () => {
  it('setsockopt(TCP_SAVE_SYN): 0/1/2 accepted before listen; 3, -1, 100 refused and the value kept', () => {
    const out = kernel([
      { kind: 'socket' },
      ...[0, 1, 2, 3, -1, 100].flatMap((v): Op[] => [{ kind: 'setsockopt', fd: 1, optname: SAVE, value: v }, flag(1)]),
    ]);
    expect(out.slice(1).filter((_, i) => i % 2 === 0).map((o) => o.errno ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'EINVAL', 'EINVAL', 'EINVAL']);
    expect(out.slice(1).filter((_, i) => i % 2 === 1).map((o) => o.bytes?.[0])).toEqual([0, 1, 2, 2, 2, 2]);
  });

  it('a child reads the listener\'s value from when it was created', () => {
    const out = kernel([...acceptedWith(SAVE, 2), { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }, flag(1)]);
    expect(out[6].bytes?.[0]).toBe(2);
  });

  it('on a listener: 0, optlen 0', () => {
    expect(kernel([...acceptedWith(SAVE, 1), read(0, 100)])[5]).toEqual({ ret: 0, optlen: 0 });
  });

  it('mode 1: 60 bytes over IPv4, 80 over IPv6; mode 2 adds the MAC header: 74 / 94', () => {
    expect(kernel([...acceptedWith(SAVE, 1), read(1, 60)])[5]).toMatchObject({ ret: 0, optlen: 60 });
    expect(kernel([...acceptedWith(SAVE, 1, pkt({ family: 6 })), read(1, 4096)])[5]).toMatchObject({ ret: 0, optlen: 80 });
    expect(kernel([...acceptedWith(SAVE, 2), read(1, 4096)])[5]).toMatchObject({ ret: 0, optlen: 74 });
    expect(kernel([...acceptedWith(SAVE, 2, pkt({ family: 6 })), read(1, 4096)])[5]).toMatchObject({ ret: 0, optlen: 94 });
    expect(kernel([...acceptedWith(SAVE, 1, pkt({ ipOptions: true })), read(1, 4096)])[5]).toMatchObject({ ret: 0, optlen: 64 });
  });

  it('too small a buffer: EINVAL with the size needed; negative: EINVAL, optlen untouched; one-shot', () => {
    const out = kernel([...acceptedWith(SAVE, 1), read(1, 10), read(1, 0), read(1, -1), read(1, 60), read(1, 60)]);
    expect(out.slice(5)).toEqual([
      { ret: -1, errno: 'EINVAL', optlen: 60 }, { ret: -1, errno: 'EINVAL', optlen: 60 }, { ret: -1, errno: 'EINVAL' },
      expect.objectContaining({ ret: 0, optlen: 60 }), { ret: 0, optlen: 0 },
    ]);
  });

  it('the flag turned off after the SYN arrived: the child still has it', () => {
    const ops = acceptedWith(SAVE, 1);
    ops.splice(3, 0, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 0 });
    expect(kernel([...ops, read(1, 100)])[6]).toMatchObject({ ret: 0, optlen: 60 });
  });

  it('after connect(AF_UNSPEC): 0, optlen 0', () => {
    expect(kernel([...acceptedWith(SAVE, 1), { kind: 'disconnect', fd: 1 }, read(1, 100)])[6]).toEqual({ ret: 0, optlen: 0 });
  });

  it('forced cookies (tcp_syncookies = 2): nothing saved', () => {
    const out = kernel([{ kind: 'sysctl', name: 'tcp_syncookies', value: 2 }, ...acceptedWith(SAVE, 1), read(1, 100)]);
    expect(out[5]).toEqual({ ret: 1 });
    expect(out[6]).toEqual({ ret: 0, optlen: 0 });
  });

  it('cookies from a flood of half-open SYNs (tcp_syncookies = 1): B+1 requests held, then nothing saved', () => {
    const out = kernel([
      { kind: 'listen', fd: 0, backlog: 2 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'flood', first: 100, count: 3 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, read(1, 100),
      // A held request completes when its peer speaks, with its SYN.
      { kind: 'ack', conn: 100 }, { kind: 'accept', fd: 0 }, read(2, 100),
    ]);
    expect(out[6]).toEqual({ ret: 0, optlen: 0 });
    expect(out[9]).toMatchObject({ ret: 0, optlen: 60 });
  });

  it('no cookies (tcp_syncookies = 0): a SYN past the full queue is dropped', () => {
    const out = kernel([
      { kind: 'sysctl', name: 'tcp_syncookies', value: 0 },
      { kind: 'listen', fd: 0, backlog: 1 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'flood', first: 100, count: 2 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
    ]);
    expect(out[6]).toEqual({ ret: -1, errno: 'EAGAIN' });
  });

  it('a Fast Open SYN with data: the child is there at once, and keeps the headers only', () => {
    const out = kernel([
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 },
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'fastOpenSyn', conn: 1, packet: pkt({ payload: 100 }) }, { kind: 'accept', fd: 0 }, read(1, 4096),
      { kind: 'fastOpenSyn', conn: 2, packet: pkt({ family: 6, payload: 20 }) }, { kind: 'accept', fd: 0 }, read(2, 4096),
    ]);
    expect(out[4]).toEqual({ ret: 1 });
    expect(out[5]).toMatchObject({ ret: 0, optlen: 60 });
    expect(out[8]).toMatchObject({ ret: 0, optlen: 80 });
  });

  it('a Fast Open child disconnected before its final ACK gives its Fast Open slot back', () => {
    const opening: Op[] = [
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 },
      { kind: 'listen', fd: 0, backlog: 1 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'fastOpenSyn', conn: 2, packet: pkt({ payload: 13 }) }, { kind: 'accept', fd: 0 }, { kind: 'disconnect', fd: 1 },
    ];
    // Backlog 1 is one Fast Open slot: the same peer, then another, open at once.
    expect(kernel([...opening, { kind: 'fastOpenSyn', conn: 2, packet: pkt({ payload: 1 }) }, { kind: 'accept', fd: 0 }])[7]).toEqual({ ret: 2 });
    expect(kernel([...opening, { kind: 'rst', conn: 2 }, { kind: 'fastOpenSyn', conn: 3, packet: pkt({ payload: 1 }) }, { kind: 'accept', fd: 0 }])[8]).toEqual({ ret: 2 });
  });

  it('closing the listener with a pending request and an unaccepted child', () => {
    kernel([
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'syn', conn: 2, packet: pkt() },
      { kind: 'close', fd: 0 }, { kind: 'ack', conn: 2 }, { kind: 'socket' }, read(0, 100),
    ]);
  });
});

describe.runIf(lane.ok)('generated sequences', () => {
  it('200 sequences agree between the linux spec and the live kernel, and most read a saved SYN', () => {
    const { findings, flaky, runs, census } = searchKernel({ seed: 20261129, runs: 200 });
    for (const f of findings) console.log(renderKernelFinding(f, LINUX));
    expect(findings.map((f) => f.signature), `in ${runs} sequences`).toEqual([]);
    expect(flaky.map((f) => f.signature)).toEqual([]);
    expect(runs).toBe(200);
    expect(census.sequences).toBe(200);
    expect(census.sequencesWithRead / census.sequences).toBeGreaterThanOrEqual(0.5);
    expect(census.reads.successful).toBeGreaterThan(census.reads.errno.EBADF ?? 0);
    // Every device, both families, IP options and Fast Open were asked.
    for (const shape of ['IPv4/eth', 'IPv4/lo', 'IPv4/no MAC', 'IPv6/eth', 'IPv6/lo', 'IPv6/no MAC', 'IPv4+opts/eth', 'IPv6/no MAC Fast Open']) {
      expect(census.synShapes[shape] ?? 0, shape).toBeGreaterThan(0);
    }
    expect(census.synAnswers.cookie ?? 0).toBeGreaterThan(0);
  });
});

describe.runIf(lane.ok)('regressions', () => {
  it('a negative backlog is the largest; accept() on a full table is EMFILE, listening or not', () => {
    const out = kernel([
      { kind: 'listen', fd: 0, backlog: -1 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'ack', conn: 2 },
      { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 0 },
      ...Array.from({ length: 61 }, (): Op => ({ kind: 'socket' })), { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 3 },
    ]);
    expect(out.slice(5, 7)).toEqual([{ ret: 1 }, { ret: 2 }]);
    expect(out.slice(-2)).toEqual([{ ret: -1, errno: 'EMFILE' }, { ret: -1, errno: 'EMFILE' }]);
  });

  it('two sockets bound to the service port connecting to the one peer over one IP version: EADDRNOTAVAIL', () => {
    expect(kernel([...CONNECTS_TO_ONE_PEER]).map((o) => o.errno ?? o.ret).slice(2)).toEqual(['EINPROGRESS', 'EADDRNOTAVAIL', 2, 0, 'EINPROGRESS', 0, 'EINPROGRESS']);
  });

  it('a cookie ACK is steered as its SYN was, whatever options or extension headers the SYN carried', () => {
    for (const packet of [pkt({ ipOptions: true }), pkt({ family: 6, hopByHop: 8 })]) {
      const out = kernel([
        { kind: 'sysctl', name: 'tcp_syncookies', value: 2 }, { kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 8 },
        { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 8 },
        { kind: 'syn', conn: 1, packet, to: 1 }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 1 }, { kind: 'accept', fd: 0 },
      ]);
      expect(out.slice(-2).map((o) => o.errno ?? o.ret)).toEqual([2, 'EAGAIN']);
    }
  });

  it('an accepted connection closed with nothing unread is an orphan: its tuple and its Fast Open request stay taken', () => {
    const closed: Op[] = [{ kind: 'listen', fd: 0, backlog: 5 }, { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, { kind: 'close', fd: 1 }];
    const again: Op[] = [{ kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }];
    expect(kernel([...closed, ...again]).at(-1)).toEqual({ ret: -1, errno: 'EAGAIN' });
    expect(kernel([...closed, { kind: 'rst', conn: 1 }, ...again]).at(-1)).toEqual({ ret: 1 });
    // The peer's SYN on the orphan's tuple draws a challenge ACK, and the
    // peer's RST, built from it, resets the orphan.
    expect(kernel([...closed, again[0], { kind: 'rst', conn: 1 }, ...again]).at(-1)).toEqual({ ret: 1 });
    const tfo = pkt({ fastOpen: 'request' });
    const fastOpen = (payload: number, between: Op[]): Op[] => [
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'listen', fd: 0, backlog: 1 },
      { kind: 'fastOpenSyn', conn: 1, packet: { ...tfo, payload } }, { kind: 'accept', fd: 0 }, { kind: 'close', fd: 1 }, ...between,
      { kind: 'fastOpenSyn', conn: 2, packet: tfo }, { kind: 'accept', fd: 0 },
    ];
    expect(kernel(fastOpen(0, [])).at(-1)).toEqual({ ret: -1, errno: 'EAGAIN' });
    expect(kernel(fastOpen(0, [{ kind: 'rst', conn: 1 }])).at(-1)).toEqual({ ret: -1, errno: 'EAGAIN' });
    expect(kernel(fastOpen(0, [{ kind: 'ack', conn: 1 }])).at(-1)).toEqual({ ret: 1 });
    expect(kernel(fastOpen(10, [])).at(-1)).toEqual({ ret: 1 });
  });

  it('tcp_migrate_req 2 is on, as any nonzero value of a sysctl but tcp_syncookies', () => {
    expect(kernel([{ kind: 'sysctl', name: 'tcp_migrate_req', value: 2 }, { kind: 'sysctl', name: 'tcp_fastopen', value: 2 }])).toEqual([{ ret: 0 }, { ret: 0 }]);
  });

  it('a SYN is steered only by a port found where its own headers put it, and a flood is not steered by an earlier SYN of its peers', () => {
    const group: Op[] = [
      { kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 8 },
      { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 8 },
    ];
    const accepts = (ops: Op[], n: number) => kernel([...group, ...ops]).slice(-n).map((o) => o.errno ?? o.ret);
    // Where a steered peer's port sits past IPv4 options, a plain SYN holds
    // its sequence number, 0x5300 in its upper half: port 21248, peer 1248.
    expect(accepts([
      { kind: 'syn', conn: 1248, packet: pkt({ ipOptions: true }), to: 1 }, { kind: 'syn', conn: 5, packet: pkt() }, { kind: 'ack', conn: 5 },
      { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 1 },
    ], 2)).toEqual([2, 'EAGAIN']);
    // An IPv6 peer's port past a hop-by-hop header lies beyond a short
    // IPv4 SYN, whose own steering must still be found.
    const bare = pkt({ mss: false, sackPermitted: false, timestamps: false, windowScale: false });
    expect(accepts([
      { kind: 'syn', conn: 1, packet: pkt({ family: 6, hopByHop: 8 }), to: 0 }, { kind: 'syn', conn: 2, packet: bare, to: 1 },
      { kind: 'ack', conn: 1 }, { kind: 'ack', conn: 2 }, { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 1 },
    ], 3)).toEqual([2, 'EAGAIN', 3]);
    expect(accepts([
      { kind: 'syn', conn: 5, packet: pkt(), to: 1 }, { kind: 'rst', conn: 5 }, { kind: 'flood', first: 5, count: 1 }, { kind: 'ack', conn: 5 },
      { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 1 },
    ], 2)).toEqual([2, 'EAGAIN']);
  });

  it('dual-stack and v6only listeners with SO_REUSEPORT are two groups, each steered by its own program; IPv6 SYNs meet the first to listen', () => {
    const accepts = (ops: Op[]) => kernel(ops).slice(-10).map((o) => o.errno ?? o.ret);
    expect(accepts(twoIpv6Groups(false, [1, 0, 1, 0]))).toEqual([2, 3, 4, 5, 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN']);
    expect(accepts(twoIpv6Groups(true, [1, 0, 1, 0]))).toEqual(['EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN', 2, 3, 4, 5, 'EAGAIN']);
    // A second dual-stack member: the dual group of two is steered by its
    // own program, modulo two, while the v6only group has one.
    const steered: Op[] = [
      { kind: 'socket', v6only: 1 }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 8 },
      { kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 8 },
      { kind: 'socket' }, { kind: 'reuseport', fd: 2 }, { kind: 'bind', fd: 2 }, { kind: 'listen', fd: 2, backlog: 8 },
      { kind: 'syn', conn: 1, packet: pkt(), to: 3 }, { kind: 'ack', conn: 1 }, { kind: 'syn', conn: 2, packet: pkt(), to: 2 }, { kind: 'ack', conn: 2 },
      { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 2 }, { kind: 'accept', fd: 1 },
    ];
    expect(kernel(steered).slice(-3).map((o) => o.errno ?? o.ret)).toEqual([3, 4, 'EAGAIN']);
  });

  it('an ACK dropped on a full accept queue completes the handshake when it comes again', () => {
    // The peer's second ACK is the same segment; the request still waits for it.
    const ops: Op[] = [
      { kind: 'listen', fd: 0, backlog: 0 }, { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'syn', conn: 2, packet: pkt() },
      { kind: 'ack', conn: 2 }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, { kind: 'cookieAck', conn: 1 }, { kind: 'accept', fd: 0 },
    ];
    const r = runDifferential(ops);
    expect(r.disagreement?.differences).toBeUndefined();
    expect(r.actual[7]).toEqual({ ret: 2 });
    expect(r.wire[2]).toBe('cookie/2');
  });

  it('a peer the kernel resets sends nothing more: a cookie child disconnected is not made again', () => {
    // The disconnect resets peer 2; were its ACK sent again, the cookie in it
    // would validate afresh and the kernel would make a second child.
    const ops: Op[] = [
      { kind: 'listen', fd: 0, backlog: 0 }, { kind: 'fastOpenSyn', conn: 1, packet: pkt({ ipOptions: true, mac: 'ethernet', fastOpen: 'cookie', payload: 1400 }) },
      { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'ack', conn: 2 }, { kind: 'accept', fd: 0 }, { kind: 'disconnect', fd: 1 },
      { kind: 'ackRetransmit', conn: 2 }, { kind: 'accept', fd: 0 },
    ];
    const r = runDifferential(ops);
    expect(r.disagreement?.differences).toBeUndefined();
    expect([r.wire[2], r.wire[6], r.actual[7].errno]).toEqual(['cookie/2', 'unsent', 'EAGAIN']);
  });

  it('what a system call sends is that call\'s, not the next network op\'s', () => {
    const ops: Op[] = [
      ...acceptedWith(SAVE, 1), { kind: 'disconnect', fd: 1 },
      { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'ack', conn: 2 }, { kind: 'close', fd: 0 }, { kind: 'accept', fd: 0 },
    ];
    const r = runDifferential(ops);
    expect(r.disagreement?.differences).toBeUndefined();
    expect(r.wire[5]).toBe('rst/1');
    expect([r.wire[6], r.wire[7]]).toEqual(['synack/2', 'quiet']);
    expect(r.wire[8]).toBe('rst/2');
  });

  it('an ACK with cookies off is reset, and the peer gives up its cookie', () => {
    const ops: Op[] = [
      { kind: 'sysctl', name: 'tcp_syncookies', value: 2 }, { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'syn', conn: 1, packet: pkt() },
      { kind: 'sysctl', name: 'tcp_syncookies', value: 0 }, { kind: 'ack', conn: 1 },
      { kind: 'sysctl', name: 'tcp_syncookies', value: 1 }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
    ];
    const r = runDifferential(ops);
    expect(r.disagreement?.differences).toBeUndefined();
    expect([r.wire[2], r.wire[4], r.wire[6], r.actual[7].errno]).toEqual(['cookie/1', 'rst/1', 'unsent', 'EAGAIN']);
  });

  it('a Fast Open child waiting for its final ACK does not count against the SYN queue', () => {
    const out = kernel([
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 },
      { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }, { kind: 'listen', fd: 0, backlog: 1 },
      { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'fastOpenSyn', conn: 3, packet: pkt({ payload: 79 }) },
      // Backlog 1 with one request: not full, so a request, and its SYN kept.
      { kind: 'syn', conn: 4, packet: pkt({ family: 6, mac: 'none' }) },
      { kind: 'ack', conn: 2 }, { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 0 }, { kind: 'ack', conn: 4 }, { kind: 'accept', fd: 0 },
      read(3, 4096),
    ]);
    expect(out[11]).toMatchObject({ ret: 0, optlen: 80 });
  });
});

describe.runIf(lane.ok)('what makes a Fast Open SYN, to a kernel that requires no cookie (tcp_fastopen 0x607)', () => {
  it('data alone, a cookie request alone, or a cookie: a child at once, before any ACK', () => {
    const shapes = [pkt({ payload: 20 }), pkt({ fastOpen: 'request' }), pkt({ fastOpen: 'cookie' }), pkt({ fastOpen: 'cookie', payload: 1400, family: 6, mac: 'ethernet' })];
    const ops: Op[] = [{ kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'listen', fd: 0, backlog: 8 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }];
    shapes.forEach((packet, i) => ops.push({ kind: 'fastOpenSyn', conn: i + 1, packet }, { kind: 'accept', fd: 0 }));
    const out = kernel(ops);
    expect(shapes.map((_, i) => out[4 + 2 * i].ret)).toEqual([1, 2, 3, 4]);
  });

  it('with the server side off, the same SYNs wait for their ACK like any other', () => {
    const out = kernel([
      { kind: 'listen', fd: 0, backlog: 8 }, { kind: 'fastOpenSyn', conn: 1, packet: pkt({ fastOpen: 'cookie', payload: 20 }) }, { kind: 'accept', fd: 0 },
      { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
    ]);
    expect([out[2].errno, out[4].ret]).toEqual(['EAGAIN', 1]);
  });
});

describe('confirming a disagreement', () => {
  const disagree = (ops: readonly Op[]): DifferentialResult => {
    const expected = specOutcomes(ops);
    const actual = expected.map((o) => ({ ...o }));
    const step = ops.findIndex((op) => op.kind === 'accept');
    actual[step] = { ret: -1, errno: 'EAGAIN' };
    return {
      expected, actual, wire: ops.map(() => undefined),
      disagreement: { step, op: ops[step], expected: expected[step], actual: actual[step], differences: ['ret: made up'], signature: 'kernel:accept:ret' },
    };
  };
  const agree = (ops: readonly Op[]): DifferentialResult => ({ expected: specOutcomes(ops), actual: specOutcomes(ops), wire: ops.map(() => undefined), disagreement: undefined });
  const acceptIn = (ops: readonly Op[]): boolean => ops.some((op) => op.kind === 'accept');

  it('reports one that persists, minimised and confirmed by a slow run', () => {
    const settles: number[] = [];
    const r = searchKernel({ seed: 5, runs: 50, runner: (ops, o) => { settles.push(o.settleMs ?? 0); return acceptIn(ops) ? disagree(ops) : agree(ops); } });
    expect(r.findings.map((f) => [f.signature, f.ops])).toEqual([['kernel:accept:ret', [{ kind: 'accept', fd: 0 }]]]);
    expect(r.findings[0].confirmation.disagreement?.signature).toBe('kernel:accept:ret');
    expect(settles.filter((ms) => ms === CONFIRM_SETTLE_MS)).toHaveLength(1);
    expect(r.flaky).toEqual([]);
  });

  it('reports one that does not come back as flaky, with both runs, and never as a finding', () => {
    let calls = 0;
    const r = searchKernel({ seed: 5, runs: 50, runner: (ops) => (acceptIn(ops) && calls++ === 0 ? disagree(ops) : agree(ops)) });
    expect(r.findings).toEqual([]);
    expect(r.flaky).toHaveLength(1);
    expect(r.flaky[0].shown.disagreement?.signature).toBe('kernel:accept:ret');
    expect(r.flaky[0].rerun.disagreement).toBeUndefined();
  });

  it('a signature that did not come back once is confirmed again when it is met again, and found', () => {
    let shown = 0;
    // The first disagreement does not come back; every later one does.
    const r = searchKernel({ seed: 5, runs: 50, runner: (ops) => (acceptIn(ops) && shown++ !== 1 ? disagree(ops) : agree(ops)) });
    expect(r.flaky.map((f) => f.signature)).toEqual(['kernel:accept:ret']);
    expect(r.findings.map((f) => [f.signature, f.ops])).toEqual([['kernel:accept:ret', [{ kind: 'accept', fd: 0 }]]]);
  });

  it('a signature that never comes back is tried a bounded number of times, and listed once', () => {
    let runs = 0;
    const r = searchKernel({ seed: 5, runs: 200, runner: (ops, o) => { runs++; return acceptIn(ops) && !o.settleMs ? disagree(ops) : agree(ops); } });
    expect(r.findings).toEqual([]);
    expect(r.flaky).toHaveLength(1);
    // Each try minimises on the kernel: about a dozen runs, not one per sequence.
    expect(runs - r.runs).toBeLessThan(MAX_FLAKY_TRIES * 40);
  });

  it('one the slow run does not confirm is flaky too', () => {
    const r = searchKernel({ seed: 5, runs: 50, runner: (ops, o) => (acceptIn(ops) && !o.settleMs ? disagree(ops) : agree(ops)) });
    expect(r.findings).toEqual([]);
    expect(r.flaky.map((f) => f.ops)).toEqual([[{ kind: 'accept', fd: 0 }]]);
  });

  it('a lane that fails is listed and counted, not a finding; one that never ran is an error, not a pass', () => {
    const r = searchKernel({ seed: 5, runs: 10, runner: () => { throw new KernelLaneError('no answer to the barrier'); } });
    expect(r.findings).toEqual([]);
    expect(r.laneFailures).toHaveLength(10);
    expect(r.census.laneErrors).toBe(10);
    expect(laneNeverRan(r)?.message).toMatch(/^the kernel lane failed on every sequence \(10\), so nothing was compared; the first failure: no answer to the barrier/);
    let n = 0;
    const some = searchKernel({ seed: 5, runs: 10, runner: (ops) => { if (n++ % 2 === 0) throw new KernelLaneError('once'); return agree(ops); } });
    expect(some.laneFailures.length).toBeGreaterThan(0);
    expect(laneNeverRan(some)).toBeUndefined();
  });

  it('savedsyn kernel and a kernel campaign exit 2 when the lane runs nothing', () => {
    // An unshare that answers the lane's probe and fails every real run,
    // as a cache folder mounted noexec makes the real one do.
    const bin = mkdtempSync(join(tmpdir(), 'savedsyn-fake-unshare-'));
    writeFileSync(join(bin, 'unshare'), '#!/bin/sh\n[ "$2" = true ] && exit 0\necho "cannot execute: Permission denied" >&2\nexit 126\n', { mode: 0o755 });
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const run = (args: string[]) => spawnSync(process.execPath, [SAVEDSYN, ...args, '--out', mkdtempSync(join(tmpdir(), 'savedsyn-nolane-'))], { encoding: 'utf8', env, timeout: 60_000 });
    const k = run(['kernel', '--runs', '3']);
    expect(k.stderr).toMatch(/the kernel lane failed on every sequence \(3\), so nothing was compared; the first failure: .*Permission denied/);
    expect(k.status).toBe(2);
    const f = run(['fuzz', '--impl', 'kernel', '--runs', '20']);
    expect(f.stderr).toMatch(/the kernel lane failed on every sequence/);
    expect(f.status).toBe(2);
  });
});

describe.runIf(lane.ok)('savedsyn kernel', () => {
  it('runs the lane for as many sequences as asked and writes what it found', async () => {
    const lines: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'savedsyn-kernel-'));
    const code = await main(['kernel', '--runs', '20', '--seed', '3', '--out', dir], (l) => lines.push(l));
    expect(lines[0]).toBe('live kernel vs linux spec: 20 sequences, 0 distinct disagreement(s)');
    expect(lines[1]).toMatch(/^census: \d+ of 20 sequences \(\d+%\) read a saved SYN; TCP_SAVED_SYN reads: \d+ with bytes, \d+ empty/);
    expect(code).toBe(0);
    const json = JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8'));
    expect(json).toMatchObject({ sequences: 20, disagreements: [], flaky: [], census: { sequences: 20 } });
    expect(json.census.sequencesWithRead).toBeGreaterThan(0);
  });

  it('a confirming run of a long case settles no longer in all than half the first SYN-ACK timeout, which the spec fires only when told', () => {
    expect(confirmSettleMs([{ kind: 'accept', fd: 0 }])).toBe(CONFIRM_SETTLE_MS);
    const long: Op[] = [
      { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }, { kind: 'listen', fd: 0, backlog: 5 }, { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'shutdown', fd: 0, how: 0 },
      ...Array.from({ length: 60 }, (): Op => flag(0)), { kind: 'listen', fd: 0, backlog: 5 }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, read(1, 100),
    ];
    expect(confirmSettleMs(long) * long.length).toBeLessThanOrEqual(500);
    // Settled at the full rate, the request's timer fired in the kernel before the ACK.
    const r = runDifferential(long, { settleMs: confirmSettleMs(long) });
    expect(r.disagreement?.differences).toBeUndefined();
  });

  it('replay --impl kernel runs a token of the linux spec on the live kernel', async () => {
    const ops: Op[] = [...acceptedWith(SAVE, 1), { kind: 'getsockopt', fd: 1, optname: SAVED, bufSize: 512 }];
    const token = encodeToken({ profile: 'linux', impl: 'linux', kind: 'sequential', ops });
    const lines: string[] = [];
    expect(await main(['replay', token, '--impl', 'kernel', '--out', mkdtempSync(join(tmpdir(), 'savedsyn-kreplay-'))], (l) => lines.push(l))).toBe(0);
    expect(lines[0]).toBe('passes (kernel, profile linux)');
  });
});

describe.runIf(lane.ok)('the C reproducer', () => {
  it('replays a sequence on the live kernel on its own, and stops where the kernel and the spec differ, to the byte', () => {
    const ops = [...acceptedWith(SAVE, 2), read(1, 10), read(1, 4096), read(1, 4096)];
    const expected = specOutcomes(ops);
    const dir = mkdtempSync(join(tmpdir(), 'savedsyn-repro-'));
    const build = (exp: Outcome[]) => {
      writeFileSync(join(dir, 'repro.c'), cReproducer('mode 2 read', ops, exp));
      const cc = spawnSync('cc', ['-O1', '-o', join(dir, 'repro'), join(dir, 'repro.c')], { encoding: 'utf8' });
      expect(cc.status, cc.stderr).toBe(0);
      return spawnSync('unshare', ['-rn', join(dir, 'repro')], { encoding: 'utf8', timeout: 20_000 });
    };
    const agree = build(expected);
    expect(agree.stdout).toContain('step 6: getsockopt 1 28 4096: kernel 0 - 74 74, spec 0 - 74 74');
    expect(agree.stdout).toContain('the kernel agrees with the linux spec on every step');
    expect(agree.status).toBe(0);
    const wrong = build(expected.map((o, i) => (i === 6 ? { ...o, optlen: 60 } : o)));
    expect(wrong.stdout).toMatch(/step 6: .*<-- differs/);
    expect(wrong.status).toBe(1);
    // Same length, one byte of the saved SYN changed (the IPv4 TTL, after
    // the 14-byte MAC header): caught, and named by its offset.
    const ttl = 14 + 8;
    const flipped = build(expected.map((o, i) => (i === 6 && o.bytes ? { ...o, bytes: o.bytes.map((b, k) => (k === ttl ? b ^ 1 : b)) } : o)));
    expect(flipped.stdout).toMatch(/step 6: getsockopt 1 28 4096: kernel 0 - 74 74, spec 0 - 74 74   <-- differs/);
    expect(flipped.stdout).toContain(`byte ${ttl} differs`);
    expect(flipped.status).toBe(1);
  });
});

describe('what the kernel lane can be asked', () => {
  it('runs every SYN shape, and refuses only timers and what the kernel would read as another op', () => {
    expect(unrealisable({ kind: 'synackTimeout', conn: 1 })).toMatch(/timers/);
    expect(unrealisable({ kind: 'expireAll' })).toMatch(/timers/);
    for (const mac of ['ethernet', 'loopback', 'none'] as const) {
      expect(unrealisable({ kind: 'syn', conn: 1, packet: pkt({ mac, family: 6, mss: false, timestamps: false }) })).toBeUndefined();
      expect(unrealisable({ kind: 'fastOpenSyn', conn: 1, packet: pkt({ mac, fastOpen: 'cookie', payload: 20 }) })).toBeUndefined();
    }
    expect(unrealisable({ kind: 'syn', conn: 1, packet: pkt({ payload: 1 }) })).toMatch(/is a Fast Open SYN to the kernel/);
    expect(unrealisable({ kind: 'syn', conn: 1, packet: pkt({ fastOpen: 'request' }) })).toMatch(/is a Fast Open SYN to the kernel/);
    expect(unrealisable({ kind: 'fastOpenSyn', conn: 1, packet: pkt() })).toMatch(/is a plain SYN to the kernel/);
    expect(unrealisable({ kind: 'connect', fd: 1 })).toBeUndefined();
    expect(() => toLine({ kind: 'expireAll' })).toThrow(/cannot run on the live kernel/);
  });

  it('sends the model\'s frame, named by its device', () => {
    const line = toLine({ kind: 'syn', conn: 3, packet: pkt({ mac: 'ethernet' }) });
    expect(line).toMatch(/^syn 3 ethernet 020000000001020000000002080045/);
    expect(toLine({ kind: 'flood', first: 100, count: 2 }).split(' ').slice(0, 3)).toEqual(['flood', '100', 'loopback']);
    expect(toLine({ kind: 'cookieAck', conn: 3 })).toBe('ack 3');
  });

  it('steers a SYN to a group index by its source port, past the network header; sets SO_REUSEPORT; waits out a SYN-ACK timer', () => {
    const v4 = toLine({ kind: 'syn', conn: 3, packet: pkt({ ipOptions: true }), to: 1 }).split(' ');
    expect(v4.slice(0, 5)).toEqual(['synto', '3', '1', '24', 'loopback']);
    expect(toLine({ kind: 'syn', conn: 3, packet: pkt({ family: 6 }), to: 0 }).split(' ').slice(0, 4)).toEqual(['synto', '3', '0', '40']);
    expect(toLine({ kind: 'reuseport', fd: 2 })).toBe('reuseport 2');
    expect(toLine({ kind: 'synackRetransmit', conn: 4 })).toBe('retransmit 4');
    expect(unrealisable({ kind: 'synackRetransmit', conn: 4 })).toBeUndefined();
  });

  it('gives every SYN a peer of its own, keeps later packets pointed at it, and names the SYN by its shape', () => {
    const ops = toKernelCase([
      { kind: 'syn', conn: 2, packet: pkt({ mss: false, mac: 'none' }) }, { kind: 'ack', conn: 2 },
      { kind: 'syn', conn: 2, packet: pkt({ payload: 20 }) }, { kind: 'rst', conn: 2 }, { kind: 'connect', fd: 0 },
      { kind: 'fastOpenSyn', conn: 3, packet: pkt() }, { kind: 'synackTimeout', conn: 3 }, { kind: 'ack', conn: 1 },
    ]);
    expect(ops).toEqual([
      { kind: 'syn', conn: 1, packet: pkt({ mss: false, mac: 'none' }) }, { kind: 'ack', conn: 1 },
      { kind: 'fastOpenSyn', conn: 2, packet: pkt({ payload: 20 }) }, { kind: 'rst', conn: 2 }, { kind: 'connect', fd: 0 },
      { kind: 'syn', conn: 3, packet: pkt() }, { kind: 'ack', conn: 901 },
    ]);
  });
});

describe('what shrinking may leave of a kernel case', () => {
  it('refuses a SYN the kernel reads as another kind, and two SYNs from one peer', () => {
    const ok: Op[] = [{ kind: 'listen', fd: 0, backlog: 4 }, { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'flood', first: 2, count: 3 }, { kind: 'ack', conn: 1 }];
    expect(isKernelCase(ok)).toBe(true);
    expect(isKernelCase([{ kind: 'syn', conn: 1, packet: pkt({ payload: 20 }) }])).toBe(false);
    expect(isKernelCase([{ kind: 'fastOpenSyn', conn: 1, packet: pkt() }])).toBe(false);
    expect(isKernelCase([{ kind: 'syn', conn: 1, packet: pkt() }, { kind: 'syn', conn: 1, packet: pkt({ family: 6 }) }])).toBe(false);
    expect(isKernelCase([{ kind: 'flood', first: 1, count: 2 }, { kind: 'syn', conn: 2, packet: pkt() }])).toBe(false);
  });
});
