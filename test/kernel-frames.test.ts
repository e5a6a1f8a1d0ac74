// Every SYN shape the model builds, written as a frame into the lane's
// namespace through the device its MAC kind names, is saved by the live
// kernel exactly as sent: the bytes read back with TCP_SAVED_SYN are the
// model's own, byte for byte, in mode 1 (IP and TCP headers) and mode 2
// (the MAC header too, where the device has one). The comparison here is
// the test's own; the differential property's is checked below, byte by
// byte, without the kernel.
import { describe, expect, it } from 'vitest';
import { isFastOpenShape } from '../model/kernel/lane.ts';
import { kernelLane } from '../model/kernel/native.ts';
import { TCP_SAVE_SYN, TCP_SAVED_SYN, type Op } from '../model/ops.ts';
import { buildSyn, headerLength, type MacKind, type PacketDescriptor } from '../model/packet.ts';
import { compareOutcomes, runDifferential } from '../properties/differential.ts';

const lane = kernelLane();

const MACS: MacKind[] = ['ethernet', 'loopback', 'none'];
const IPS: Pick<PacketDescriptor, 'family' | 'ipOptions'>[] = [
  { family: 4, ipOptions: false }, { family: 4, ipOptions: true }, { family: 6, ipOptions: false },
];
/** Fast Open as the kernel tells it: a plain SYN, data without the option,
 * a cookie request, a cookie with data, and the largest data. */
const FAST_OPEN: Pick<PacketDescriptor, 'fastOpen' | 'payload'>[] = [
  { fastOpen: 'none', payload: 0 }, { fastOpen: 'none', payload: 20 }, { fastOpen: 'request', payload: 0 },
  { fastOpen: 'cookie', payload: 20 }, { fastOpen: 'cookie', payload: 1400 },
];

/** IPv6 extension headers: each measured one alone, the measured pair, and
 * all three with the larger hop-by-hop header. */
const EXT: Pick<PacketDescriptor, 'hopByHop' | 'routing' | 'destOpts'>[] = [
  { hopByHop: 8 }, { hopByHop: 16 }, { destOpts: true }, { routing: true }, { hopByHop: 8, destOpts: true },
  { hopByHop: 16, routing: true, destOpts: true },
];

/** IPv6 SYNs with extension headers, under every Fast Open form and four TCP option sets. */
function extShapes(mac: MacKind): PacketDescriptor[] {
  const out: PacketDescriptor[] = [];
  for (const ext of EXT) {
    for (const bits of [0, 5, 10, 15]) {
      for (const tfo of FAST_OPEN) {
        out.push({ family: 6, ipOptions: false, ...ext, ...tfo, mac, mss: (bits & 1) !== 0, sackPermitted: (bits & 2) !== 0, timestamps: (bits & 4) !== 0, windowScale: (bits & 8) !== 0 });
      }
    }
  }
  return out;
}

/** Every TCP option set, IP version and options, Fast Open form and MAC kind. */
function shapes(mac: MacKind): PacketDescriptor[] {
  const out: PacketDescriptor[] = [];
  for (const ip of IPS) {
    for (let bits = 0; bits < 16; bits++) {
      for (const tfo of FAST_OPEN) {
        out.push({ ...ip, ...tfo, mac, mss: (bits & 1) !== 0, sackPermitted: (bits & 2) !== 0, timestamps: (bits & 4) !== 0, windowScale: (bits & 8) !== 0 });
      }
    }
  }
  return out;
}

/** Each SYN on its own: handshake, accept as fd 1, read, close. */
function sequence(mode: number, packets: PacketDescriptor[]): Op[] {
  const ops: Op[] = [
    { kind: 'sysctl', name: 'tcp_fastopen', value: 1 },
    { kind: 'listen', fd: 0, backlog: 8 },
    { kind: 'setsockopt', fd: 0, optname: TCP_SAVE_SYN, value: mode },
  ];
  packets.forEach((packet, i) => {
    const conn = i + 1;
    ops.push(
      { kind: isFastOpenShape(packet) ? 'fastOpenSyn' : 'syn', conn, packet }, { kind: 'ack', conn },
      { kind: 'accept', fd: 0 }, { kind: 'getsockopt', fd: 1, optname: TCP_SAVED_SYN, bufSize: 4096 }, { kind: 'close', fd: 1 },
    );
  });
  return ops;
}

/** What tcp_reqsk_record_syn() keeps: the headers, from the MAC header in mode 2. */
function saved(conn: number, packet: PacketDescriptor, mode: number): number[] {
  const built = buildSyn(conn, packet);
  const from = mode === 2 ? 0 : built.macLen;
  return Array.from(built.bytes.subarray(from, built.macLen + headerLength(built, false)));
}

it.runIf(!lane.ok)(`live-kernel lane unavailable here, so the frame suite does not run: ${lane.ok ? '' : lane.reason}`, () => {
  expect(lane.ok).toBe(false);
});

describe.runIf(lane.ok)('every SYN shape, saved by the live kernel byte for byte as the model built it', () => {
  for (const mode of [1, 2]) {
    for (const mac of MACS) {
      it(`mode ${mode}, MAC ${mac}: ${shapes(mac).length} shapes`, () => {
        const packets = shapes(mac);
        const ops = sequence(mode, packets);
        const r = runDifferential(ops);
        packets.forEach((packet, i) => {
          const read = r.actual[3 + 5 * i + 3];
          const want = saved(i + 1, packet, mode);
          expect(read.optlen, JSON.stringify(packet)).toBe(want.length);
          expect(Array.from(read.bytes ?? []), JSON.stringify(packet)).toEqual(want);
        });
        expect(r.disagreement?.differences).toBeUndefined();
      });
    }
  }
});

describe.runIf(lane.ok)('IPv6 SYNs with extension headers, saved by the live kernel byte for byte, headers and all', () => {
  for (const mode of [1, 2]) {
    for (const mac of MACS) {
      it(`mode ${mode}, MAC ${mac}: ${extShapes(mac).length} shapes`, () => {
        const packets = extShapes(mac);
        const r = runDifferential(sequence(mode, packets));
        packets.forEach((packet, i) => {
          const read = r.actual[3 + 5 * i + 3];
          const want = saved(i + 1, packet, mode);
          expect(want.length).toBe((mode === 2 && mac !== 'none' ? 14 : 0) + 40 + buildSyn(i + 1, packet).extHeaderLen + buildSyn(i + 1, packet).tcpHeaderLen);
          expect(read.optlen, JSON.stringify(packet)).toBe(want.length);
          expect(Array.from(read.bytes ?? []), JSON.stringify(packet)).toEqual(want);
        });
        expect(r.disagreement?.differences).toBeUndefined();
      });
    }
  }
});

describe('the differential property compares saved SYNs byte for byte', () => {
  it('names a difference at every byte of every shape, in both modes', () => {
    const read: Op = { kind: 'getsockopt', fd: 1, optname: TCP_SAVED_SYN, bufSize: 4096 };
    let checked = 0;
    for (const mac of MACS) {
      for (const packet of [...shapes(mac), ...extShapes(mac)].filter((_, i) => i % 7 === 0)) {
        for (const mode of [1, 2]) {
          const bytes = Uint8Array.from(saved(1, packet, mode));
          const expected = { ret: 0, optlen: bytes.length, bytes };
          expect(compareOutcomes(read, expected, { ...expected, bytes: bytes.slice() })).toEqual([]);
          for (let at = 0; at < bytes.length; at++) {
            const changed = bytes.slice();
            changed[at] ^= 0x01;
            const d = compareOutcomes(read, expected, { ...expected, bytes: changed });
            expect(d.length, `byte ${at} of ${JSON.stringify(packet)} mode ${mode}`).toBeGreaterThan(0);
            expect(d[0]).toMatch(/^syn\.[a-zA-Z]/);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(5000);
  });

  it('names the field: TTL, TOS, DF, total length, urgent pointer, window scale', () => {
    const read: Op = { kind: 'getsockopt', fd: 1, optname: TCP_SAVED_SYN, bufSize: 4096 };
    const bytes = Uint8Array.from(saved(1, { family: 4, mac: 'ethernet', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'none', payload: 0 }, 2));
    const expected = { ret: 0, optlen: bytes.length, bytes };
    const at = (offset: number): string => {
      const changed = bytes.slice();
      changed[offset] ^= 0x40;
      return compareOutcomes(read, expected, { ...expected, bytes: changed })[0].split(':')[0];
    };
    expect([at(14 + 1), at(14 + 2), at(14 + 6), at(14 + 8), at(34 + 18), at(bytes.length - 1)])
      .toEqual(['syn.ip.tos', 'syn.ip.totalLen', 'syn.ip.fragment(DF)', 'syn.ip.ttl', 'syn.tcp.urgent', 'syn.tcp.options.windowScale']);
  });
});
