import { bundledByName } from '../model/impl/registry.ts';
import type { Op, Outcome } from '../model/ops.ts';
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
