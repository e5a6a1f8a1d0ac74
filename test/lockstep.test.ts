// linux and rfc-v1-fixed agree with their spec on thousands of generated
// single-thread cases, every oracle included.
import { test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { opsArb } from '../fuzz/arbitraries.ts';
import { minimize } from '../fuzz/minimize.ts';
import { isValueMinimal, shrinkValues } from '../fuzz/simplify-values.ts';
import { bundledByName } from '../model/impl/registry.ts';
import type { Op } from '../model/ops.ts';
import { DEFAULT_PACKET, parseSyn, type PacketDescriptor } from '../model/packet.ts';
import { profileByName, RFC_V1 } from '../model/profile.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { scenario, twoIpv6Groups } from './helpers.ts';
import { renderFinding } from '../reports/text.ts';

const CASES = 2000;

for (const [name, seed] of [['linux', 20260101], ['rfc-v1-fixed', 20260102]] as const) {
  const impl = bundledByName(name)!;
  const profile = profileByName(impl.profile)!;
  describe('SO_REUSEPORT listeners of both IPv6 kinds', () => {
  it('are one pool in 4.1, whose lookup pools every listener of the best score, and two groups today', () => {
    // Dual-stack fd 0 listens first, then v6only fd 1; SYNs steered to 1, then 0.
    const accepts = (impl: string) => {
      const { result, actual } = scenario(impl, twoIpv6Groups(false, [1, 0]));
      expect(result.failure).toBeUndefined();
      return actual.slice(-6).map((o) => o.errno ?? o.ret);
    };
    expect(accepts('rfc-v1')).toEqual([2, 'EAGAIN', 'EAGAIN', 3, 'EAGAIN', 'EAGAIN']);
    expect(accepts('linux')).toEqual([2, 3, 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN']);
  });
});

describe(`${name} against the ${profile.name} spec`, () => {
    test.prop([opsArb(profile)], { numRuns: CASES, seed })(`${CASES} single-thread cases in lockstep`, (ops) => {
      const failure = runLockstep(impl, profile, ops).failure;
      if (failure) {
        // Print the 1-minimal form of what fast-check shrank.
        const min = minimize(ops.slice(0, failure.step + 1), (c) => runLockstep(impl, profile, c).failure?.signature === failure.signature);
        const result = runLockstep(impl, profile, min, { recordSites: true });
        const text = renderFinding({
          signature: failure.signature, oracle: failure.oracle, message: failure.message,
          ops: min, result, seed, path: '(printed by fast-check below)', runsToFind: 0,
        }, profile);
        throw new Error(`\n${text}`);
      }
    });
  });
}


describe('minimize: the values too, not only the ops', () => {
  const rfcV1 = bundledByName('rfc-v1')!;
  const shrink = (ops: Op[]) => {
    const failure = runLockstep(rfcV1, RFC_V1, ops).failure!;
    const fails = (c: Op[]) => runLockstep(rfcV1, RFC_V1, c).failure?.signature === failure.signature;
    const min = minimize(ops.slice(0, failure.step + 1), fails);
    return { signature: failure.signature, min, fails };
  };
  const fastOpen: PacketDescriptor = {
    family: 6, mac: 'none', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'cookie', payload: 40,
  };

  it('a Fast Open SYN from peer 3, backlog 4, flag 3 and a 4096-byte read shrink to a plain SYN from peer 1, backlog 0, flag 1', () => {
    const { signature, min, fails } = shrink([
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 },
      { kind: 'listen', fd: 0, backlog: 4 },
      { kind: 'fastOpenSyn', conn: 3, packet: fastOpen },
      { kind: 'fastOpenSyn', conn: 2, packet: fastOpen },
      { kind: 'getsockopt', fd: 0, optname: 26, bufSize: 4096 },
      { kind: 'ack', conn: 3 },
      { kind: 'setsockopt', fd: 0, optname: 26, value: 3 },
      { kind: 'accept', fd: 0 },
    ]);
    expect(signature).toBe('state:accept:flag');
    expect(min).toEqual([
      { kind: 'listen', fd: 0, backlog: 0 },
      { kind: 'syn', conn: 1, packet: DEFAULT_PACKET },
      { kind: 'ack', conn: 1 },
      { kind: 'setsockopt', fd: 0, optname: 26, value: 1 },
      { kind: 'accept', fd: 0 },
    ]);
    expect(min[1].kind === 'syn' && min[1].packet).toBe(DEFAULT_PACKET);
    expect(isValueMinimal(min, fails)).toBe(true);
  });

  it('IPv6 extension headers shrink toward none: 16 bytes of hop-by-hop to 8, the others gone, absent rather than false', () => {
    const packet: PacketDescriptor = { ...DEFAULT_PACKET, family: 6, mac: 'ethernet', hopByHop: 16, routing: true, destOpts: true };
    const needsHopByHop = (ops: Op[]): boolean => ops.some((o) => o.kind === 'syn' && o.packet.family === 6 && (o.packet.hopByHop ?? 0) > 0);
    const { ops } = shrinkValues([{ kind: 'syn', conn: 1, packet }], needsHopByHop);
    expect(ops).toEqual([{ kind: 'syn', conn: 1, packet: { ...DEFAULT_PACKET, family: 6, hopByHop: 8 } }]);
    expect(Object.keys(ops[0].kind === 'syn' ? ops[0].packet : {})).not.toContain('routing');
    const { ops: none } = shrinkValues([{ kind: 'syn', conn: 1, packet }], () => true);
    expect(none[0].kind === 'syn' && none[0].packet).toBe(DEFAULT_PACKET);
  });

  it('descriptor 2 on the second of two new sockets shrinks to descriptor 0 alone, flag 7 to 1', () => {
    const { signature, min } = shrink([{ kind: 'socket' }, { kind: 'socket' }, { kind: 'setsockopt', fd: 2, optname: 26, value: 7 }]);
    expect(signature).toBe('state:setsockopt:flag');
    expect(min).toEqual([{ kind: 'setsockopt', fd: 0, optname: 26, value: 1 }]);
  });
});

// Cases campaigns found where the model itself was wrong, kept once fixed.
describe('model regressions', () => {
  const tfoThenDisconnect = (setOpt: number, readOpt: number) => [
    { kind: 'sysctl', name: 'tcp_fastopen', value: 1 },
    { kind: 'listen', fd: 0, backlog: 1 },
    { kind: 'setsockopt', fd: 0, optname: setOpt, value: 1 },
    { kind: 'fastOpenSyn', conn: 2, packet: { family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'request', payload: 1 } },
    { kind: 'accept', fd: 0 },
    { kind: 'disconnect', fd: 1 },
    // The final ACK finds no child waiting for it; the peer then starts anew.
    { kind: 'ack', conn: 2 },
    { kind: 'syn', conn: 2, packet: { family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'none', payload: 0 } },
    { kind: 'ack', conn: 2 },
    { kind: 'accept', fd: 0 },
    { kind: 'getsockopt', fd: 2, optname: readOpt, bufSize: 4096 },
  ] as const;
  for (const name of ['rfc-v1-fixed', 'linux']) {
    it(`${name}: a Fast Open child disconnected before its final ACK`, () => {
      const impl = bundledByName(name)!;
      const profile = profileByName(impl.profile)!;
      const result = runLockstep(impl, profile, [...tfoThenDisconnect(profile.setOpt, profile.readOpt)]);
      expect(result.failure?.message).toBeUndefined();
      expect(result.steps[9].actual).toEqual({ ret: 2 });
    });
  }

  // The same peer, or another, opens anew while a disconnected Fast Open
  // child (backlog 1, so one Fast Open slot) has not had its final ACK.
  const tfo = { family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'cookie', payload: 13 } as const;
  const disconnectedTfoChild = (setOpt: number): Op[] => [
    { kind: 'sysctl', name: 'tcp_fastopen', value: 1 },
    { kind: 'listen', fd: 0, backlog: 1 },
    { kind: 'setsockopt', fd: 0, optname: setOpt, value: 1 },
    { kind: 'fastOpenSyn', conn: 2, packet: tfo },
    { kind: 'accept', fd: 0 },
    { kind: 'disconnect', fd: 1 },
  ];
  for (const [name, era] of [['rfc-v1-fixed', '4.1'], ['linux', 'today']] as const) {
    const impl = bundledByName(name)!;
    const profile = profileByName(impl.profile)!;
    // Today the slot comes back on disconnect; 4.1 holds it until the child
    // is destroyed, and a reset cannot reach the unhashed child to free it.
    const fastOpenAgain = era === 'today' ? { ret: 2 } : { ret: -1, errno: 'EAGAIN' };
    /** Each step's result, after the implementation agreed with its spec throughout. */
    const agreed = (ops: Op[]) => {
      const result = runLockstep(impl, profile, ops);
      expect(result.failure?.message).toBeUndefined();
      return result.steps.map((st) => st.actual!);
    };
    // A peer's SYN, ACK and accept(), then a read of what fd 2 holds.
    const acceptedFrom = (conn: number): Op[] => [
      { kind: 'syn', conn, packet: { ...tfo, fastOpen: 'none', payload: 0 } },
      { kind: 'ack', conn },
      { kind: 'accept', fd: 0 },
      { kind: 'getsockopt', fd: 2, optname: profile.readOpt, bufSize: 4096 },
    ];
    it(`${name}: the peer of a disconnected Fast Open child opens again, and another peer connects`, () => {
      const ops: Op[] = [
        ...disconnectedTfoChild(profile.setOpt),
        { kind: 'fastOpenSyn', conn: 2, packet: { ...tfo, fastOpen: 'request', payload: 1 } },
        ...acceptedFrom(3),
      ];
      const out = agreed(ops);
      expect(out[9]).toEqual({ ret: 2 });
      // Today the peer's second SYN made a Fast Open child, accepted first;
      // in 4.1 it waits for its ACK and fd 2 is peer 3's.
      const parsed = parseSyn(out[10].bytes!);
      expect(parsed.ok && parsed.syn.conn).toBe(era === 'today' ? 2 : 3);
    });
    // Only 4.1 holds the slot; today's SYN queue of one is long past full.
    if (era === '4.1') it(`${name}: the held Fast Open slot counts once against a SYN queue almost full`, () => {
      const ops: Op[] = [
        ...disconnectedTfoChild(profile.setOpt).slice(0, 3),
        // 14 requests; 4.1 goes to cookies at 16.
        { kind: 'flood', first: 100, count: 14 },
        ...disconnectedTfoChild(profile.setOpt).slice(3),
        ...acceptedFrom(2),
      ];
      // 14 requests and the held slot make 15: the SYN is still kept.
      expect(agreed(ops)[10].optlen).toBeGreaterThan(0);
    });
    it(`${name}: a reset or a timer after the disconnect cannot reach the unhashed child`, () => {
      const ops: Op[] = [
        ...disconnectedTfoChild(profile.setOpt),
        { kind: 'rst', conn: 2 },
        { kind: 'synackTimeout', conn: 2 },
        { kind: 'fastOpenSyn', conn: 3, packet: tfo },
        { kind: 'accept', fd: 0 },
      ];
      expect(agreed(ops)[9]).toEqual(fastOpenAgain);
    });
  }
});
