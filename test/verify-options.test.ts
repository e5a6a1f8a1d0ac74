// A socket as its options see it: what decides which states pairs of
// socket options start from beyond the pair depth. It must tell apart what
// an option reads or changes, and must not tell apart what none reads, or
// each such state would be paired again for nothing.
import { describe, expect, it } from 'vitest';
import { socketProjection } from '../fuzz/verify/canonical.ts';
import { Fingerprint } from '../fuzz/verify/fingerprint.ts';
import { replayed } from '../fuzz/verify/fork.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { linuxFeature } from '../model/impl/linux.ts';
import { stackImplementation } from '../model/impl/stack/adapter.ts';
import type { Implementation } from '../model/impl/types.ts';
import { DEFAULT_PACKET, type PacketDescriptor } from '../model/packet.ts';
import { TCP_SAVE_SYN, type Op } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';

const linux = bundledByName('linux')!;
const fp = new Fingerprint();

/** Descriptor `fd`'s socket, as its options see it, after `ops`. */
function seen(ops: Op[], fd = 0, impl: Implementation = linux): number {
  return socketProjection(fp, replayed(impl, LINUX, ops, ops), fd, 2);
}

const listen = (backlog = 0): Op => ({ kind: 'listen', fd: 0, backlog });
const save = (value: number, fd = 0): Op => ({ kind: 'setsockopt', fd, optname: TCP_SAVE_SYN, value });
const syn = (conn: number, packet: PacketDescriptor = DEFAULT_PACKET): Op => ({ kind: 'syn', conn, packet });
const ack = (conn: number): Op => ({ kind: 'ack', conn });
const accept: Op = { kind: 'accept', fd: 0 };

describe('a socket as its options see it', () => {
  it('is the same whatever no option reads: the backlog, the queues, other sockets, the path', () => {
    const base = seen([listen(0), save(1)]);
    expect(seen([listen(1), save(1)])).toBe(base);
    expect(seen([save(1), listen(0)])).toBe(base);
    // A request pending and a child queued on the listener.
    expect(seen([listen(0), save(1), syn(1)])).toBe(base);
    expect(seen([listen(0), save(1), syn(1), ack(1)])).toBe(base);
    // Another socket, and what happens to it.
    expect(seen([{ kind: 'socket' }, save(2, 1), listen(0), save(1)])).toBe(base);
  });

  it('tells apart what an option reads or changes: the flag, the state, the SYN kept and how it was read', () => {
    const child = [listen(0), save(1), syn(1), ack(1), accept];
    const all = [
      seen([listen(0)]), seen([listen(0), save(1)]), seen([listen(0), save(2)]), seen([save(1)]),
      seen(child, 1),
      seen([...child, { kind: 'getsockopt', fd: 1, optname: LINUX.readOpt, bufSize: 4096 }], 1),
      seen([listen(0), save(1), syn(1, { ...DEFAULT_PACKET, family: 6, mac: 'ethernet' }), ack(1), accept], 1),
      // The same socket named by a second descriptor.
      seen([listen(0), save(1), { kind: 'dup', fd: 0 }]),
    ];
    expect(new Set(all).size).toBe(all.length);
  });

  it('counts every buffer as the socket\'s when a feature field may hold one unknown to it', () => {
    // A field the fingerprint does not know: which buffers the socket
    // leads to cannot be told, so a SYN pending elsewhere counts too.
    const marked = stackImplementation({
      name: 'marked', profile: 'linux', description: 'Linux, with a field of its own on each socket it sets an option on',
      feature: {
        ...linuxFeature,
        *setsockopt(k, t, sk, optname, value) {
          sk.tp.mark = 1;
          return yield* linuxFeature.setsockopt(k, t, sk, optname, value);
        },
      },
    });
    expect(seen([listen(0), save(1), syn(1)], 0, marked)).not.toBe(seen([listen(0), save(1)], 0, marked));
    expect(seen([listen(0), save(1), syn(1)])).toBe(seen([listen(0), save(1)]));
  });

  it('is the same for each descriptor that names the socket', () => {
    const ops: Op[] = [listen(0), save(1), { kind: 'dup', fd: 0 }];
    expect(seen(ops, 1)).toBe(seen(ops, 0));
  });
});
