// The bounds a verify run asks for, checked: a number out of range, an
// option that is not a yes or no, or an op kind the alphabet would not
// offer is the user's mistake, named in one line, never an empty search.

import { DEFAULT_BOUNDS, kindsOffered, SHAPES, valuesOffered, type VerifyBounds } from './alphabet.ts';
import { parseKind, VALUED, type AlphabetKind, type KindName } from './selectors.ts';
import { NETWORK_KINDS, SYSCALL_KINDS, SYSCTL_NAMES, SYSTEM_KINDS } from '../../model/ops.ts';
import type { Profile } from '../../model/profile.ts';
import { UserError } from '../../model/user-error.ts';

type NumericBound = 'depth' | 'peers' | 'fds' | 'shapes';

export const BOUND_LIMITS: Record<NumericBound, [number, number]> = {
  depth: [0, 64], peers: [1, 8], fds: [1, 16], shapes: [1, SHAPES.length],
};

/** Every name `kinds` may hold, before any value: the kinds of op, and each sysctl. */
export const ALPHABET_KINDS: readonly KindName[] = [...SYSCALL_KINDS, ...NETWORK_KINDS, ...SYSTEM_KINDS, ...SYSCTL_NAMES];

/** The options that unlock each kind the default alphabet leaves out. */
const UNLOCKED_BY: Partial<Record<KindName, string>> = { reuseport: 'groups', synackRetransmit: 'groups', tcp_migrate_req: 'groups' };

/** `command` names who asks in the messages: kernel --depth takes verify's
 * alphabet too. */
export function checkedBounds(profile: Profile, o: Partial<VerifyBounds>, command: 'verify' | 'kernel' = 'verify'): VerifyBounds {
  const b: VerifyBounds = { ...DEFAULT_BOUNDS };
  for (const k of Object.keys(BOUND_LIMITS) as NumericBound[]) {
    const v = o[k];
    if (v === undefined) continue;
    const [min, max] = BOUND_LIMITS[k];
    if (!Number.isInteger(v) || v < min || v > max) throw new UserError(`${command}: ${k} must be an integer from ${min} to ${max}, got ${v}`);
    b[k] = v;
  }
  for (const k of ['groups', 'families'] as const) {
    const v = o[k];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new UserError(`${command}: ${k} must be true or false, got ${String(v)}`);
    b[k] = v;
  }
  if (o.kinds !== undefined) b.kinds = checkedKinds(profile, b, o.kinds, command);
  return b;
}

function checkedKinds(profile: Profile, b: VerifyBounds, kinds: readonly AlphabetKind[], command: string): AlphabetKind[] {
  if (kinds.length === 0) throw new UserError(`${command}: kinds must name at least one kind of op`);
  const offered = kindsOffered(profile, b);
  const out: AlphabetKind[] = [];
  for (const k of kinds) {
    const { name, value } = parseKind(k);
    if (!ALPHABET_KINDS.includes(name)) throw new UserError(`${command}: '${String(k)}' is no kind of op nor sysctl; verify offers ${offered.join(', ')}`);
    if (!offered.includes(name)) {
      const unlock = UNLOCKED_BY[name];
      throw new UserError(unlock === undefined
        ? `${command}: ${name} is not in verify's alphabet (it offers ${offered.join(', ')})`
        : `${command}: ${name} is offered only with ${unlock} on (--${unlock})`);
    }
    if (value !== undefined) {
      const what = VALUED[name];
      if (what === undefined) throw new UserError(`${command}: ${name} takes no value ('${k}'): only ${Object.keys(VALUED).join(', ')} do`);
      const values = valuesOffered(profile, b, name);
      if (!values.includes(value)) throw new UserError(`${command}: '${k}': ${what} of ${name} is one of ${values.join(', ')}`);
    }
    if (!out.includes(k)) out.push(k);
  }
  return out;
}
