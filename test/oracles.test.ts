// The read oracles on bytes made by hand: the bounds oracle turns away any
// byte the SYN received does not hold at that place, and leaves to lockstep
// a read that is a true slice of the SYN, only not the slice the spec saves.

import { describe, expect, it } from 'vitest';
import { SHAPES } from '../fuzz/verify/alphabet.ts';
import { TCP_SAVED_SYN, type Op, type Outcome } from '../model/ops.ts';
import { buildSyn, type BuiltPacket } from '../model/packet.ts';
import { LINUX, RFC_V1 } from '../model/profile.ts';
import { linuxPromise } from '../model/spec/linux.ts';
import { rfcV1Promise } from '../model/spec/rfc-v1.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { judgeRead, type StepContext } from '../properties/oracles.ts';
import { MUTANTS, mutant } from './mutant-defs.ts';

const EXT_SHAPE = SHAPES.find((s) => s.family === 6 && (s.hopByHop ?? 0) > 0 && s.routing === true && s.destOpts === true)!;

function context(packets: BuiltPacket[], readOpt = LINUX.readOpt): StepContext {
  return {
    op: { kind: 'getsockopt', fd: 1, optname: readOpt, bufSize: 4096 }, readOpt,
    readerSocket: undefined, readerConn: undefined, packets: new Map([[packets[0].conn, packets]]), delivered: new Map(),
  };
}

const read = (bytes: Uint8Array): Outcome => ({ ret: 0, optlen: bytes.length, bytes });

/** What linux keeps in `mode`: the network header onward, or the MAC
 * header onward, through the TCP header. */
function saved(p: BuiltPacket, mode: 1 | 2): Uint8Array {
  return linuxPromise.keep(mode, p)!.bytes;
}

/** `kept` with the IPv6 extension headers cut out and the next header
 * rewritten to TCP, as a copy that took the network header for a bare
 * ipv6hdr would hold it. */
function withoutExtHeaders(p: BuiltPacket, kept: Uint8Array, rewriteNext: boolean): Uint8Array {
  const ip = kept.length - p.networkLen - p.tcpHeaderLen;
  const cut = Uint8Array.from([...kept.subarray(0, ip + 40), ...kept.subarray(ip + p.networkLen)]);
  if (rewriteNext) cut[ip + 6] = 6;
  return cut;
}

describe('the bounds oracle', () => {
  it('takes the SYN each spec saves, in every mode, for every shape', () => {
    for (const shape of SHAPES) {
      const p = buildSyn(1, shape);
      for (const mode of [1, 2] as const) expect(judgeRead(context([p]), read(saved(p, mode))), `${JSON.stringify(shape)} mode ${mode}`).toBeUndefined();
      expect(judgeRead(context([p], RFC_V1.readOpt), read(rfcV1Promise.keep(1, p)!.bytes))).toBeUndefined();
    }
  });

  it('turns away an IPv6 SYN kept without its extension headers, or with its next header rewritten', () => {
    const p = buildSyn(1, EXT_SHAPE);
    expect(p.extHeaderLen).toBeGreaterThan(0);
    for (const mode of [1, 2] as const) {
      const kept = saved(p, mode);
      const ip = mode === 2 ? p.macLen : 0;
      const rewritten = kept.slice();
      rewritten[ip + 6] = 6;
      for (const bytes of [withoutExtHeaders(p, kept, true), withoutExtHeaders(p, kept, false), rewritten]) {
        expect(judgeRead(context([p]), read(bytes))?.signature, `mode ${mode}, ${bytes.length} bytes`).toBe('bounds:getsockopt');
      }
    }
  });

  it('turns those bytes away when the peer also sent a SYN without extension headers', () => {
    // A slice of any SYN of the connection passes: one that the copy
    // could be mistaken for must not.
    const plain = buildSyn(1, { ...EXT_SHAPE, hopByHop: 0, routing: false, destOpts: false });
    const p = buildSyn(1, EXT_SHAPE);
    for (const mode of [1, 2] as const) {
      expect(judgeRead(context([plain, p]), read(withoutExtHeaders(p, saved(p, mode), true)))?.oracle).toBe('bounds');
    }
  });

  it('leaves a true slice of the SYN that is not the one saved to lockstep', () => {
    // Mode 2 without the MAC header copies only bytes the SYN holds: a
    // wrong result, not a read of memory beyond the SYN.
    const p = buildSyn(1, EXT_SHAPE);
    expect(judgeRead(context([p]), read(saved(p, 1)))).toBeUndefined();
    const m = MUTANTS.find((x) => x.name === 'mode 2 forgets the MAC header')!;
    const r = runLockstep(mutant(m), LINUX, readAfter(2, 4096));
    expect(r.violations.map((v) => v.signature)).toEqual(['lockstep:getsockopt:length']);
  });
});

/** Listen, save in `mode`, take the extension-header SYN, accept it, and
 * read it with a buffer of `bufSize`. */
function readAfter(mode: 1 | 2, bufSize: number): Op[] {
  return [
    { kind: 'listen', fd: 0, backlog: 0 },
    { kind: 'setsockopt', fd: 0, optname: LINUX.setOpt, value: mode },
    { kind: 'syn', conn: 1, packet: EXT_SHAPE },
    { kind: 'ack', conn: 1 },
    { kind: 'accept', fd: 0 },
    { kind: 'getsockopt', fd: 1, optname: TCP_SAVED_SYN, bufSize },
  ];
}

describe('a copy without the IPv6 extension headers, read in a lockstep run', () => {
  const m = MUTANTS.find((x) => x.name === 'the saved headers drop IPv6 extension headers')!;
  const need = (mode: 1 | 2): number => saved(buildSyn(1, EXT_SHAPE), mode).length;

  it('is out of bounds whenever the read copies it', () => {
    for (const mode of [1, 2] as const) {
      for (const bufSize of [need(mode) - 1, need(mode), 4096]) {
        const r = runLockstep(mutant(m), LINUX, readAfter(mode, bufSize));
        expect(r.failure?.signature, `mode ${mode}, buffer ${bufSize}`).toBe('bounds:getsockopt');
        expect(r.failure?.step).toBe(5);
      }
    }
  });

  it('shows only in the size asked for when the buffer is too small for the shorter copy', () => {
    // Nothing is copied, so no byte is there to judge: the size needed
    // that the call writes back is what differs from the spec.
    const r = runLockstep(mutant(m), LINUX, readAfter(1, 0));
    expect(r.failure?.signature).toBe('lockstep:getsockopt:length');
    expect(r.steps[5].actual?.bytes).toBeUndefined();
  });
});
