// Named small scopes for bounded exhaustive exploration: each is a setup and
// a few threads around one race the feature's lifecycle has.

import type { Op } from '../model/ops.ts';
import { DEFAULT_PACKET } from '../model/packet.ts';
import type { Profile } from '../model/profile.ts';
import type { ConcurrentCase } from '../properties/concurrent.ts';

export interface Scope {
  name: string;
  what: string;
  build(profile: Profile): ConcurrentCase;
}

const listening = (p: Profile, fastOpen = true): Op[] => [
  // Fast Open on gives the 2015 listener tcp_sock_destruct, so the scopes
  // are about races, not about the destructor leak single threads find.
  ...(fastOpen ? [{ kind: 'sysctl', name: 'tcp_fastopen', value: 1 } as const] : []),
  { kind: 'listen', fd: 0, backlog: 4 },
  { kind: 'setsockopt', fd: 0, optname: p.setOpt, value: 1 },
];

const accepted = (conn: number): Op[] => [
  { kind: 'syn', conn, packet: DEFAULT_PACKET }, { kind: 'ack', conn }, { kind: 'accept', fd: 0 },
];

const read = (p: Profile, fd: number, bufSize: number): Op => ({ kind: 'getsockopt', fd, optname: p.readOpt, bufSize });

export const SCOPES: readonly Scope[] = [
  {
    name: 'two-readers',
    what: 'two threads read the SYN of one accepted socket, one with a buffer too small',
    build: (p) => ({
      setup: [...listening(p), ...accepted(1)],
      threads: [{ kind: 'user', ops: [read(p, 1, 10)] }, { kind: 'user', ops: [read(p, 1, 4096)] }],
      schedule: [],
    }),
  },
  {
    name: 'ack-and-retransmission',
    what: 'an ACK and its retransmission on two CPUs while a user thread accepts and reads',
    build: (p) => ({
      setup: [...listening(p), { kind: 'syn', conn: 5, packet: DEFAULT_PACKET }],
      threads: [
        { kind: 'softirq', ops: [{ kind: 'ack', conn: 5 }] },
        { kind: 'softirq', ops: [{ kind: 'ackRetransmit', conn: 5 }] },
        { kind: 'user', ops: [{ kind: 'accept', fd: 0 }, read(p, 1, 4096)] },
      ],
      schedule: [],
    }),
  },
  {
    name: 'close-while-reading',
    what: 'one thread reads the SYN while another closes the descriptor',
    build: (p) => ({
      setup: [...listening(p), ...accepted(1)],
      threads: [{ kind: 'user', ops: [read(p, 1, 4096)] }, { kind: 'user', ops: [{ kind: 'close', fd: 1 }] }],
      schedule: [],
    }),
  },
  {
    name: 'flag-flip-during-handshake',
    what: 'the listener\'s flag is turned off while a SYN and its ACK are processed and the child accepted',
    build: (p) => ({
      setup: [...listening(p)],
      threads: [
        { kind: 'user', ops: [{ kind: 'setsockopt', fd: 0, optname: p.setOpt, value: 0 }, { kind: 'accept', fd: 0 }] },
        { kind: 'softirq', ops: [{ kind: 'syn', conn: 3, packet: DEFAULT_PACKET }, { kind: 'ack', conn: 3 }] },
      ],
      schedule: [],
    }),
  },
  {
    name: 'readers-on-two-sockets',
    what: 'two threads each read their own accepted socket twice while a third sets the listener\'s flag',
    build: (p) => ({
      setup: [...listening(p), ...accepted(1), ...accepted(2)],
      threads: [
        { kind: 'user', ops: [read(p, 1, 10), read(p, 1, 4096)] },
        { kind: 'user', ops: [read(p, 2, 10), read(p, 2, 4096)] },
        { kind: 'user', ops: [{ kind: 'setsockopt', fd: 0, optname: p.setOpt, value: 0 }] },
      ],
      schedule: [],
    }),
  },
];

export function scopeByName(name: string): Scope | undefined {
  return SCOPES.find((s) => s.name === name);
}
