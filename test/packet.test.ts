import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { packetArb } from '../src/fuzz/arbitraries.ts';
import {
  buildSyn, compareParsed, DEFAULT_PACKET, headerLength, locate, parseSyn, SERVICE_PORT, sourcePort, type PacketDescriptor,
} from '../src/model/packet.ts';

const d = (over: Partial<PacketDescriptor>): PacketDescriptor => ({ ...DEFAULT_PACKET, ...over });
const parsed = (conn: number, p: PacketDescriptor) => {
  const r = parseSyn(buildSyn(conn, p).bytes);
  if (!r.ok) throw new Error(r.error);
  return r.syn;
};

describe('packets', () => {
  it('have the header lengths Linux sends on loopback', () => {
    const len = (p: PacketDescriptor, mac: boolean) => headerLength(buildSyn(1, p), mac);
    expect(len(d({}), false)).toBe(60);
    expect(len(d({ family: 6 }), false)).toBe(80);
    expect(len(d({}), true)).toBe(74);
    expect(len(d({ family: 6 }), true)).toBe(94);
    expect(len(d({ fastOpen: 'request' }), false)).toBe(64);
    expect(len(d({ fastOpen: 'cookie' }), false)).toBe(72);
    expect(len(d({ ipOptions: true }), false)).toBe(64);
    expect(len(d({ mac: 'none' }), true)).toBe(60);
  });

  it('parse back to the fields they were built from, for any descriptor', () => {
    fc.assert(fc.property(packetArb, fc.integer({ min: 0, max: 9999 }), (p, conn) => {
      const b = buildSyn(conn, p);
      const r = parseSyn(b.bytes);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      expect(r.syn.conn).toBe(conn);
      expect(r.syn.sport).toBe(sourcePort(conn));
      expect(r.syn.dport).toBe(SERVICE_PORT);
      expect(r.syn.family).toBe(p.family);
      expect(r.syn.flags).toEqual(['SYN']);
      expect(r.syn.payloadLen).toBe(p.payload);
      expect(r.syn.mac === null).toBe(p.mac === 'none');
      expect(r.syn.tcpOptions.some((o) => o.kind === 'mss')).toBe(p.mss);
      expect(r.syn.tcpOptions.some((o) => o.kind === 'fastOpen')).toBe(p.fastOpen !== 'none');
      if (p.family === 4) expect(r.syn.ipChecksumOk).toBe(true);
      // Headers alone parse too, which is what a reader gets.
      const headers = b.bytes.slice(b.macLen, b.macLen + headerLength(b, false));
      const h = parseSyn(headers);
      expect(h.ok && h.syn.conn).toBe(conn);
    }), { seed: 42, numRuns: 300 });
  });

  it('carry a valid TCP checksum', () => {
    for (const family of [4, 6] as const) {
      const b = buildSyn(5, d({ family, payload: 7 }));
      const ip = b.macLen;
      const tcpLen = b.bytes.length - ip - b.networkLen;
      let s = 6 + tcpLen;
      const src = family === 4 ? b.bytes.subarray(ip + 12, ip + 20) : b.bytes.subarray(ip + 8, ip + 40);
      const add = (arr: Uint8Array) => { for (let i = 0; i < arr.length; i += 2) s += (arr[i] << 8) | (arr[i + 1] ?? 0); };
      add(src);
      add(b.bytes.subarray(ip + b.networkLen));
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      expect(s).toBe(0xffff);
    }
  });

  it('locate finds header slices and rejects bytes from outside the packet', () => {
    const b = buildSyn(2, d({ payload: 10 }));
    expect(locate(b.bytes.slice(0, 74), b)).toBe(0);
    expect(locate(b.bytes.slice(14, 74), b)).toBe(14);
    const tampered = b.bytes.slice(14, 74);
    tampered[59] ^= 0xff;
    expect(locate(tampered, b)).toBe(-1);
    const tooLong = new Uint8Array(b.bytes.length + 1);
    tooLong.set(b.bytes);
    expect(locate(tooLong, b)).toBe(-1);
    expect(locate(buildSyn(3, d({})).bytes, b)).toBe(-1);
  });

  it('compare field by field, ignoring only the unpredictable fields', () => {
    const a = parsed(1, d({}));
    const b = { ...a, seq: 12345, ipId: 999, tcpChecksum: 1, window: 100,
      tcpOptions: a.tcpOptions.map((o) => (o.kind === 'timestamps' ? { ...o, tsval: 77 } : o)) };
    expect(compareParsed(a, b)).toEqual([]);
    expect(compareParsed(a, parsed(2, d({})))).toEqual(expect.arrayContaining([expect.stringMatching(/^tcp.sport/)]));
    expect(compareParsed(a, parsed(1, d({ windowScale: false })))).toEqual(expect.arrayContaining([expect.stringMatching(/^tcp.options/)]));
  });

  it('never throw on truncated or garbage input', () => {
    const b = buildSyn(1, d({})).bytes;
    for (let n = 0; n < b.length; n++) expect(() => parseSyn(b.slice(0, n))).not.toThrow();
    expect(parseSyn(b.slice(0, 30)).ok).toBe(false);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      const r = parseSyn(bytes);
      expect(typeof r.ok).toBe('boolean');
    }), { seed: 7, numRuns: 500 });
  });
});
