// A profile is a semantic era of the feature: which option numbers exist,
// which values are accepted, and the queue arithmetic of that era's kernel.
// The spec and every implementation of a profile read these, so a number
// written here is written once.

import { TCP_SAVE_SYN, TCP_SAVED_SYN, TCP_SAVED_SYN_RFC } from './ops.ts';
import { headerLength, type BuiltPacket } from './packet.ts';

export type ProfileName = 'rfc-v1' | 'linux';
export const PROFILE_NAMES: readonly ProfileName[] = ['rfc-v1', 'linux'];

export interface Profile {
  name: ProfileName;
  title: string;
  /** setsockopt option that asks for SYNs to be kept. */
  setOpt: number;
  /** getsockopt option that reads the kept SYN. */
  readOpt: number;
  /** getsockopt option that reads the flag back, if the era has one. */
  flagOpt: number | undefined;
  /** Every option number the era knows, with its name, for reports. */
  optionNames: ReadonlyMap<number, string>;
  /** The TCP options the era's kernel knows (numbers 1 to 63) that the spec
   * speaks for, by call: the feature's own and those measured. The kernel
   * serves the others (TCP_NODELAY, TCP_INFO, …), which the model does
   * not; a number the kernel does not know (99, 0, a negative one) is
   * ENOPROTOOPT, which it does. */
  modelledOptions: { setsockopt: readonly number[]; getsockopt: readonly number[] };
  /** net.core.somaxconn's default, listen()'s largest backlog: 128 until
   * Linux 5.4, 4096 since. */
  somaxconn: number;
  /** Largest flag value setsockopt accepts (1 for a boolean). */
  maxFlag: number;
  /** The kernel the feature lives in: 4.1 for the patch, today for Linux. */
  era: '4.1' | 'today';
  /** True when the listener is locked while it processes SYNs and ACKs. */
  lockedListener: boolean;
  /** True once the SYN queue no longer admits another request. */
  synQueueFull(requests: number, backlog: number): boolean;
  /** True once the accept queue admits no further child. */
  acceptQueueFull(children: number, backlog: number): boolean;
  /** What the feature may hold for one connection whose SYN is `syn`, in
   * bytes, and why. In total it may hold that much for each connection
   * whose SYN the spec keeps, and nothing for any other: a flood with
   * cookies off makes at most as many as the SYN queue admits. */
  heldBound: { perConnection(syn: BuiltPacket): number; reason: string };
}

function isPow2Roundup(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

export const RFC_V1: Profile = {
  name: 'rfc-v1',
  title: 'the 2015 RFC patch (TCP_SAVED_SYN = 26) on Linux 4.1',
  setOpt: TCP_SAVED_SYN_RFC,
  readOpt: TCP_SAVED_SYN_RFC,
  flagOpt: undefined,
  optionNames: new Map([[TCP_SAVED_SYN_RFC, 'TCP_SAVED_SYN']]),
  maxFlag: 1,
  modelledOptions: { setsockopt: [TCP_SAVED_SYN_RFC], getsockopt: [TCP_SAVED_SYN_RFC] },
  somaxconn: 128,
  era: '4.1',
  lockedListener: true,
  // Linux 4.1 reqsk_queue_alloc(): the table has roundup_pow_of_two(max(min(
  // backlog, tcp_max_syn_backlog), 8) + 1) slots and is full at that many.
  synQueueFull: (requests, backlog) =>
    requests >= isPow2Roundup(Math.max(Math.min(backlog, 256), 8) + 1),
  acceptQueueFull: (children, backlog) => children > backlog,
  heldBound: {
    perConnection: (syn) => syn.bytes.length,
    reason: 'the request and then the child hold a reference to the SYN\'s own skb (skb_get()), never a copy: the whole frame, '
      + 'payload included, once per connection however many hold it',
  },
};

export const LINUX: Profile = {
  name: 'linux',
  title: 'Linux today (TCP_SAVE_SYN = 27, TCP_SAVED_SYN = 28)',
  setOpt: TCP_SAVE_SYN,
  readOpt: TCP_SAVED_SYN,
  flagOpt: TCP_SAVE_SYN,
  optionNames: new Map([[TCP_SAVE_SYN, 'TCP_SAVE_SYN'], [TCP_SAVED_SYN, 'TCP_SAVED_SYN']]),
  maxFlag: 2,
  // Measured: setsockopt of 26 (TCP_CC_INFO, read-only) and of 28 is
  // ENOPROTOOPT; getsockopt(26) is served.
  modelledOptions: { setsockopt: [TCP_SAVED_SYN_RFC, TCP_SAVE_SYN, TCP_SAVED_SYN], getsockopt: [TCP_SAVE_SYN, TCP_SAVED_SYN] },
  somaxconn: 4096,
  era: 'today',
  lockedListener: false,
  // inet_csk_reqsk_queue_is_full() and sk_acceptq_is_full() compare with '>'.
  // Measured: listen(fd, 1) holds two requests, then sends cookies; two
  // children fill its accept queue, and further SYNs are dropped.
  synQueueFull: (requests, backlog) => requests > backlog,
  acceptQueueFull: (children, backlog) => children > backlog,
  heldBound: {
    perConnection: (syn) => headerLength(syn, true),
    reason: 'tcp_reqsk_record_syn() kmallocs a copy of the headers (the MAC header in mode 2, IP with its options or extension '
      + 'headers, TCP with its options), never the payload, and the skb is freed with the packet: one copy per connection, moved to the child',
  },
};

const PROFILES: ReadonlyMap<string, Profile> = new Map([[RFC_V1.name, RFC_V1], [LINUX.name, LINUX]]);

export function profileByName(name: string): Profile | undefined {
  return PROFILES.get(name);
}

export function optionName(profile: Profile, optname: number): string {
  return profile.optionNames.get(optname) ?? `option ${optname}`;
}

/** Whether `optname`, given to `call`, is a TCP option the profile's
 * kernel serves and its spec does not speak for. */
export function optionOutsideModel(profile: Profile, call: 'setsockopt' | 'getsockopt', optname: number): boolean {
  return optname >= 1 && optname <= 63 && !profile.modelledOptions[call].includes(optname);
}
