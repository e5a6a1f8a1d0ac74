// Address families of the sockets on the service port. Every socket binds
// the wildcard address of its family: an AF_INET6 socket receives IPv4 and
// IPv6 (IPv4 peers as v4-mapped addresses) unless IPV6_V6ONLY is set; an
// AF_INET socket receives IPv4 only. Measured (reference/measured-paths.md,
// family.*): an AF_INET listener beside a dual-stack one on the port is
// EADDRINUSE without SO_REUSEPORT, beside a v6only one it listens; IPv4
// SYNs go to the AF_INET listener, IPv6 SYNs to the AF_INET6 one.

import type { SocketOp } from './ops.ts';

/** AF_INET6 dual-stack (the default), AF_INET, AF_INET6 with IPV6_V6ONLY. */
export type Domain = 'inet6' | 'inet' | 'inet6only';
export const DOMAINS: readonly Domain[] = ['inet6', 'inet', 'inet6only'];

/** The IP version a socket of `d` connects over: every connect() goes to
 * the one peer that never answers (192.0.2.9, v4-mapped from a dual-stack
 * socket; 2001:db8::9 from a v6only one). Two sockets bound to the service
 * port connecting over one version would make one 4-tuple, which
 * __inet_check_established() refuses with EADDRNOTAVAIL (measured). */
export function connectsOver(d: Domain): 4 | 6 {
  return d === 'inet6only' ? 6 : 4;
}

/** The SO_REUSEPORT group a listener of `d` is in. Today one per family
 * and IPV6_V6ONLY setting: inet_reuseport_add_sock() joins no other (and
 * the lookup meets the first to listen of two IPv6 groups). 4.1 has no
 * group structure: its lookup pools every SO_REUSEPORT listener of the
 * best score, so its AF_INET6 listeners are one pool, v6only or not, of
 * which an IPv4 SYN only counts those that receive it. */
export function groupKey(era: '4.1' | 'today', d: Domain): Domain {
  return era === '4.1' && d === 'inet6only' ? 'inet6' : d;
}

export function domainOf(op: SocketOp): Domain {
  if (op.family === 4) return 'inet';
  return op.v6only === 1 ? 'inet6only' : 'inet6';
}

/** Whether a socket on the wildcard address of `d` receives an IPv`version` SYN. */
export function receives(d: Domain, version: 4 | 6): boolean {
  return version === 4 ? d !== 'inet6only' : d !== 'inet';
}

/** inet_rcv_saddr_equal() for two wildcard binds: they conflict when some
 * IP version reaches both (ipv6_rcv_saddr_equal() with v6only). */
export function overlaps(a: Domain, b: Domain): boolean {
  return (receives(a, 4) && receives(b, 4)) || (receives(a, 6) && receives(b, 6));
}

/** compute_score() of the listener lookup: a listener of the SYN's own
 * family scores higher than a dual-stack one. Only one listener can
 * receive a version without SO_REUSEPORT; the score orders the others. */
export function lookupScore(d: Domain, version: 4 | 6): number {
  if (!receives(d, version)) return -1;
  return (version === 4) === (d === 'inet') ? 2 : 1;
}
