// Every row of the measured table in shared/reference/README.md, as a case
// run on the linux implementation in lockstep with the linux spec: both must
// give the measured result.
import { describe, expect, it } from 'vitest';
import { TCP_SAVE_SYN as SAVE, TCP_SAVED_SYN as SAVED, type Op } from '../model/ops.ts';
import { acceptedWith, CONNECTS_TO_ONE_PEER, pkt, scenario, twoIpv6Groups } from './helpers.ts';

const read = (fd: number, bufSize: number): Op => ({ kind: 'getsockopt', fd, optname: SAVED, bufSize });

function linux(ops: Op[]) {
  const { result, actual } = scenario('linux', ops);
  expect(result.failure, result.failure?.message).toBeUndefined();
  return actual;
}

describe('linux: the reference table, row by row', () => {
  it('setsockopt(TCP_SAVE_SYN, 0/1/2) on a fresh socket before listen is accepted', () => {
    for (const v of [0, 1, 2]) {
      const out = linux([{ kind: 'socket' }, { kind: 'setsockopt', fd: 1, optname: SAVE, value: v }, { kind: 'getsockopt', fd: 1, optname: SAVE, bufSize: 4 }]);
      expect(out[1]).toEqual({ ret: 0 });
      expect(out[2].bytes?.[0]).toBe(v);
    }
  });

  it('setsockopt(TCP_SAVE_SYN, 3 / -1 / 100) is EINVAL and leaves the value', () => {
    for (const v of [3, -1, 100]) {
      const out = linux([
        { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
        { kind: 'setsockopt', fd: 0, optname: SAVE, value: v },
        { kind: 'getsockopt', fd: 0, optname: SAVE, bufSize: 4 },
      ]);
      expect(out[1]).toEqual({ ret: -1, errno: 'EINVAL' });
      expect(out[2]).toMatchObject({ ret: 0, optlen: 4 });
      expect(Array.from(out[2].bytes!)).toEqual([1, 0, 0, 0]);
    }
  });

  it('a child reads the listener\'s TCP_SAVE_SYN as it was when the child was created', () => {
    const out = linux([
      ...acceptedWith(SAVE, 2),
      { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'getsockopt', fd: 1, optname: SAVE, bufSize: 4 },
    ]);
    expect(out[6].bytes?.[0]).toBe(2);
  });

  it('TCP_SAVED_SYN on a listener, or on a connecting client, is 0 with optlen 0', () => {
    const out = linux([
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      read(0, 100),
      { kind: 'socket' }, { kind: 'setsockopt', fd: 1, optname: SAVE, value: 1 }, { kind: 'connect', fd: 1 },
      read(1, 100),
    ]);
    expect(out[2]).toEqual({ ret: 0, optlen: 0 });
    expect(out[5]).toEqual({ ret: -1, errno: 'EINPROGRESS' });
    expect(out[6]).toEqual({ ret: 0, optlen: 0 });
  });

  it('mode 1 on the accepted child: IPv4 gives 60 bytes, IPv6 80, no MAC header', () => {
    const v4 = linux([...acceptedWith(SAVE, 1), read(1, 60)]);
    expect(v4[5]).toMatchObject({ ret: 0, optlen: 60 });
    expect(v4[5].bytes![0] >> 4).toBe(4);
    const v6 = linux([...acceptedWith(SAVE, 1, pkt({ family: 6 })), read(1, 4096)]);
    expect(v6[5]).toMatchObject({ ret: 0, optlen: 80 });
    expect(v6[5].bytes![0] >> 4).toBe(6);
  });

  it('mode 2 adds the 14-byte MAC header: 74 and 94 on loopback', () => {
    expect(linux([...acceptedWith(SAVE, 2), read(1, 4096)])[5]).toMatchObject({ ret: 0, optlen: 74 });
    expect(linux([...acceptedWith(SAVE, 2, pkt({ family: 6 })), read(1, 4096)])[5]).toMatchObject({ ret: 0, optlen: 94 });
    // A tun-like device has no MAC header to add.
    expect(linux([...acceptedWith(SAVE, 2, pkt({ mac: 'none' })), read(1, 4096)])[5]).toMatchObject({ ret: 0, optlen: 60 });
  });

  it('a buffer too small (10 or 0 bytes) is EINVAL with optlen set to the size needed, and the SYN stays', () => {
    for (const size of [10, 0, 59]) {
      const out = linux([...acceptedWith(SAVE, 1), read(1, size), read(1, 60)]);
      expect(out[5]).toEqual({ ret: -1, errno: 'EINVAL', optlen: 60 });
      expect(out[6]).toMatchObject({ ret: 0, optlen: 60 });
    }
  });

  it('a negative optlen is EINVAL and optlen is left alone', () => {
    const out = linux([...acceptedWith(SAVE, 1), read(1, -1)]);
    expect(out[5]).toEqual({ ret: -1, errno: 'EINVAL' });
  });

  it('a second read after a successful one is 0 with optlen 0 (one-shot)', () => {
    const out = linux([...acceptedWith(SAVE, 1), read(1, 100), read(1, 100)]);
    expect(out[5]).toMatchObject({ ret: 0, optlen: 60 });
    expect(out[6]).toEqual({ ret: 0, optlen: 0 });
  });

  it('turning the listener\'s flag off after the SYN arrived does not stop the child returning it', () => {
    const ops = acceptedWith(SAVE, 1);
    ops.splice(4, 0, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 0 });
    const out = linux([...ops, read(1, 100)]);
    expect(out[6]).toMatchObject({ ret: 0, optlen: 60 });
  });

  it('connect(AF_UNSPEC) on the child frees the SYN: 0 with optlen 0', () => {
    const out = linux([...acceptedWith(SAVE, 1), { kind: 'disconnect', fd: 1 }, read(1, 100)]);
    expect(out[5]).toEqual({ ret: 0 });
    expect(out[6]).toEqual({ ret: 0, optlen: 0 });
  });

  it('syncookies forced (tcp_syncookies = 2): nothing is saved', () => {
    const out = linux([
      { kind: 'sysctl', name: 'tcp_syncookies', value: 2 },
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'cookieAck', conn: 1 }, { kind: 'accept', fd: 0 },
      read(1, 100),
    ]);
    expect(out[5]).toEqual({ ret: 1 });
    expect(out[6]).toEqual({ ret: 0, optlen: 0 });
  });

  it('cookies induced by a flood of half-open SYNs (tcp_syncookies = 1): nothing is saved', () => {
    const out = linux([
      { kind: 'listen', fd: 0, backlog: 2 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'flood', first: 100, count: 3 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 },
      read(1, 100),
    ]);
    expect(out[5]).toEqual({ ret: 1 });
    expect(out[6]).toEqual({ ret: 0, optlen: 0 });
  });

  it('a Fast Open SYN with data: headers only, 64 bytes, or 72 with a cookie option', () => {
    const tfo = (fastOpen: 'request' | 'cookie'): Op[] => [
      { kind: 'sysctl', name: 'tcp_fastopen', value: 1 },
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'fastOpenSyn', conn: 1, packet: pkt({ fastOpen, payload: 100 }) },
      // The child is in the accept queue before the final ACK.
      { kind: 'accept', fd: 0 },
      read(1, 4096),
    ];
    expect(linux(tfo('request'))[5]).toMatchObject({ ret: 0, optlen: 64 });
    expect(linux(tfo('cookie'))[5]).toMatchObject({ ret: 0, optlen: 72 });
  });

  it('closing the listener with pending requests and unaccepted children frees every copy', () => {
    const out = linux([
      { kind: 'listen', fd: 0, backlog: 4 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 },
      { kind: 'syn', conn: 2, packet: pkt({ family: 6 }) },
      { kind: 'close', fd: 0 },
    ]);
    expect(out[5]).toEqual({ ret: 0 });
  });
});

// Measured on this machine's kernel with plain socket calls in a private
// network namespace, beyond the rows of the reference table.
describe('linux: further measured behaviour', () => {
  it('a negative optlen is EINVAL for every option, TCP_SAVE_SYN and unknown ones included', () => {
    const out = linux([
      { kind: 'getsockopt', fd: 0, optname: SAVE, bufSize: -1 },
      { kind: 'getsockopt', fd: 0, optname: 99, bufSize: -1 },
      { kind: 'getsockopt', fd: 0, optname: 99, bufSize: 4 },
    ]);
    expect(out).toEqual([{ ret: -1, errno: 'EINVAL' }, { ret: -1, errno: 'EINVAL' }, { ret: -1, errno: 'ENOPROTOOPT' }]);
  });

  it('TCP_SAVE_SYN reads back min(optlen, 4) bytes', () => {
    const out = linux([
      { kind: 'setsockopt', fd: 0, optname: SAVE, value: 2 },
      ...[0, 1, 2, 4, 100].map((n): Op => ({ kind: 'getsockopt', fd: 0, optname: SAVE, bufSize: n })),
    ]);
    expect(out.slice(1).map((o) => [o.optlen, Array.from(o.bytes ?? [])])).toEqual([
      [0, []], [1, [2]], [2, [2, 0]], [4, [2, 0, 0, 0]], [4, [2, 0, 0, 0]],
    ]);
  });

  it('setsockopt(TCP_SAVED_SYN) and the patch\'s option 26 are ENOPROTOOPT', () => {
    const out = linux([
      { kind: 'setsockopt', fd: 0, optname: SAVED, value: 1 },
      { kind: 'setsockopt', fd: 0, optname: 26, value: 1 },
    ]);
    expect(out).toEqual([{ ret: -1, errno: 'ENOPROTOOPT' }, { ret: -1, errno: 'ENOPROTOOPT' }]);
  });

  it('a child reset before accept() is still accepted and still returns its SYN', () => {
    const ops = acceptedWith(SAVE, 1);
    ops.splice(4, 0, { kind: 'rst', conn: 1 });
    const out = linux([...ops, read(1, 100)]);
    expect(out[5]).toEqual({ ret: 1 });
    expect(out[6]).toMatchObject({ ret: 0, optlen: 60 });
  });

  it('listen, connect and disconnect on the wrong kind of socket', () => {
    const out = linux([
      ...acceptedWith(SAVE, 1),
      { kind: 'listen', fd: 1, backlog: 4 },
      { kind: 'connect', fd: 1 },
      { kind: 'connect', fd: 0 },
      { kind: 'disconnect', fd: 1 },
      // The disconnected child lost the service port: it listens on another.
      { kind: 'listen', fd: 1, backlog: 4 },
      { kind: 'disconnect', fd: 0 },
      { kind: 'accept', fd: 0 },
    ]);
    expect(out.slice(5)).toEqual([
      { ret: -1, errno: 'EINVAL' }, { ret: -1, errno: 'EISCONN' }, { ret: -1, errno: 'EISCONN' },
      { ret: 0 }, { ret: 0 }, { ret: 0 }, { ret: -1, errno: 'EINVAL' },
    ]);
  });

  it('listen(fd, B) keeps B+1 requests before cookies, and B+1 children before dropping', () => {
    const out = linux([
      { kind: 'listen', fd: 0, backlog: 1 }, { kind: 'setsockopt', fd: 0, optname: SAVE, value: 1 },
      { kind: 'flood', first: 100, count: 2 },
      // The third SYN gets a cookie; two cookie ACKs fill the accept queue.
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 },
      { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'ack', conn: 2 },
      { kind: 'syn', conn: 3, packet: pkt() }, { kind: 'ack', conn: 3 },
      { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 0 },
      read(1, 100), read(2, 100),
    ]);
    expect(out.slice(9, 12)).toEqual([{ ret: 1 }, { ret: 2 }, { ret: -1, errno: 'EAGAIN' }]);
    expect(out.slice(12)).toEqual([{ ret: 0, optlen: 0 }, { ret: 0, optlen: 0 }]);
  });

  it('a negative backlog is the largest: listen() compares it as unsigned with somaxconn', () => {
    const out = linux([
      { kind: 'listen', fd: 0, backlog: -1 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'syn', conn: 2, packet: pkt() }, { kind: 'ack', conn: 2 },
      { kind: 'accept', fd: 0 }, { kind: 'accept', fd: 0 },
    ]);
    expect(out.slice(5)).toEqual([{ ret: 1 }, { ret: 2 }]);
  });

  it('accept() on a full descriptor table is EMFILE, before the socket is asked for a child', () => {
    const full: Op[] = Array.from({ length: 63 }, (): Op => ({ kind: 'socket' }));
    const out = linux([{ kind: 'listen', fd: 0, backlog: 4 }, ...full, { kind: 'accept', fd: 1 }, { kind: 'accept', fd: 0 }, { kind: 'socket' }]);
    expect(out.slice(64)).toEqual([{ ret: -1, errno: 'EMFILE' }, { ret: -1, errno: 'EMFILE' }, { ret: -1, errno: 'EMFILE' }]);
  });

  it('two sockets bound to the service port cannot connect to the one peer over one IP version: EADDRNOTAVAIL', () => {
    expect(linux([...CONNECTS_TO_ONE_PEER]).map((o) => o.errno ?? o.ret).slice(2)).toEqual(['EINPROGRESS', 'EADDRNOTAVAIL', 2, 0, 'EINPROGRESS', 0, 'EINPROGRESS']);
  });

  it('dual-stack and v6only listeners with SO_REUSEPORT are two groups: IPv6 SYNs go to the group of the one that listened first, steered within it', () => {
    const accepts = (out: ReturnType<typeof linux>) => out.slice(-10).map((o) => o.errno ?? o.ret);
    // Steered to 1, 0, 1, 0: a group of one takes them all.
    expect(accepts(linux(twoIpv6Groups(false, [1, 0, 1, 0])))).toEqual([2, 3, 4, 5, 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN']);
    expect(accepts(linux(twoIpv6Groups(true, [1, 0, 1, 0])))).toEqual(['EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN', 'EAGAIN', 2, 3, 4, 5, 'EAGAIN']);
  });

  it('a child disconnected and listening again no longer stands for its peer: a new SYN from it is a new connection', () => {
    const out = linux([
      ...acceptedWith(SAVE, 1), { kind: 'disconnect', fd: 1 }, { kind: 'listen', fd: 1, backlog: 0 },
      { kind: 'syn', conn: 1, packet: pkt() }, { kind: 'ack', conn: 1 }, { kind: 'accept', fd: 0 }, read(2, 100),
    ]);
    expect(out[9]).toEqual({ ret: 2 });
    expect(out[10]).toMatchObject({ ret: 0, optlen: 60 });
  });
});
