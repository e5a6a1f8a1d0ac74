// The dup(), shutdown(), new-listener (bind), IPv6 extension header,
// SO_REUSEPORT and migration rows of
// reference/measured-paths.md, each a case
// run on an implementation in lockstep with its spec: both must give the
// measured result. The row names are the table's.
import { describe, expect, it } from 'vitest';
import { TCP_SAVE_SYN as SAVE, TCP_SAVED_SYN as SAVED, TCP_SAVED_SYN_RFC as RFC, type Op, type Outcome } from '../model/ops.ts';
import { parseSyn, sourcePort, type PacketDescriptor } from '../model/packet.ts';
import { acceptedWith, groupMember, pkt, scenario } from './helpers.ts';

const read = (fd: number, bufSize = 4096, optname = SAVED): Op => ({ kind: 'getsockopt', fd, optname, bufSize });
const flag = (fd: number): Op => ({ kind: 'getsockopt', fd, optname: SAVE, bufSize: 4 });
const dup = (fd: number): Op => ({ kind: 'dup', fd });
const shutdown = (fd: number, how: number): Op => ({ kind: 'shutdown', fd, how });
const SHUT_RD = 0, SHUT_WR = 1, SHUT_RDWR = 2;

function run(impl: string, ops: Op[]): Outcome[] {
  const { result, actual } = scenario(impl, ops);
  expect(result.failure, result.failure?.message).toBeUndefined();
  return actual;
}
const linux = (ops: Op[]) => run('linux', ops);

/** The saved SYN's length and the peer it came from (the source port). */
function savedFrom(o: Outcome): { optlen: number | undefined; conn: number | undefined } {
  const b = o.bytes;
  if (!b || b.length === 0) return { optlen: o.optlen, conn: undefined };
  const ip = b[0] >> 4 === 4 || b[0] >> 4 === 6 ? 0 : 14;
  const tcp = ip + (b[ip] >> 4 === 4 ? (b[ip] & 15) * 4 : 40);
  return { optlen: o.optlen, conn: ((b[tcp] << 8) | b[tcp + 1]) };
}

describe('linux: dup() shares the socket', () => {
  it('dup.read-one-shot: one read through either descriptor consumes the SYN for both', () => {
    for (const [mode, len] of [[0, 0], [1, 60], [2, 74]] as const) {
      const out = linux([...acceptedWith(SAVE, mode), dup(1), read(2), read(1), flag(2)]);
      expect(out[5]).toEqual({ ret: 2 });
      expect(out[6].optlen).toBe(len);
      expect(out[7]).toEqual({ ret: 0, optlen: 0 });
      expect(out[8].bytes?.[0]).toBe(mode);
    }
  });

  it('dup.close-one: closing one descriptor leaves the SYN to the other', () => {
    const out = linux([...acceptedWith(SAVE, 1), dup(1), { kind: 'close', fd: 1 }, read(2)]);
    expect(out[6]).toEqual({ ret: 0 });
    expect(out[7]).toMatchObject({ ret: 0, optlen: 60 });
  });

  it('dup.disconnect-other: a disconnect through one descriptor frees the SYN for both', () => {
    const out = linux([...acceptedWith(SAVE, 1), dup(1), { kind: 'disconnect', fd: 1 }, read(2)]);
    expect(out[7]).toEqual({ ret: 0, optlen: 0 });
  });

  it('dup.listener: a flag set through one descriptor is the other\'s, and the listener outlives the first close', () => {
    const out = linux([
      { kind: 'listen', fd: 0, backlog: 4 }, dup(0), { kind: 'setsockopt', fd: 1, optname: SAVE, value: 1 }, flag(0),
      { kind: 'close', fd: 0 }, { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 1 }, read(0), flag(0),
    ]);
    expect(out[3].bytes?.[0]).toBe(1);
    expect(out[7]).toEqual({ ret: 0 });
    expect(out[8]).toMatchObject({ ret: 0, optlen: 60 });
    expect(out[9].bytes?.[0]).toBe(1);
  });

  it('the last close of a dup\'ed child frees its SYN (no leak at teardown)', () => {
    const out = linux([...acceptedWith(SAVE, 1), dup(1), { kind: 'close', fd: 2 }, { kind: 'close', fd: 1 }, read(1)]);
    expect(out[8]).toEqual({ ret: -1, errno: 'EBADF' });
  });
});

describe('linux: shutdown() keeps the SYN of a connected socket', () => {
  it('shutdown.child.{SHUT_RD,SHUT_WR,SHUT_RDWR}.m{1,2}: 0, the SYN stays for one read, the flag stays', () => {
    for (const how of [SHUT_RD, SHUT_WR, SHUT_RDWR]) {
      for (const [mode, len] of [[1, 60], [2, 74]] as const) {
        const out = linux([...acceptedWith(SAVE, mode), shutdown(1, how), read(1), read(1), flag(1)]);
        expect(out[5]).toEqual({ ret: 0 });
        expect(out[6]).toMatchObject({ ret: 0, optlen: len });
        expect(out[7]).toEqual({ ret: 0, optlen: 0 });
        expect(out[8].bytes?.[0]).toBe(mode);
      }
    }
  });

  it('shutdown.after-disconnect: ENOTCONN in CLOSE, and the SYN went with the disconnect', () => {
    const out = linux([...acceptedWith(SAVE, 1), { kind: 'disconnect', fd: 1 }, shutdown(1, SHUT_RDWR), read(1)]);
    expect(out[6]).toEqual({ ret: -1, errno: 'ENOTCONN' });
    expect(out[7]).toEqual({ ret: 0, optlen: 0 });
  });

  it('shutdown.bad-how: 3 and -1 are EINVAL and change nothing', () => {
    const out = linux([...acceptedWith(SAVE, 1), shutdown(1, 3), shutdown(1, -1), read(1)]);
    expect(out[5]).toEqual({ ret: -1, errno: 'EINVAL' });
    expect(out[6]).toEqual({ ret: -1, errno: 'EINVAL' });
    expect(out[7]).toMatchObject({ ret: 0, optlen: 60 });
  });

  it('shutdown.fresh-socket: ENOTCONN, the flag stays', () => {
    const out = linux([{ kind: 'socket' }, { kind: 'setsockopt', fd: 1, optname: SAVE, value: 1 }, shutdown(1, SHUT_RDWR), flag(1)]);
    expect(out[2]).toEqual({ ret: -1, errno: 'ENOTCONN' });
    expect(out[3].bytes?.[0]).toBe(1);
  });

  it('shutdown.connecting: any how disconnects a connecting client; then ENOTCONN', () => {
    const out = linux([{ kind: 'socket' }, { kind: 'connect', fd: 1 }, shutdown(1, SHUT_WR), shutdown(1, SHUT_RD), read(1), { kind: 'connect', fd: 1 }]);
    expect(out[2]).toEqual({ ret: 0 });
    expect(out[3]).toEqual({ ret: -1, errno: 'ENOTCONN' });
    expect(out[4]).toEqual({ ret: 0, optlen: 0 });
    // Disconnected, it may connect again.
    expect(out[5]).toEqual({ ret: -1, errno: 'EINPROGRESS' });
  });
});

describe('linux: shutdown() of a listener', () => {
  const queued: Op[] = [
    { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
    { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 },
  ];

  it('shutdown.listener.{SHUT_RD,SHUT_RDWR}: a disconnect; the queued child is gone, accept is EINVAL, the flag stays, listen works again', () => {
    for (const how of [SHUT_RD, SHUT_RDWR]) {
      const out = linux([
        ...queued, shutdown(0, how), { kind: 'accept', fd: 0 }, flag(0),
        { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'ack', conn: 2 }, { kind: 'accept', fd: 0 },
        { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'syn', conn: 3, packet: pkt() }, { kind: 'ack', conn: 3 }, { kind: 'accept', fd: 0 }, read(1),
      ]);
      expect(out[4]).toEqual({ ret: 0 });
      expect(out[5]).toEqual({ ret: -1, errno: 'EINVAL' });
      expect(out[6].bytes?.[0]).toBe(1);
      expect(out[9]).toEqual({ ret: -1, errno: 'EINVAL' });
      expect(out[10]).toEqual({ ret: 0 });
      expect(out[13]).toEqual({ ret: 1 });
      expect(savedFrom(out[14]).optlen).toBe(60);
      expect(savedFrom(out[14]).conn).toBe(savedFrom(linux([...acceptedWith(SAVE, 1, pkt()).map((o) => ('conn' in o ? { ...o, conn: 3 } : o)), read(1)])[5]).conn);
    }
  });

  it('shutdown.listener.SHUT_WR: nothing happens; the queued child is accepted with its SYN', () => {
    const out = linux([...queued, shutdown(0, SHUT_WR), { kind: 'accept', fd: 0 }, read(1)]);
    expect(out[4]).toEqual({ ret: 0 });
    expect(out[5]).toEqual({ ret: 1 });
    expect(out[6]).toMatchObject({ ret: 0, optlen: 60 });
  });

  it('shutdown.listener.request: a request pending at SHUT_RD completes once the listener listens again', () => {
    const out = linux([
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'syn', conn: 1, packet: pkt() }, shutdown(0, SHUT_RD), { kind: 'listen', fd: 0, backlog: 4 },
      { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, read(1),
    ]);
    expect(out[3]).toEqual({ ret: 0 });
    expect(out[4]).toEqual({ ret: 0 });
    expect(out[6]).toEqual({ ret: 1 });
    expect(out[7]).toMatchObject({ ret: 0, optlen: 60 });
  });
});

describe('linux: a new listener on the port (bind with SO_REUSEADDR)', () => {
  const L = (fd: number): Op => ({ kind: 'listen', fd, backlog: 4 });
  const bind = (fd: number): Op => ({ kind: 'bind', fd });

  it('bind.while-listening: EADDRINUSE beside a listener; EINVAL for a socket that has a port', () => {
    const out = linux([L(0), { kind: 'socket' }, bind(1), bind(0), { kind: 'socket' }, L(2), bind(2)]);
    expect(out[2]).toEqual({ ret: -1, errno: 'EADDRINUSE' });
    expect(out[3]).toEqual({ ret: -1, errno: 'EINVAL' });
    expect(out[6]).toEqual({ ret: -1, errno: 'EINVAL' });
  });

  it('bind.both-bound: two bound sockets; the second to listen is EADDRINUSE until the first is closed', () => {
    const out = linux([{ kind: 'socket' }, bind(1), L(1), L(0), { kind: 'close', fd: 1 }, L(0)]);
    expect(out.map((o) => o.errno ?? o.ret)).toEqual([1, 0, 0, 'EADDRINUSE', 0, 0]);
  });

  it('bind.autobound: listen() and connect() pick a port bind() then refuses; a disconnect gives it back', () => {
    const out = linux([
      { kind: 'socket' }, L(1), bind(1), { kind: 'socket' }, { kind: 'connect', fd: 2 }, bind(2),
      { kind: 'disconnect', fd: 1 }, { kind: 'disconnect', fd: 2 }, bind(1), bind(2),
    ]);
    expect(out.map((o) => o.errno ?? o.ret)).toEqual([1, 0, 'EINVAL', 2, 'EINPROGRESS', 'EINVAL', 0, 0, 0, 0]);
  });

  it('bind.child-and-shut-listener: a child has a port; beside a listener shut by SHUT_RD a new one listens, and the old one may not', () => {
    const out = linux([
      ...acceptedWith(SAVE, 1), bind(1), shutdown(0, SHUT_RD), { kind: 'socket' }, bind(2), L(2), L(0),
      { kind: 'disconnect', fd: 1 }, bind(1),
    ]);
    expect(out.slice(5).map((o) => o.errno ?? o.ret)).toEqual(['EINVAL', 0, 2, 0, 0, 'EADDRINUSE', 0, 'EADDRINUSE']);
  });

  it('bind.after-close-with-child: the old child keeps the old SYN, the new listener saves in its own mode', () => {
    const out = linux([
      ...acceptedWith(SAVE, 1), { kind: 'close', fd: 0 }, { kind: 'socket' }, bind(0),
      { kind: 'setsockopt', fd: 0, optname: SAVE, value: 2 }, L(0), { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'ack', conn: 2 },
      { kind: 'accept', fd: 0 }, read(1), read(2), flag(2),
    ]);
    expect(out[12]).toEqual({ ret: 2 });
    expect(out[13].optlen).toBe(60);
    expect(out[14].optlen).toBe(74);
    expect(out[15].bytes?.[0]).toBe(2);
  });

  it('new-listener.request: the old listener\'s request gets no child from the new one; the peer\'s next SYN does', () => {
    const out = linux([
      L(0), { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }, { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'close', fd: 0 },
      { kind: 'socket' }, bind(0), { kind: 'setsockopt', fd: 0, optname: SAVE, value: 2 }, L(0),
      { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, read(1),
    ]);
    expect(out[9]).toEqual({ ret: -1, errno: 'EAGAIN' });
    expect(out[12]).toEqual({ ret: 1 });
    expect(out[13].optlen).toBe(74);
  });

  it('new-listener.child: a child queued on the old listener died with it', () => {
    const out = linux([
      L(0), { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 }, { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 },
      { kind: 'close', fd: 0 }, { kind: 'socket' }, bind(0), L(0), { kind: 'accept', fd: 0 },
    ]);
    expect(out[8]).toEqual({ ret: -1, errno: 'EAGAIN' });
  });
});

describe('rfc-v1: dup() and shutdown() as the cover letter leaves them', () => {
  it('the repaired patch shares a dup\'ed child\'s SYN and keeps it across shutdown', () => {
    const out = run('rfc-v1-fixed', [...acceptedWith(RFC, 1), shutdown(1, SHUT_RDWR), dup(1), read(2, 4096, RFC), read(1, 4096, RFC)]);
    expect(out[5]).toEqual({ ret: 0 });
    expect(out[7]).toMatchObject({ ret: 0 });
    expect(out[8]).toEqual({ ret: -1, errno: 'ENOENT' });
  });
});

describe('linux: a syncookie ACK meets the listener on the port now', () => {
  const cookies: Op = { kind: 'sysctl', name: 'tcp_syncookies', value: 2 };
  const syn = (conn: number): Op => ({ kind: 'syn', conn, packet: pkt() });
  const ack = (conn: number): Op => ({ kind: 'ack', conn });
  const accept: Op = { kind: 'accept', fd: 0 };
  const listen: Op = { kind: 'listen', fd: 0, backlog: 0 };

  it('after the listener is disconnected (shutdown SHUT_RD, connect AF_UNSPEC), its cookies are refused until it sends one again', () => {
    for (const off of [shutdown(0, SHUT_RD), { kind: 'disconnect', fd: 0 } as Op]) {
      expect(linux([cookies, listen, syn(1), off, listen, ack(1), accept])[6]).toEqual({ ret: -1, errno: 'EAGAIN' });
      const again = linux([cookies, listen, syn(1), off, listen, syn(2), ack(1), accept]);
      expect(again[7]).toEqual({ ret: 1 });
    }
    expect(linux([cookies, listen, syn(1), shutdown(0, SHUT_WR), ack(1), accept])[5]).toEqual({ ret: 1 });
  });

  it('a new listener on the port takes an old listener\'s cookie once it has sent one itself', () => {
    const successor: Op[] = [{ kind: 'close', fd: 0 }, { kind: 'socket' }, { kind: 'bind', fd: 0 }, listen];
    expect(linux([cookies, listen, syn(1), ...successor, ack(1), accept])[8]).toEqual({ ret: -1, errno: 'EAGAIN' });
    expect(linux([cookies, listen, syn(1), ...successor, syn(2), ack(1), accept])[9]).toEqual({ ret: 1 });
  });
});

describe('IPv6 extension headers in the saved SYN', () => {
  // The exthdr.* rows: [row, extension headers, optlen in mode 1, in mode 2].
  const ROWS: [string, Partial<PacketDescriptor>, number, number | undefined][] = [
    ['exthdr.hop-by-hop', { hopByHop: 8 }, 88, 102],
    ['exthdr.hop-by-hop-16', { hopByHop: 16 }, 96, 110],
    ['exthdr.dest-opts', { destOpts: true }, 88, 102],
    ['exthdr.routing-srh', { routing: true }, 104, 118],
    ['exthdr.hop-by-hop+dest-opts', { hopByHop: 8, destOpts: true }, 96, undefined],
  ];

  /** The extension headers a saved SYN holds between its IPv6 and TCP headers. */
  const extOf = (o: Outcome, mac: number): number[] => {
    const r = parseSyn((o.bytes ?? new Uint8Array()).subarray(0));
    expect(r.ok).toBe(true);
    if (!r.ok) return [];
    expect(r.syn.mac === null ? 0 : 14).toBe(mac);
    return r.syn.ipExtHeaders.map((h) => h.bytes.length);
  };

  for (const [row, ext, m1, m2] of ROWS) {
    it(`${row}.m1${m2 === undefined ? '' : '/m2'}: linux keeps them in both modes`, () => {
      const packet = pkt({ family: 6, ...ext });
      for (const [mode, len] of [[1, m1], [2, m2]] as const) {
        if (len === undefined) continue;
        const out = linux([...acceptedWith(SAVE, mode, packet), read(1)]);
        expect(out[5]).toMatchObject({ ret: 0, optlen: len });
        expect(extOf(out[5], mode === 2 ? 14 : 0)).toEqual([ext.hopByHop, ext.routing ? 24 : 0, ext.destOpts ? 8 : 0].filter((n) => n));
      }
    });
  }

  it('rfc-v1: "the packet headers" include them, from the MAC header on, in the patch and its repair', () => {
    for (const impl of ['rfc-v1', 'rfc-v1-fixed']) {
      for (const [, ext, m1] of ROWS) {
        const out = run(impl, [...acceptedWith(RFC, 1, pkt({ family: 6, ...ext })), read(1, 4096, RFC)]);
        expect(out[5], `${impl} ${JSON.stringify(ext)}`).toMatchObject({ ret: 0, optlen: m1 + 14 });
      }
    }
  });
});

describe('address families: an AF_INET listener beside the AF_INET6 one, and v4-mapped peers', () => {
  const L = (fd: number): Op => ({ kind: 'listen', fd, backlog: 4 });
  const setMode = (fd: number, value: number): Op => ({ kind: 'setsockopt', fd, optname: SAVE, value });
  const inet: Op = { kind: 'socket', family: 4 };
  const inet6only: Op = { kind: 'socket', v6only: 1 };
  /** The service socket closed; a v6only listener (fd 0) in mode `m6` and an
   * AF_INET one (fd 1) in mode `m4` on the port; an IPv4 SYN from peer 1,
   * an IPv6 one from peer 2; each listener accepts once and the child reads. */
  const beside = (m6: number, m4: number): Op[] => [
    { kind: 'close', fd: 0 }, inet6only, { kind: 'bind', fd: 0 }, setMode(0, m6), L(0),
    inet, { kind: 'bind', fd: 1 }, setMode(1, m4), L(1),
    { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'syn', conn: 2, packet: pkt({ family: 6 }) }, { kind: 'ack', conn: 2 },
    { kind: 'accept', fd: 1 }, { kind: 'accept', fd: 0 }, read(2), read(3), { kind: 'accept', fd: 1 },
  ];

  for (const [m6, m4, v4len, v6len] of [[1, 2, 74, 80], [2, 1, 60, 94]] as const) {
    it(`family.beside.v6m${m6}-v4m${m4}: IPv4 SYNs to the AF_INET listener, IPv6 to the AF_INET6 one, each saved in its listener's mode`, () => {
      const out = linux(beside(m6, m4));
      expect(out.slice(0, 9).map((o) => o.errno ?? o.ret)).toEqual([0, 0, 0, 0, 0, 1, 0, 0, 0]);
      expect([out[13].ret, out[14].ret]).toEqual([2, 3]);
      expect(savedFrom(out[15])).toEqual({ optlen: v4len, conn: 20001 });
      expect(savedFrom(out[16])).toEqual({ optlen: v6len, conn: 20002 });
      expect(out[17]).toEqual({ ret: -1, errno: 'EAGAIN' });
    });
  }

  it('family.beside.no-reuseport: an AF_INET socket binds beside a dual-stack listener with EADDRINUSE, and may not listen beside one', () => {
    const out = linux([L(0), inet, { kind: 'bind', fd: 1 }, inet, { kind: 'bind', fd: 2 }]);
    expect(out.slice(2).map((o) => o.errno ?? o.ret)).toEqual(['EADDRINUSE', 2, 'EADDRINUSE']);
    // Both bound first (SO_REUSEADDR), the second listen is refused whichever family listens first.
    const both = linux([inet, { kind: 'bind', fd: 1 }, L(0), L(1), { kind: 'close', fd: 0 }, L(1)]);
    expect(both.map((o) => o.errno ?? o.ret)).toEqual([1, 0, 0, 'EADDRINUSE', 0, 0]);
  });

  it('family.beside.no-reuseport (v6only): beside a v6only listener an AF_INET one listens, and its child is saved in its own mode', () => {
    const out = linux([
      { kind: 'close', fd: 0 }, inet6only, { kind: 'bind', fd: 0 }, L(0), inet, { kind: 'bind', fd: 1 }, setMode(1, 2), L(1),
      { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'ack', conn: 2 }, { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 1 }, read(2),
    ]);
    expect(out.slice(5, 8).map((o) => o.errno ?? o.ret)).toEqual([0, 0, 0]);
    expect(out[10]).toEqual({ ret: -1, errno: 'EAGAIN' });
    expect(savedFrom(out[12])).toEqual({ optlen: 74, conn: 20002 });
  });

  it('a v6only listener alone gets no IPv4 SYN, an AF_INET one alone no IPv6 SYN', () => {
    for (const [sock, family] of [[inet6only, 4], [inet, 6]] as const) {
      const out = linux([{ kind: 'close', fd: 0 }, sock, { kind: 'bind', fd: 0 }, setMode(0, 1), L(0),
        { kind: 'syn', conn: 1, packet: pkt({ family }) }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }]);
      expect(out[7]).toEqual({ ret: -1, errno: 'EAGAIN' });
    }
  });

  for (const [mode, len] of [[1, 60], [2, 74]] as const) {
    it(`family.v4-mapped.m${mode}: an IPv4 peer of the dual-stack listener is saved as IPv4 headers, ${len} bytes`, () => {
      const out = linux([...acceptedWith(SAVE, mode), read(1)]);
      expect(out[5]).toMatchObject({ ret: 0, optlen: len });
      // An IPv4 header, 20 bytes, after the MAC header in mode 2: not an IPv6 one with a mapped address.
      expect(out[5].bytes?.[len - 60]).toBe(0x45);
    });
  }

  it('family.v4-mapped in rfc-v1: the cached skb of an IPv4 peer holds IPv4 headers', () => {
    for (const impl of ['rfc-v1', 'rfc-v1-fixed']) {
      const out = run(impl, [...acceptedWith(RFC, 1), read(1, 4096, RFC)]);
      expect(out[5]).toMatchObject({ ret: 0, optlen: 74 });
      expect(out[5].bytes?.[14]).toBe(0x45);
    }
  });
});
describe('linux: SO_REUSEPORT, the SYN steered to one listener of the group', () => {
  // reuseport.cbpf.a{1-b0,0-b2,2-b1}: A and B in one group, the program's
  // index is the source port's low bit: peer 0 to A (index 0), peer 1 to B.
  for (const [a, b] of [[1, 0], [0, 2], [2, 1]] as const) {
    it(`reuseport.cbpf.a${a}-b${b}: each listener keeps its SYN in its own mode; the child's flag is its listener's`, () => {
      const setup = [...groupMember(0, a), ...groupMember(1, b)];
      const out = linux([
        ...setup, { kind: 'syn', conn: 0, packet: pkt(), to: 0 }, { kind: 'ack', conn: 0 }, { kind: 'syn', conn: 1, packet: pkt(), to: 1 }, { kind: 'ack', conn: 1 },
        { kind: 'accept', fd: 0 }, read(2), flag(2), { kind: 'accept', fd: 1 }, read(3), flag(3), { kind: 'accept', fd: 1 },
      ]);
      const n = setup.length + 4;
      const len = [0, 60, 74];
      expect(out[n]).toEqual({ ret: 2 });
      expect(savedFrom(out[n + 1])).toEqual({ optlen: len[a], conn: a === 0 ? undefined : sourcePort(0) });
      expect(out[n + 2].bytes?.[0]).toBe(a);
      expect(out[n + 3]).toEqual({ ret: 3 });
      expect(savedFrom(out[n + 4])).toEqual({ optlen: len[b], conn: b === 0 ? undefined : sourcePort(1) });
      expect(out[n + 5].bytes?.[0]).toBe(b);
      expect(out[n + 6]).toEqual({ ret: -1, errno: 'EAGAIN' });
    });
  }

  it('the group index is taken modulo the group\'s size; a listener that leaves gives its slot to the last one', () => {
    const out = linux([
      ...groupMember(0, 0), ...groupMember(1, 1), ...groupMember(2, 2), { kind: 'close', fd: 0 },
      { kind: 'syn', conn: 0, packet: pkt(), to: 0 }, { kind: 'ack', conn: 0 }, { kind: 'syn', conn: 1, packet: pkt(), to: 3 }, { kind: 'ack', conn: 1 },
      { kind: 'accept', fd: 2 }, read(0), { kind: 'accept', fd: 1 }, read(3),
    ]);
    expect(out.slice(-4).map((o) => o.optlen ?? o.ret)).toEqual([0, 74, 3, 60]);
  });

  it('beside a listener without SO_REUSEPORT, bind and listen are EADDRINUSE; with it on both, they succeed', () => {
    const out = linux([
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 },
      { kind: 'reuseport', fd: 0 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 4 },
    ]);
    expect(out.map((o) => o.errno ?? o.ret)).toEqual([0, 1, 0, 'EADDRINUSE', 0, 0, 0]);
  });
});

describe('rfc-v1: each member of a SO_REUSEPORT group keeps the SYNs it gets, in its own setting', () => {
  it('a member with the option keeps its SYN, one without has none to give', () => {
    for (const impl of ['rfc-v1', 'rfc-v1-fixed']) {
      const out = run(impl, [
        { kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: RFC, value: 1 },
        { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 4 },
        { kind: 'syn', conn: 0, packet: pkt(), to: 1 }, { kind: 'ack', conn: 0 }, { kind: 'syn', conn: 1, packet: pkt(), to: 0 }, { kind: 'ack', conn: 1 },
        { kind: 'accept', fd: 1 }, read(2, 4096, RFC), { kind: 'accept', fd: 0 }, read(3, 4096, RFC),
      ]);
      expect(out[11]).toEqual({ ret: 2 });
      expect(out[12]).toEqual({ ret: -1, errno: 'EINVAL' });
      expect(out[13]).toEqual({ ret: 3 });
      expect(out[14]).toMatchObject({ ret: 0 });
    }
  });
});

describe('linux: migration of a closing listener\'s children and requests (tcp_migrate_req)', () => {
  const group = (a: number, b: number, migrate: number): Op[] => [
    { kind: 'sysctl', name: 'tcp_migrate_req', value: migrate }, ...groupMember(0, a), ...groupMember(1, b),
  ];
  const syn: Op = { kind: 'syn', conn: 0, packet: pkt(), to: 0 };
  const ack: Op = { kind: 'ack', conn: 0 };
  const close: Op = { kind: 'close', fd: 0 };
  const timer: Op = { kind: 'synackRetransmit', conn: 0 };
  const len = [0, 60, 74];
  const cases: { name: string; path: Op[]; flag: (a: number, b: number) => number }[] = [
    { name: 'child', path: [syn, ack, close], flag: (a) => a },
    { name: 'request-on-ack', path: [syn, close, ack], flag: (_a, b) => b },
    { name: 'request-on-timer', path: [syn, close, timer, ack], flag: (_a, b) => b },
  ];

  for (const { name, path, flag: expected } of cases) {
    for (const [a, b] of [[1, 0], [0, 1], [1, 2]] as const) {
      it(`migrate1.${name}.a${a}-b${b}: accepted on B with A's SYN and ${name === 'child' ? 'A' : 'B'}'s flag`, () => {
        const out = linux([...group(a, b, 1), ...path, { kind: 'accept', fd: 1 }, read(0), flag(0)]);
        expect(out.slice(-3).map((o) => o.optlen ?? o.ret)).toEqual([0, len[a], 4]);
        expect(savedFrom(out[out.length - 2]).conn).toBe(a === 0 ? undefined : sourcePort(0));
        expect(out[out.length - 1].bytes?.[0]).toBe(expected(a, b));
      });
    }
  }

  it('migrate0.{child,request-on-ack}: without migration accept on B is EAGAIN; the request was dropped', () => {
    for (const path of [[syn, ack, close], [syn, close, ack], [syn, close, timer, ack]]) {
      const out = linux([...group(1, 2, 0), ...path, { kind: 'accept', fd: 1 }]);
      expect(out[out.length - 1]).toEqual({ ret: -1, errno: 'EAGAIN' });
    }
  });

  it('migration needs the sysctl on both when the listener leaves and when the request moves', () => {
    const off = linux([...group(1, 2, 1), syn, close, { kind: 'sysctl', name: 'tcp_migrate_req', value: 0 }, ack, { kind: 'accept', fd: 1 }]);
    expect(off[off.length - 1]).toEqual({ ret: -1, errno: 'EAGAIN' });
    const late = linux([...group(1, 2, 0), syn, close, { kind: 'sysctl', name: 'tcp_migrate_req', value: 1 }, ack, { kind: 'accept', fd: 1 }]);
    expect(late[late.length - 1]).toEqual({ ret: -1, errno: 'EAGAIN' });
  });

  it('a listener shut for reading migrates as a closed one does', () => {
    const out = linux([
      ...group(0, 1, 1), syn, ack, { kind: 'syn', conn: 2, packet: pkt(), to: 0 }, shutdown(0, SHUT_RD), { kind: 'ack', conn: 2 },
      { kind: 'accept', fd: 1 }, { kind: 'accept', fd: 1 }, read(2), flag(2), read(3), flag(3),
    ]);
    expect(out.slice(-6).map((o) => o.optlen ?? o.ret)).toEqual([2, 3, 0, 4, 0, 4]);
    expect([out[out.length - 3].bytes?.[0], out[out.length - 1].bytes?.[0]]).toEqual([0, 1]);
  });

  it('rfc-v1 (Linux 4.1) has no migration: the closed member\'s requests and children die with it', () => {
    const out = run('rfc-v1-fixed', [
      { kind: 'sysctl', name: 'tcp_migrate_req', value: 1 },
      { kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: RFC, value: 1 },
      { kind: 'socket' }, { kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 4 },
      syn, ack, { kind: 'syn', conn: 2, packet: pkt(), to: 0 }, close, { kind: 'ack', conn: 2 }, { kind: 'accept', fd: 1 },
    ]);
    expect(out[out.length - 1]).toEqual({ ret: -1, errno: 'EAGAIN' });
  });
});
