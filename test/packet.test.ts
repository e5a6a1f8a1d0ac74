import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildSyn, compareParsed, connOfPort, DEFAULT_PACKET, describePacket, fieldsOf, headerLength, locate, parseSyn,
  SERVICE_PORT, sourcePort, type BuiltPacket, type PacketDescriptor, type ParsedSyn,
} from '../model/packet.ts';

const d = (over: Partial<PacketDescriptor>): PacketDescriptor => ({ ...DEFAULT_PACKET, ...over });
const parsed = (conn: number, p: PacketDescriptor): ParsedSyn => {
  const r = parseSyn(buildSyn(conn, p).bytes);
  if (!r.ok) throw new Error(r.error);
  return r.syn;
};

const descriptorArb: fc.Arbitrary<PacketDescriptor> = fc.record({
  family: fc.constantFrom<4 | 6>(4, 6),
  mac: fc.constantFrom('ethernet' as const, 'loopback' as const, 'none' as const),
  ipOptions: fc.boolean(),
  mss: fc.boolean(),
  sackPermitted: fc.boolean(),
  timestamps: fc.boolean(),
  windowScale: fc.boolean(),
  fastOpen: fc.constantFrom('none' as const, 'request' as const, 'cookie' as const),
  payload: fc.oneof(fc.constantFrom(0, 1, 1400), fc.integer({ min: 0, max: 1400 })),
  hopByHop: fc.constantFrom<0 | 8 | 16>(0, 0, 8, 16),
  routing: fc.boolean(),
  destOpts: fc.boolean(),
});
const connArb = fc.integer({ min: 0, max: 9999 });

// Written independently of the builder: Linux's SYN option layout.
function expectedOptionKinds(p: PacketDescriptor): string[] {
  const k: string[] = [];
  if (p.mss) k.push('mss');
  if (p.sackPermitted && p.timestamps) k.push('sackPermitted', 'timestamps');
  else if (p.timestamps) k.push('nop', 'nop', 'timestamps');
  else if (p.sackPermitted) k.push('nop', 'nop', 'sackPermitted');
  if (p.windowScale) k.push('nop', 'windowScale');
  if (p.fastOpen !== 'none') k.push('fastOpen', 'nop', 'nop');
  return k;
}

function onesComplementOk(words: Uint8Array[], extra: number): boolean {
  let s = extra;
  for (const arr of words) for (let i = 0; i < arr.length; i += 2) s += (arr[i] << 8) | (arr[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s === 0xffff;
}

function tcpChecksumOk(b: BuiltPacket, family: 4 | 6): boolean {
  const ip = b.macLen;
  const seg = b.bytes.subarray(ip + b.networkLen);
  const addrs = family === 4 ? b.bytes.subarray(ip + 12, ip + 20) : b.bytes.subarray(ip + 8, ip + 40);
  return onesComplementOk([addrs, seg], 6 + seg.length);
}

describe('building SYNs', () => {
  it('gives the header lengths Linux sends on loopback', () => {
    const len = (p: PacketDescriptor, mac: boolean) => headerLength(buildSyn(1, p), mac);
    expect(len(d({}), false)).toBe(60);
    expect(len(d({ family: 6 }), false)).toBe(80);
    expect(len(d({}), true)).toBe(74);
    expect(len(d({ family: 6 }), true)).toBe(94);
    expect(len(d({ fastOpen: 'request' }), false)).toBe(64);
    expect(len(d({ fastOpen: 'cookie' }), false)).toBe(72);
    expect(len(d({ ipOptions: true }), false)).toBe(64);
    expect(len(d({ family: 6, ipOptions: true }), false)).toBe(80);
    expect(len(d({ mac: 'none' }), true)).toBe(60);
    expect(len(d({ mss: false, sackPermitted: false, timestamps: false, windowScale: false }), false)).toBe(40);
  });

  it('writes the default SYN byte for byte', () => {
    const b = buildSyn(3, d({ payload: 2 }));
    expect(onesComplementOk([b.bytes.subarray(14, 34)], 0)).toBe(true);
    expect(tcpChecksumOk(b, 4)).toBe(true);
    // Checksums are checked above; blank them to compare the rest literally.
    const bytes = b.bytes.slice();
    bytes.fill(0, 24, 26);
    bytes.fill(0, 50, 52);
    const hex = (from: number, to: number) => Buffer.from(bytes.subarray(from, to)).toString('hex');
    expect(hex(0, 14)).toBe('000000000000000000000000' + '0800');
    expect(hex(14, 34)).toBe('4500003e' + '00034000' + '40060000' + 'c0000202' + 'c0000201');
    expect(hex(34, 54)).toBe('4e23' + '1f90' + '53000003' + '00000000' + 'a002ffd7' + '00000000');
    expect(hex(54, 74)).toBe('0204ffd7' + '0402080a' + '00001015' + '00000000' + '01030307');
    expect(Array.from(bytes.subarray(74))).toEqual([93, 94]);
  });

  it('lays out Fast Open and lone SACK/TS options as Linux does', () => {
    const opts = (p: PacketDescriptor) => {
      const b = buildSyn(1, p);
      return Array.from(b.bytes.subarray(b.macLen + b.networkLen + 20, b.macLen + b.networkLen + b.tcpHeaderLen));
    };
    expect(opts(d({ fastOpen: 'request' })).slice(20)).toEqual([34, 2, 1, 1]);
    const cookie = opts(d({ fastOpen: 'cookie' })).slice(20);
    expect(cookie.slice(0, 2)).toEqual([34, 10]);
    expect(cookie.slice(10)).toEqual([1, 1]);
    expect(opts(d({ sackPermitted: false, windowScale: false })).slice(4, 8)).toEqual([1, 1, 8, 10]);
    expect(opts(d({ timestamps: false, windowScale: false }))).toEqual([2, 4, 0xff, 0xd7, 1, 1, 4, 2]);
    expect(opts(d({ family: 6, sackPermitted: false, timestamps: false, windowScale: false }))).toEqual([2, 4, 0xff, 0xc4]);
  });

  it('puts the right MAC header in front', () => {
    const eth = buildSyn(1, d({ mac: 'ethernet', family: 6 })).bytes;
    expect(Array.from(eth.subarray(0, 14))).toEqual([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xdd]);
    expect(buildSyn(1, d({ mac: 'none' })).bytes[0]).toBe(0x45);
    expect(buildSyn(1, d({ mac: 'none', ipOptions: true })).bytes[0]).toBe(0x46);
  });

  it('maps connections to source ports and back', () => {
    expect(sourcePort(0)).toBe(20000);
    expect(connOfPort(29999)).toBe(9999);
    expect(connOfPort(19999)).toBeUndefined();
    expect(connOfPort(30000)).toBeUndefined();
    expect(connOfPort(SERVICE_PORT)).toBeUndefined();
    expect(() => buildSyn(10000, DEFAULT_PACKET)).toThrow(RangeError);
    expect(() => buildSyn(1, d({ payload: 1401 }))).toThrow(RangeError);
  });

  it('describes descriptors briefly', () => {
    expect(describePacket(d({ ipOptions: true, mac: 'ethernet', fastOpen: 'cookie', payload: 100 })))
      .toBe('IPv4+opts/eth, MSS SACK TS WS TFO-cookie, 100B data');
    expect(describePacket(d({ family: 6, ipOptions: true, mac: 'none', mss: false, sackPermitted: false, timestamps: false, windowScale: false })))
      .toBe('IPv6/no MAC, no options');
  });
});

describe('IPv6 extension headers', () => {
  const v6 = (over: Partial<PacketDescriptor>): PacketDescriptor => d({ family: 6, mac: 'none', ...over });
  it('sit between the IPv6 and TCP headers, chained by next header, in the order Linux sends them', () => {
    const b = buildSyn(1, v6({ hopByHop: 8, routing: true, destOpts: true })).bytes;
    expect(b[6]).toBe(0); // IPv6 next header: hop-by-hop
    expect(Array.from(b.subarray(40, 48))).toEqual([43, 0, 1, 4, 0, 0, 0, 0]);
    expect(Array.from(b.subarray(48, 56))).toEqual([60, 2, 4, 0, 0, 0, 0, 0]);
    expect(Array.from(b.subarray(56, 72))).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(Array.from(b.subarray(72, 80))).toEqual([6, 0, 1, 4, 0, 0, 0, 0]);
    expect((b[80] << 8) | b[81]).toBe(sourcePort(1));
    // The payload length counts the extension headers.
    expect((b[4] << 8) | b[5]).toBe(b.length - 40);
  });

  it('the 16-byte hop-by-hop header is a router alert between two PadN', () => {
    const b = buildSyn(1, v6({ hopByHop: 16 })).bytes;
    expect(Array.from(b.subarray(40, 56))).toEqual([6, 1, 1, 4, 0, 0, 0, 0, 5, 2, 0, 0, 1, 2, 0, 0]);
  });

  it('add to the headers a reader is handed: the measured lengths', () => {
    const len = (over: Partial<PacketDescriptor>, withMac: boolean): number => headerLength(buildSyn(1, v6({ mac: 'ethernet', ...over })), withMac);
    expect([len({ hopByHop: 8 }, false), len({ hopByHop: 8 }, true)]).toEqual([88, 102]);
    expect([len({ hopByHop: 16 }, false), len({ hopByHop: 16 }, true)]).toEqual([96, 110]);
    expect([len({ destOpts: true }, false), len({ destOpts: true }, true)]).toEqual([88, 102]);
    expect([len({ routing: true }, false), len({ routing: true }, true)]).toEqual([104, 118]);
    expect(len({ hopByHop: 8, destOpts: true }, false)).toBe(96);
  });

  it('are ignored for IPv4, and absent fields are no extension headers', () => {
    expect(buildSyn(1, d({ hopByHop: 16, routing: true, destOpts: true })).bytes).toEqual(buildSyn(1, DEFAULT_PACKET).bytes);
    expect(buildSyn(2, v6({ hopByHop: 0, routing: false, destOpts: false })).bytes).toEqual(buildSyn(2, v6({})).bytes);
    expect(describePacket(v6({ hopByHop: 16, routing: true, destOpts: true }))).toBe('IPv6+HBH16+SRH+DST/no MAC, MSS SACK TS WS');
  });

  it('a changed extension header byte is a named difference', () => {
    const a = parsed(1, v6({ hopByHop: 8 }));
    expect(compareParsed(a, parsed(1, v6({ hopByHop: 16 })))[0]).toMatch(/^ip\.extHeaders: expected \["hopByHop\(8\)"\], got \["hopByHop\(16\)"\]/);
  });
});

describe('parsing SYNs', () => {
  it('reads back every field it was built from, with valid checksums', () => {
    fc.assert(fc.property(descriptorArb, connArb, (p, conn) => {
      const b = buildSyn(conn, p);
      const r = parseSyn(b.bytes);
      if (!r.ok) throw new Error(r.error);
      const s = r.syn;
      const v4opts = p.family === 4 && p.ipOptions;
      expect(s.mac).toEqual(p.mac === 'none' ? null : { kind: p.mac, etherType: p.family === 4 ? 0x0800 : 0x86dd });
      expect(s.family).toBe(p.family);
      expect(s.ipHeaderLen).toBe(p.family === 6 ? 40 : v4opts ? 24 : 20);
      expect(s.ipOptions).toEqual(v4opts ? [148, 4, 0, 0] : []);
      expect([s.src, s.dst]).toEqual(p.family === 4 ? ['192.0.2.2', '192.0.2.1'] : ['2001:db8::2', '2001:db8::1']);
      expect(s.ipId).toBe(p.family === 4 ? conn : 0);
      expect(s.ipChecksumOk).toBe(p.family === 4 ? true : undefined);
      expect(s.ipFlowLabel).toBe(p.family === 6 ? 0 : undefined);
      const ext = p.family === 6 ? [p.hopByHop ? [0, p.hopByHop] : [], p.routing ? [43, 24] : [], p.destOpts ? [60, 8] : []].filter((x) => x.length) : [];
      expect(s.ipExtHeaders.map((h) => [h.code, h.bytes.length])).toEqual(ext);
      expect(b.extHeaderLen).toBe(ext.reduce((n, [, len]) => n + len, 0));
      expect(b.networkLen).toBe((p.family === 6 ? 40 : v4opts ? 24 : 20) + b.extHeaderLen);
      expect([s.sport, s.dport, s.conn]).toEqual([sourcePort(conn), SERVICE_PORT, conn]);
      expect(s.seq).toBe((0x53000000 + conn) >>> 0);
      expect(s.ack).toBe(0);
      expect(s.flags).toEqual(['SYN']);
      expect(s.window).toBe(65495);
      expect(s.tcpOptions.map((o) => o.kind)).toEqual(expectedOptionKinds(p));
      for (const o of s.tcpOptions) {
        if (o.kind === 'mss') expect(o.value).toBe(p.family === 4 ? 65495 : 65476);
        if (o.kind === 'windowScale') expect(o.shift).toBe(7);
        if (o.kind === 'timestamps') expect(o.tsecr).toBe(0);
        if (o.kind === 'fastOpen') expect(o.cookie.length).toBe(p.fastOpen === 'cookie' ? 8 : 0);
      }
      expect(s.tcpHeaderLen).toBe(b.tcpHeaderLen);
      expect(s.tcpHeaderLen % 4).toBe(0);
      expect(s.payloadLen).toBe(p.payload);
      expect(b.bytes.length).toBe(headerLength(b, true) + p.payload);
      expect(tcpChecksumOk(b, p.family)).toBe(true);
      // What a reader is handed: the headers, with or without the MAC header.
      for (const withMac of [true, false]) {
        const start = withMac ? 0 : b.macLen;
        const h = parseSyn(b.bytes.slice(start, b.macLen + headerLength(b, false)));
        expect(h.ok && h.syn.conn).toBe(conn);
        expect(h.ok && h.syn.payloadLen).toBe(0);
      }
    }), { seed: 42, numRuns: 300 });
  });

  it('returns ok:false, never throws, on truncated or garbage input', () => {
    fc.assert(fc.property(descriptorArb, connArb, (p, conn) => {
      const b = buildSyn(conn, p);
      for (let n = 0; n < headerLength(b, true); n++) expect(parseSyn(b.bytes.slice(0, n)).ok).toBe(false);
    }), { seed: 42, numRuns: 100 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      expect(typeof parseSyn(bytes).ok).toBe('boolean');
    }), { seed: 7, numRuns: 1000 });
    // Corrupt single bytes of real SYNs, where the parser gets furthest.
    fc.assert(fc.property(descriptorArb, connArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (p, conn, at, x) => {
      const bytes = buildSyn(conn, p).bytes.slice();
      bytes[at % bytes.length] ^= x;
      expect(typeof parseSyn(bytes).ok).toBe('boolean');
    }), { seed: 42, numRuns: 500 });
    expect(parseSyn(new Uint8Array(0))).toMatchObject({ ok: false });
    expect(parseSyn(buildSyn(1, DEFAULT_PACKET).bytes.slice(0, 30)).ok).toBe(false);
    expect(parseSyn(new Uint8Array(100).fill(0xff)).ok).toBe(false);
  });

  it('reads a subarray that does not start at its buffer origin', () => {
    const b = buildSyn(4, d({ family: 6 }));
    const host = new Uint8Array(b.bytes.length + 7);
    host.set(b.bytes, 7);
    const r = parseSyn(host.subarray(7 + b.macLen));
    expect(r.ok && r.syn.conn).toBe(4);
  });
});

describe('locate', () => {
  it('finds header slices at 0 or macLen and rejects bytes from outside the packet', () => {
    const b = buildSyn(2, d({ payload: 10 }));
    expect(locate(b.bytes.slice(0, 74), b)).toBe(0);
    expect(locate(b.bytes.slice(14, 74), b)).toBe(14);
    expect(locate(b.bytes.slice(), b)).toBe(0);
    expect(locate(b.bytes.slice(14, 20), b)).toBe(14);
    expect(locate(b.bytes.slice(34, 54), b)).toBe(34);
    const tampered = b.bytes.slice(14, 74);
    tampered[59] ^= 0xff;
    expect(locate(tampered, b)).toBe(-1);
    const tooLong = new Uint8Array(b.bytes.length + 1);
    tooLong.set(b.bytes);
    expect(locate(tooLong, b)).toBe(-1);
    expect(locate(buildSyn(3, d({})).bytes, b)).toBe(-1);
    const none = buildSyn(2, d({ mac: 'none' }));
    expect(locate(none.bytes.slice(0, 60), none)).toBe(0);
  });

  it('finds every prefix of the frame and of the IP packet', () => {
    fc.assert(fc.property(descriptorArb, connArb, fc.nat(), (p, conn, n) => {
      const b = buildSyn(conn, p);
      const end = b.macLen + (n % (b.bytes.length - b.macLen + 1));
      expect(locate(b.bytes.slice(0, end), b)).toBe(0);
      if (b.macLen > 0 && end > b.macLen) expect(locate(b.bytes.slice(b.macLen, end), b)).toBe(b.macLen);
    }), { seed: 42, numRuns: 200 });
  });
});

describe('compareParsed', () => {
  it('skips no field: ids, checksums, sequence, timestamps, window, flow label, MAC addresses, cookies all count', () => {
    for (const family of [4, 6] as const) {
      const a = parsed(1, d({ family, fastOpen: 'cookie' }));
      const changed: Partial<ParsedSyn>[] = [
        { mac: { kind: 'ethernet', etherType: a.mac!.etherType } }, { seq: 12345 }, { tcpChecksum: 1 }, { window: 100 },
        family === 4 ? { ipId: 999 } : { ipFlowLabel: 0xabcde }, family === 4 ? { ipChecksum: 1 } : { src: '2001:db8::3' },
        { tcpOptions: a.tcpOptions.map((o) => (o.kind === 'timestamps' ? { ...o, tsval: 77 } : o)) },
        { tcpOptions: a.tcpOptions.map((o) => (o.kind === 'fastOpen' ? { ...o, cookie: o.cookie.map((x) => x ^ 0x55) } : o)) },
      ];
      for (const c of changed) expect(compareParsed(a, { ...a, ...c }), JSON.stringify(c)).toHaveLength(1);
    }
  });

  it('reports a different source port, option, or option value', () => {
    const a = parsed(1, d({}));
    expect(compareParsed(a, parsed(2, d({})))).toEqual(expect.arrayContaining([expect.stringMatching(/^tcp\.sport/)]));
    expect(compareParsed(a, parsed(1, d({ windowScale: false })))).toEqual(expect.arrayContaining([expect.stringMatching(/^tcp\.options/)]));
    expect(compareParsed(a, parsed(1, d({ family: 6 })))).toEqual(expect.arrayContaining([expect.stringMatching(/^ip\.family/)]));
    expect(compareParsed(a, parsed(1, d({ mac: 'none' })))).toEqual(expect.arrayContaining([expect.stringMatching(/^mac\.present/)]));
    // Data changes the TCP checksum and, over IPv4, the total length under the header checksum.
    expect(compareParsed(a, parsed(1, d({ payload: 3 })))).toEqual(['ip.checksum: expected 46775, got 46772', 'tcp.checksum: expected 63814, got 47395', 'tcp.payloadLen: expected 0, got 3']);
    const shifted: ParsedSyn = { ...a, tcpOptions: a.tcpOptions.map((o) => (o.kind === 'windowScale' ? { ...o, shift: 9 } : o)) };
    expect(compareParsed(a, shifted)).toEqual(['tcp.options.windowScale.shift: expected 7, got 9']);
    const mss: ParsedSyn = { ...a, tcpOptions: a.tcpOptions.map((o) => (o.kind === 'mss' ? { ...o, value: 1460 } : o)) };
    expect(compareParsed(a, mss)).toEqual(['tcp.options.mss.value: expected 65495, got 1460']);
    const tsecr: ParsedSyn = { ...a, tcpOptions: a.tcpOptions.map((o) => (o.kind === 'timestamps' ? { ...o, tsecr: 1 } : o)) };
    expect(compareParsed(a, tsecr)).toEqual(['tcp.options.timestamps.tsecr: expected 0, got 1']);
    const req = parsed(1, d({ fastOpen: 'request' }));
    const cookie = parsed(1, d({ fastOpen: 'cookie' }));
    expect(compareParsed(req, cookie)).toEqual(expect.arrayContaining([expect.stringMatching(/^tcp\.options\.fastOpen\.cookieLen/)]));
  });

  it('names every option\'s values', () => {
    const names = new Set([
      ...fieldsOf(parsed(1, d({ fastOpen: 'cookie' }))).keys(),
      ...fieldsOf(parsed(1, d({ family: 6 }))).keys(),
    ]);
    for (const n of ['ip.id', 'ip.flowLabel', 'tcp.options.timestamps.tsval', 'tcp.options.windowScale.shift', 'tcp.options.fastOpen.cookie']) {
      expect(names.has(n), n).toBe(true);
    }
  });
});
