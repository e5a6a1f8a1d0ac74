// Migration's races, explored exhaustively (up to two preemptions): the
// SYN-ACK timer migrating a request on one CPU while its ACK migrates it on
// another; a member's close racing the ACK and an accept on the other
// member; the last close of a member while an accept through it holds its
// file. linux passes in every interleaving; planted defects in the clone,
// the reset and the hash insertion fail in some.
import { describe, expect, it } from 'vitest';
import { explore } from '../fuzz/explore.ts';
import { bundledByName } from '../model/impl/registry.ts';
import { TCP_SAVE_SYN as SAVE, TCP_SAVED_SYN as SAVED, type Op } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import type { ConcurrentCase } from '../properties/concurrent.ts';
import { groupMember, pkt } from './helpers.ts';
import { MUTANTS, mutant } from './mutant-defs.ts';

const PEER = 5;
const setup: Op[] = [
  { kind: 'sysctl', name: 'tcp_migrate_req', value: 1 }, ...groupMember(0, 1), ...groupMember(1, 0),
  { kind: 'syn', conn: PEER, packet: pkt(), to: 0 },
];
const reads: Op[] = [{ kind: 'accept', fd: 1 }, { kind: 'getsockopt', fd: 2, optname: SAVED, bufSize: 4096 }, { kind: 'getsockopt', fd: 2, optname: SAVE, bufSize: 4 }];

const CASES: Record<string, ConcurrentCase> = {
  'timer and ACK migrate one request on two CPUs': {
    setup: [...setup, { kind: 'close', fd: 0 }],
    threads: [{ kind: 'softirq', ops: [{ kind: 'synackRetransmit', conn: PEER }] }, { kind: 'softirq', ops: [{ kind: 'ack', conn: PEER }] }, { kind: 'user', ops: reads }],
    schedule: [],
  },
  'a member\'s close against the ACK and an accept on the other': {
    setup,
    threads: [{ kind: 'user', ops: [{ kind: 'close', fd: 0 }] }, { kind: 'softirq', ops: [{ kind: 'ack', conn: PEER }] }, { kind: 'user', ops: reads }],
    schedule: [],
  },
  'the last close of a member while an accept through a dup holds it': {
    setup: [...setup, { kind: 'ack', conn: PEER }, { kind: 'syn', conn: 6, packet: pkt(), to: 0 }, { kind: 'dup', fd: 0 }, { kind: 'close', fd: 0 }],
    threads: [{ kind: 'user', ops: [{ kind: 'accept', fd: 2 }] }, { kind: 'user', ops: [{ kind: 'close', fd: 2 }] }, { kind: 'softirq', ops: [{ kind: 'ack', conn: 6 }] }],
    schedule: [],
  },
};

describe('migration races, every interleaving up to two preemptions', () => {
  const linux = bundledByName('linux')!;
  for (const [name, c] of Object.entries(CASES)) {
    it(`linux: ${name}`, () => {
      const r = explore(linux, LINUX, c, { preemptions: 2, reduction: true });
      expect(r.failure?.failure?.message).toBeUndefined();
      expect(r.exhausted).toBe(true);
    });
  }

  it('the timer\'s clone inserted after the ACK took the request fails in some interleaving', () => {
    const m = MUTANTS.find((x) => x.name === 'the timer\'s clone replaces a request the ACK took')!;
    const r = explore(mutant(m), LINUX, CASES['timer and ACK migrate one request on two CPUs'], { preemptions: 2, reduction: true, stopAtFailure: true });
    expect(r.failure?.failure).toBeDefined();
  });

  it('a reset that frees what the clone took fails in some interleaving of the timer and the ACK', () => {
    const m = MUTANTS.find((x) => x.name === 'reqsk_migrate_reset frees the saved SYN the clone took')!;
    const r = explore(mutant(m), LINUX, CASES['timer and ACK migrate one request on two CPUs'], { preemptions: 2, reduction: true, stopAtFailure: true });
    expect(r.failure?.failure?.oracle).toBe('ledger');
  });
});
