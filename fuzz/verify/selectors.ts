// What a verify run's `kinds` names: a kind of op or one sysctl, alone or
// with one value (`listen=0`, `setsockopt=1`, `shutdown=0`,
// `tcp_migrate_req=1`). A defect behind a long setup needs one backlog or
// one mode, not every one: each value left out of a listener's or a
// socket's settings divides the states at every depth.

import type { Op, OpKind, SysctlName } from '../../model/ops.ts';

export type KindName = OpKind | SysctlName;
export type AlphabetKind = KindName | `${KindName}=${number}`;

/** The kinds whose ops a value selects, and what the value is. */
export const VALUED: Partial<Record<KindName, string>> = {
  listen: 'the backlog', setsockopt: 'the value', shutdown: 'how',
  tcp_syncookies: 'the setting', tcp_fastopen: 'the setting', tcp_migrate_req: 'the setting',
};

export function parseKind(k: string): { name: KindName; value: number | undefined } {
  const eq = k.indexOf('=');
  if (eq < 0) return { name: k as KindName, value: undefined };
  const raw = k.slice(eq + 1);
  return { name: k.slice(0, eq) as KindName, value: /^-?\d+$/.test(raw) ? Number(raw) : NaN };
}

/** The value `kinds` selects an op by, where it has one. */
export function valueOf(op: Op): number | undefined {
  switch (op.kind) {
    case 'listen': return op.backlog;
    case 'setsockopt': return op.value;
    case 'shutdown': return op.how;
    case 'sysctl': return op.value;
    default: return undefined;
  }
}

/** Whether `name` names `op`'s kind, or its sysctl. */
export function names(name: KindName, op: Op): boolean {
  return name === op.kind || (op.kind === 'sysctl' && name === op.name);
}

/** A filter of ops by `kinds`, parsed once. */
export function selector(kinds: readonly AlphabetKind[]): (op: Op) => boolean {
  const parsed = kinds.map(parseKind);
  return (op) => {
    for (const k of parsed) if (names(k.name, op) && (k.value === undefined || k.value === valueOf(op))) return true;
    return false;
  };
}
