import { bundledByName } from '../model/impl/registry.ts';
import { TCP_SAVE_SYN, type Op, type Outcome } from '../model/ops.ts';
import { DEFAULT_PACKET, type PacketDescriptor } from '../model/packet.ts';
import { profileByName } from '../model/profile.ts';
import { runLockstep, type RunResult } from '../properties/lockstep.ts';

/** Run a hand-written case on a bundled implementation against its spec. */
export function scenario(implName: string, ops: Op[]): { result: RunResult; actual: Outcome[] } {
  const impl = bundledByName(implName);
  if (!impl) throw new Error(`no implementation ${implName}`);
  const result = runLockstep(impl, profileByName(impl.profile)!, ops);
  const actual = result.steps.filter((s) => !s.teardown).map((s) => s.actual!);
  return { result, actual };
}

export const pkt = (over: Partial<PacketDescriptor> = {}): PacketDescriptor => ({ ...DEFAULT_PACKET, ...over });

/** listen on the service socket with the flag set, one connection handshaken and accepted as fd 1. */
export function acceptedWith(setOpt: number, flag: number, packet: PacketDescriptor = DEFAULT_PACKET, backlog = 4): Op[] {
  return [
    { kind: 'listen', fd: 0, backlog },
    { kind: 'setsockopt', fd: 0, optname: setOpt, value: flag },
    { kind: 'syn', conn: 1, packet },
    { kind: 'ack', conn: 1 },
    { kind: 'accept', fd: 0 },
  ];
}

/** A listener of the port's SO_REUSEPORT group: a fresh socket with
 * SO_REUSEPORT, bound, in mode `mode`, listening (the service socket, fd
 * 0, when fd is 0). */
export function groupMember(fd: number, mode: number, optname = TCP_SAVE_SYN): Op[] {
  const own: Op[] = fd === 0 ? [] : [{ kind: 'socket' }];
  return [
    ...own, { kind: 'reuseport', fd }, ...(fd === 0 ? [] : [{ kind: 'bind', fd } satisfies Op]),
    { kind: 'setsockopt', fd, optname, value: mode }, { kind: 'listen', fd, backlog: 4 },
  ];
}

/** Two SO_REUSEPORT listeners on the service port, a dual-stack one (fd 0)
 * and a v6only one (fd 1), listening in the order given, then IPv6 SYNs
 * from peers 1..n steered to `to`[i], each handshaken, and accept() on
 * both until each is empty. */
export function twoIpv6Groups(v6onlyFirst: boolean, to: readonly number[]): Op[] {
  const dual: Op[] = [{ kind: 'reuseport', fd: 0 }, { kind: 'listen', fd: 0, backlog: 8 }];
  const v6only: Op[] = [{ kind: 'reuseport', fd: 1 }, { kind: 'bind', fd: 1 }, { kind: 'listen', fd: 1, backlog: 8 }];
  const ops: Op[] = [{ kind: 'socket', v6only: 1 }, ...(v6onlyFirst ? [...v6only, ...dual] : [...dual, ...v6only])];
  to.forEach((t, i) => ops.push({ kind: 'syn', conn: i + 1, packet: pkt({ family: 6 }), to: t }, { kind: 'ack', conn: i + 1 }));
  for (const fd of [0, 1]) for (let i = 0; i <= to.length; i++) ops.push({ kind: 'accept', fd });
  return ops;
}

/** Sockets bound to the service port connecting to the one peer: fd 1
 * (dual-stack, over IPv4), then fd 0 over IPv4 too, then a v6only fd 2;
 * then fd 1 disconnected and fd 0 again. */
export const CONNECTS_TO_ONE_PEER: readonly Op[] = [
  { kind: 'socket' }, { kind: 'bind', fd: 1 }, { kind: 'connect', fd: 1 }, { kind: 'connect', fd: 0 },
  { kind: 'socket', v6only: 1 }, { kind: 'bind', fd: 2 }, { kind: 'connect', fd: 2 },
  { kind: 'disconnect', fd: 1 }, { kind: 'connect', fd: 0 },
];
