// The live kernel as an oracle: every row of the reference table and both
// cookie modes, run on this machine's kernel in a private namespace, agree
// with the linux spec; so do generated sequences.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { searchKernel } from '../fuzz/kernel-search.ts';
import { toKernelCase } from '../fuzz/kernel-cases.ts';
import { toLine, unrealisable } from '../model/kernel/lane.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { TCP_SAVE_SYN as SAVE, TCP_SAVED_SYN as SAVED, type Op, type Outcome } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import { runDifferential, specOutcomes } from '../properties/differential.ts';
import { cReproducer } from '../reports/reproducers.ts';
import { renderKernelFinding } from '../reports/text.ts';
import { acceptedWith, pkt } from './helpers.ts';

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
  it('200 sequences agree between the linux spec and the live kernel', () => {
    const { findings, runs } = searchKernel({ seed: 20261129, runs: 200 });
    for (const f of findings) console.log(renderKernelFinding(f, LINUX));
    expect(findings.map((f) => f.signature), `in ${runs} sequences`).toEqual([]);
    expect(runs).toBe(200);
  });
});

describe.runIf(lane.ok)('savedsyn kernel', () => {
  it('runs the lane for as many sequences as asked and writes what it found', async () => {
    const lines: string[] = [];
    const dir = mkdtempSync(join(tmpdir(), 'savedsyn-kernel-'));
    const code = await main(['kernel', '--runs', '20', '--seed', '3', '--out', dir], (l) => lines.push(l));
    expect(lines[0]).toBe('live kernel vs linux spec: 20 sequences, 0 distinct disagreement(s)');
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'kernel.json'), 'utf8'))).toMatchObject({ sequences: 20, disagreements: [] });
  });
});

describe.runIf(lane.ok)('the C reproducer', () => {
  it('replays a sequence on the live kernel on its own, and stops where the kernel and the spec differ', () => {
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
  });
});

describe('what the kernel lane can be asked', () => {
  it('refuses what a loopback client cannot do, and says why', () => {
    expect(unrealisable({ kind: 'connect', fd: 1 })).toMatch(/SYN_SENT/);
    expect(unrealisable({ kind: 'synackTimeout', conn: 1 })).toMatch(/timers/);
    expect(unrealisable({ kind: 'syn', conn: 1, packet: pkt({ mac: 'none' }) })).toMatch(/would not send/);
    expect(unrealisable({ kind: 'syn', conn: 1, packet: pkt({ family: 6 }) })).toBeUndefined();
    expect(() => toLine({ kind: 'expireAll' })).toThrow(/cannot run on the live kernel/);
  });

  it('gives every SYN a peer of its own and keeps later packets pointed at it', () => {
    const ops = toKernelCase([
      { kind: 'syn', conn: 2, packet: pkt({ mss: false }) }, { kind: 'ack', conn: 2 },
      { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'rst', conn: 2 }, { kind: 'connect', fd: 0 },
    ]);
    expect(ops).toEqual([
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 },
      { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'rst', conn: 2 },
    ]);
  });
});
