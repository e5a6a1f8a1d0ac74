// dup(), shutdown(), bind(), IPv6 extension headers, SO_REUSEPORT groups and migration on the live kernel through the lane: each sequence
// runs in a private namespace with the model's frames, and the linux spec
// must agree with every outcome (reference/measured-paths.md measured the
// same with real peers).
import { describe, expect, it } from 'vitest';
import { kernelLane } from '../model/kernel/native.ts';
import { TCP_SAVE_SYN as SAVE, TCP_SAVED_SYN as SAVED, type Op, type Outcome } from '../model/ops.ts';
import type { PacketDescriptor } from '../model/packet.ts';
import { runDifferential } from '../properties/differential.ts';
import { acceptedWith, groupMember, pkt } from './helpers.ts';

const lane = kernelLane();
const read = (fd: number, bufSize = 4096): Op => ({ kind: 'getsockopt', fd, optname: SAVED, bufSize });
const flag = (fd: number): Op => ({ kind: 'getsockopt', fd, optname: SAVE, bufSize: 4 });
const shutdown = (fd: number, how: number): Op => ({ kind: 'shutdown', fd, how });

function kernel(ops: Op[]): Outcome[] {
  const r = runDifferential(ops);
  expect(r.disagreement?.differences, r.disagreement && `step ${r.disagreement.step}`).toBeUndefined();
  return r.actual;
}

describe.runIf(lane.ok)('the live kernel agrees with the linux spec on dup(), shutdown() and bind()', () => {
  it('dup: one read consumes for both; a close of one leaves it; a disconnect of one frees it', () => {
    const one = kernel([...acceptedWith(SAVE, 2), { kind: 'dup', fd: 1 }, read(2), read(1), flag(2)]);
    expect([one[5].ret, one[6].optlen, one[7].optlen, one[8].bytes?.[0]]).toEqual([2, 74, 0, 2]);
    expect(kernel([...acceptedWith(SAVE, 1), { kind: 'dup', fd: 1 }, { kind: 'close', fd: 1 }, read(2)])[7].optlen).toBe(60);
    expect(kernel([...acceptedWith(SAVE, 1), { kind: 'dup', fd: 1 }, { kind: 'disconnect', fd: 1 }, read(2)])[7].optlen).toBe(0);
  });

  it('dup of a listener: the flag set through the dup, the listener alive after the first close', () => {
    const out = kernel([
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'dup', fd: 0 }, { kind: 'setsockopt', fd: 1, optname: SAVE, value: 1 }, flag(0),
      { kind: 'close', fd: 0 }, { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 1 }, read(0),
    ]);
    expect([out[3].bytes?.[0], out[7].ret, out[8].optlen]).toEqual([1, 0, 60]);
  });

  it('shutdown of a child keeps the SYN in every direction; ENOTCONN once reset, EINVAL for a bad how', () => {
    for (const how of [0, 1, 2]) expect(kernel([...acceptedWith(SAVE, 1), shutdown(1, how), { kind: 'ack', conn: 1 }, read(1)])[7].optlen).toBe(60);
    const out = kernel([...acceptedWith(SAVE, 1), shutdown(1, 3), shutdown(1, -1), shutdown(1, 1), { kind: 'rst', conn: 1 }, shutdown(1, 0), read(1)]);
    expect(out.slice(5).map((o) => o.errno ?? o.optlen ?? o.ret)).toEqual(['EINVAL', 'EINVAL', 0, 0, 'ENOTCONN', 60]);
  });

  it('shutdown of a connecting client is a disconnect; of a Fast Open child before its final ACK, a FIN that keeps the SYN', () => {
    const c = kernel([{ kind: 'socket' }, { kind: 'connect', fd: 1 }, shutdown(1, 1), shutdown(1, 0), { kind: 'connect', fd: 1 }]);
    expect(c.slice(2).map((o) => o.errno ?? o.ret)).toEqual([0, 'ENOTCONN', 'EINPROGRESS']);
    const f = kernel([
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 }, { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'fastOpenSyn', conn: 1, packet: pkt({ payload: 10, fastOpen: 'request' }) }, { kind: 'accept', fd: 0 }, shutdown(1, 1), { kind: 'ack', conn: 1 }, read(1),
    ]);
    expect(f[7].optlen).toBe(64);
  });

  it('shutdown of a listener: SHUT_RD disconnects it (a pending request survives a listen again), SHUT_WR does nothing', () => {
    const base: Op[] = [{ kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }, { kind: 'syn', conn: 1, packet: pkt() }];
    const rd = kernel([...base, { kind: 'ack', conn: 1 }, shutdown(0, 0), { kind: 'accept', fd: 0 }, flag(0), { kind: 'listen', fd: 0, backlog: 4 },
      { kind: 'syn', conn: 3, packet: pkt() }, { kind: 'ack', conn: 3 }, { kind: 'accept', fd: 0 }, read(1)]);
    expect([rd[5].errno, rd[6].bytes?.[0], rd[10].ret, rd[11].optlen]).toEqual(['EINVAL', 1, 1, 60]);
    const wr = kernel([...base, { kind: 'ack', conn: 1 }, shutdown(0, 1), { kind: 'accept', fd: 0 }, read(1)]);
    expect([wr[5].ret, wr[6].optlen]).toEqual([1, 60]);
    const req = kernel([...base, shutdown(0, 0), { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, read(1)]);
    expect([req[6].ret, req[7].optlen]).toEqual([1, 60]);
  });

  it('a new listener on the port: bind and listen beside the old socket, its requests and children', () => {
    const L = (fd: number): Op => ({ kind: 'listen', fd, backlog: 4 });
    const bind = (fd: number): Op => ({ kind: 'bind', fd });
    const rules = kernel([L(0), { kind: 'socket' }, bind(1), { kind: 'close', fd: 0 }, bind(1), L(1), { kind: 'socket' }, L(0), bind(0), { kind: 'disconnect', fd: 0 }, bind(0), L(0)]);
    // Refused the service port, fd 0 listens on a port of its own.
    expect(rules.map((o) => o.errno ?? o.ret)).toEqual([0, 1, 'EADDRINUSE', 0, 0, 0, 0, 0, 'EINVAL', 0, 'EADDRINUSE', 0]);
    const handover = kernel([
      ...acceptedWith(SAVE, 1), { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'close', fd: 0 }, { kind: 'socket' }, bind(0),
      { kind: 'setsockopt', fd: 0, optname: SAVE, value: 2 }, L(0), { kind: 'ack', conn: 2 }, { kind: 'accept', fd: 0 },
      { kind: 'syn', conn: 3, packet: pkt() }, { kind: 'ack', conn: 3 }, { kind: 'accept', fd: 0 }, read(1), read(2),
    ]);
    expect(handover.slice(12).map((o) => o.errno ?? o.optlen ?? o.ret)).toEqual(['EAGAIN', 0, 0, 2, 60, 74]);
  });

});

describe.runIf(lane.ok)('the live kernel agrees with the linux spec on IPv6 extension headers (the exthdr.* rows)', () => {
  it('hop-by-hop (8, 16), destination options, a routing header, and hop-by-hop with destination options: kept in both modes', () => {
    const rows: [Partial<PacketDescriptor>, number][] = [
      [{ hopByHop: 8 }, 88], [{ hopByHop: 16 }, 96], [{ destOpts: true }, 88], [{ routing: true }, 104], [{ hopByHop: 8, destOpts: true }, 96],
    ];
    for (const [ext, len] of rows) {
      for (const mode of [1, 2]) {
        const out = kernel([...acceptedWith(SAVE, mode, pkt({ family: 6, ...ext })), read(1), read(1)]);
        expect([out[5].optlen, out[6].optlen], JSON.stringify(ext)).toEqual([len + (mode === 2 ? 14 : 0), 0]);
      }
    }
  });
});

describe.runIf(lane.ok)('the live kernel agrees with the linux spec on address families (the family.* rows)', () => {
  const L = (fd: number): Op => ({ kind: 'listen', fd, backlog: 4 });
  const inet: Op = { kind: 'socket', family: 4 };
  const inet6only: Op = { kind: 'socket', v6only: 1 };

  it('an AF_INET listener beside a v6only one: IPv4 SYNs to it, IPv6 SYNs to the other, each in its own mode', () => {
    for (const [m6, m4, v4len, v6len] of [[1, 2, 74, 80], [2, 1, 60, 94]] as const) {
      const out = kernel([
        { kind: 'close', fd: 0 }, inet6only, { kind: 'bind', fd: 0 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: m6 }, L(0),
        inet, { kind: 'bind', fd: 1 }, { kind: 'setsockopt', fd: 1, optname: SAVE, value: m4 }, L(1),
        { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'syn', conn: 2, packet: pkt({ family: 6 }) }, { kind: 'ack', conn: 2 },
        { kind: 'accept', fd: 1 }, { kind: 'accept', fd: 0 }, read(2), read(3),
      ]);
      expect([out[13].ret, out[14].ret, out[15].optlen, out[16].optlen]).toEqual([2, 3, v4len, v6len]);
    }
  });

  it('beside a dual-stack listener an AF_INET socket is EADDRINUSE; a dual-stack listener saves an IPv4 peer as IPv4 headers', () => {
    const out = kernel([L(0), inet, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 4 }, inet, { kind: 'bind', fd: 2 }, L(0)]);
    expect(out.map((o) => o.errno ?? o.ret)).toEqual([0, 1, 'EADDRINUSE', 0, 2, 'EADDRINUSE', 0]);
    for (const [mode, len] of [[1, 60], [2, 74]] as const) expect(kernel([...acceptedWith(SAVE, mode), read(1)])[5].optlen).toBe(len);
    const alone = kernel([{ kind: 'close', fd: 0 }, inet, { kind: 'bind', fd: 0 }, L(0), { kind: 'syn', conn: 1, packet: pkt({ family: 6 }) }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
      inet6only, { kind: 'connect', fd: 1 }, { kind: 'disconnect', fd: 1 }, inet, { kind: 'connect', fd: 2 }]);
    expect(alone.slice(6).map((o) => o.errno ?? o.ret)).toEqual(['EAGAIN', 1, 'EINPROGRESS', 0, 2, 'EINPROGRESS']);
  });
});

describe.runIf(lane.ok)('the live kernel agrees with the linux spec on SO_REUSEPORT groups', () => {
  it('reuseport.cbpf: the program steers each SYN to the listener the op names; each keeps it in its own mode', () => {
    for (const [a, b] of [[1, 0], [0, 2], [2, 1]] as const) {
      const setup = [...groupMember(0, a), ...groupMember(1, b)];
      const out = kernel([
        ...setup, { kind: 'syn', conn: 0, packet: pkt(), to: 0 }, { kind: 'ack', conn: 0 }, { kind: 'syn', conn: 1, packet: pkt(), to: 1 }, { kind: 'ack', conn: 1 },
        { kind: 'accept', fd: 0 }, read(2), flag(2), { kind: 'accept', fd: 1 }, read(3), flag(3), { kind: 'accept', fd: 1 },
      ]);
      const n = setup.length + 4;
      expect(out.slice(n).map((o) => o.optlen ?? o.errno ?? o.ret)).toEqual([2, [0, 60, 74][a], 4, 3, [0, 60, 74][b], 4, 'EAGAIN']);
    }
  });

  it('an index past the group wraps; a listener that leaves (close, SHUT_RD) gives its slot to the last; a listen again joins at the end', () => {
    const out = kernel([
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'reuseport', fd: 0 }, ...groupMember(1, 1), ...groupMember(2, 2), { kind: 'close', fd: 0 },
      { kind: 'syn', conn: 1, packet: pkt(), to: 0 }, { kind: 'ack', conn: 1 }, { kind: 'syn', conn: 2, packet: pkt({ family: 6 }), to: 3 }, { kind: 'ack', conn: 2 },
      { kind: 'accept', fd: 2 }, read(0), { kind: 'accept', fd: 1 }, read(3),
      shutdown(2, 0), { kind: 'syn', conn: 3, packet: pkt({ ipOptions: true }), to: 1 }, { kind: 'ack', conn: 3 }, { kind: 'accept', fd: 1 }, read(4),
      { kind: 'listen', fd: 2, backlog: 4 }, { kind: 'syn', conn: 4, packet: pkt(), to: 1 }, { kind: 'ack', conn: 4 }, { kind: 'accept', fd: 2 }, read(5),
    ]);
    expect(out.slice(17).map((o) => o.optlen ?? o.errno ?? o.ret)).toEqual([0, 74, 3, 80, 0, 0, 0, 4, 64, 0, 0, 0, 5, 74]);
  });
});

describe.runIf(lane.ok)('the live kernel agrees with the linux spec on what kernel campaigns found in groups', () => {
  it('a peer steered by a port deep in its IPv6 extension headers does not send a shorter IPv4 SYN to index 0', () => {
    // The steering program looks for each peer's port at that peer's own
    // offset: 64 past the network header, beyond the end of the IPv4 SYN.
    const out = kernel([
      { kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 0 }, { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 },
      { kind: 'listen', fd: 1, backlog: 0 }, { kind: 'syn', conn: 1, packet: pkt({ family: 6, routing: true, payload: 1 }), to: 0 },
      { kind: 'syn', conn: 2, packet: pkt({ payload: 1 }), to: 1 }, { kind: 'ack', conn: 2 }, { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 1 },
    ]);
    expect(out.slice(9).map((o) => o.errno ?? o.ret)).toEqual(['EAGAIN', 2]);
  });

  it('a child of a SO_REUSEPORT listener has the option too: disconnected, it binds beside the listener', () => {
    const out = kernel([...groupMember(0, 1), { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, { kind: 'disconnect', fd: 1 }, { kind: 'bind', fd: 1 }]);
    expect(out[out.length - 1]).toEqual({ ret: 0 });
  });
});

describe.runIf(lane.ok)('the live kernel agrees with the linux spec on migration (tcp_migrate_req)', () => {
  const group = (a: number, b: number, migrate: number): Op[] => [
    { kind: 'sysctl', name: 'tcp_migrate_req', value: migrate }, ...groupMember(0, a), ...groupMember(1, b),
  ];
  const syn: Op = { kind: 'syn', conn: 0, packet: pkt(), to: 0 };
  const ack: Op = { kind: 'ack', conn: 0 };
  const close: Op = { kind: 'close', fd: 0 };

  it('a child moves with A\'s flag and SYN; a request moved on its ACK gets B\'s flag and keeps A\'s SYN; off, accept on B is EAGAIN', () => {
    const tail = (ops: Op[]) => kernel(ops).slice(-3).map((o) => o.optlen ?? o.errno ?? o.ret);
    expect(tail([...group(1, 0, 1), syn, ack, close, { kind: 'accept', fd: 1 }, read(0), flag(0)])).toEqual([0, 60, 4]);
    expect(tail([...group(1, 2, 1), syn, close, ack, { kind: 'accept', fd: 1 }, read(0), flag(0)])).toEqual([0, 60, 4]);
    expect(tail([...group(0, 1, 1), syn, { kind: 'shutdown', fd: 0, how: 0 }, ack, { kind: 'accept', fd: 1 }, read(2), flag(2)])).toEqual([2, 0, 4]);
    expect(tail([...group(1, 2, 0), syn, close, ack, { kind: 'accept', fd: 1 }, read(0), flag(0)])).toEqual(['EAGAIN', 'EBADF', 'EBADF']);
    expect(tail([...group(1, 2, 0), syn, close, { kind: 'sysctl', name: 'tcp_migrate_req', value: 1 }, ack, { kind: 'accept', fd: 1 }])).toEqual([0, 0, 'EAGAIN']);
  });

  it('a request moved by its SYN-ACK timer (real time: 1.5 s) gets B\'s flag and keeps A\'s SYN', () => {
    const out = kernel([...group(1, 0, 1), syn, close, { kind: 'synackRetransmit', conn: 0 }, ack, { kind: 'accept', fd: 1 }, read(0), flag(0)]);
    expect(out.slice(-3).map((o) => o.optlen ?? o.ret)).toEqual([0, 60, 4]);
    expect(out[out.length - 1].bytes?.[0]).toBe(0);
  }, 20_000);
});
