// One string that carries a whole case: profile, implementation, ops, and for
// a concurrent case its threads and schedule. `ssyn2.<payload>.<crc>`: the
// version first, so an older savedsyn can say a token is newer than it; the
// payload is deflated JSON in base64url; the CRC-32, over everything before
// it, catches a token cut short or altered in a mail client. A token is
// untrusted input: it may come from anyone, so it is checked field by field
// and may inflate to MAX_CASE_BYTES at most.

import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { SYSCTL_NAMES, type Op, type SysctlName } from '../model/ops.ts';
import { optionOutsideModel, profileByName, PROFILE_NAMES, type Profile, type ProfileName } from '../model/profile.ts';
import type { ConcurrentCase } from '../properties/concurrent.ts';
import { UserError } from '../model/user-error.ts';
import { OP_KINDS, opFieldsProblem, strayFieldProblem } from './token-ops.ts';

export const TOKEN_VERSION = 2;
const PREFIX = 'ssyn';
/** The largest case a token may hold: generated cases are a few KiB, and
 * hand-made ones far larger than the argument limit still fit. */
export const MAX_CASE_BYTES = 16 << 20;

export type ReplayCase =
  | { profile: ProfileName; impl: string; kind: 'sequential'; ops: Op[] }
  | { profile: ProfileName; impl: string; kind: 'concurrent'; case: ConcurrentCase };

/** A token that cannot be read: a mistake in what the user gave. */
export class TokenError extends UserError {}

const checksum = (text: string): string => crc32(text).toString(16).padStart(8, '0');

export function encodeToken(c: ReplayCase): string {
  const head = `${PREFIX}${TOKEN_VERSION}.${deflateRawSync(Buffer.from(JSON.stringify(c))).toString('base64url')}`;
  return `${head}.${checksum(head)}`;
}

export function decodeToken(token: string): ReplayCase {
  const t = token.trim();
  if (!t.startsWith(PREFIX)) throw new TokenError('not a savedsyn replay token (they start with "ssyn")');
  const version = /^ssyn(\d+)\./.exec(t)?.[1];
  // Any whole number without a leading zero, however long, is a version.
  if (version !== undefined && /^[1-9]\d*$/.test(version) && BigInt(version) > BigInt(TOKEN_VERSION)) {
    throw new TokenError(`this token was made by a newer savedsyn (token version ${version}); this one reads versions 1 to ${TOKEN_VERSION}`);
  }
  const m = /^(ssyn(1|2)\.([A-Za-z0-9_-]*))\.([0-9a-f]{8})$/.exec(t);
  if (m === null) {
    if (version !== undefined && version !== '1' && version !== '2') throw new TokenError(`unknown token version '${version}': savedsyn writes ssyn${TOKEN_VERSION}. tokens`);
    throw new TokenError(`the token is truncated or damaged: expected ssyn${TOKEN_VERSION}.<payload>.<checksum>`);
  }
  const [, head, v, payload, crc] = m;
  // Version 1 summed the payload alone, which left the version unchecked.
  if (checksum(v === '1' ? payload : head) !== crc) throw new TokenError('the token is damaged: its checksum does not match (was it cut or re-wrapped?)');
  let data: unknown;
  try {
    data = JSON.parse(inflateRawSync(Buffer.from(payload, 'base64url'), { maxOutputLength: MAX_CASE_BYTES }).toString('utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new TokenError(`the token's case inflates to more than ${MAX_CASE_BYTES >> 20} MiB; no savedsyn case is that large`);
    }
    throw new TokenError('the token is damaged: its payload does not decode');
  }
  const problem = checkCase(data);
  if (problem) throw new TokenError(`the token does not describe a case: ${problem}`);
  return data as ReplayCase;
}

const PACKET_FIELDS = ['family', 'mac', 'ipOptions', 'mss', 'sackPermitted', 'timestamps', 'windowScale', 'fastOpen', 'payload', 'hopByHop', 'routing', 'destOpts'];

/** A key of `o` not among `known`: carried along unread, it would make the
 * case a token shows other than the case it runs. */
function strayKey(o: object, known: readonly string[]): string | undefined {
  const k = Object.keys(o).find((key) => !known.includes(key));
  return k === undefined ? undefined : `has a field ${JSON.stringify(k)} no savedsyn case has`;
}

function checkCase(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null) return 'not an object';
  const c = x as Record<string, unknown>;
  const stray = strayKey(c, ['profile', 'impl', 'kind', c.kind === 'concurrent' ? 'case' : 'ops']);
  if (stray) return `the case ${stray}`;
  if (!PROFILE_NAMES.includes(c.profile as ProfileName)) return `unknown profile ${JSON.stringify(c.profile)}`;
  if (typeof c.impl !== 'string' || c.impl === '') return 'no implementation named';
  const profile = profileByName(c.profile as ProfileName)!;
  if (c.kind === 'sequential') return checkOps(c.ops, 'ops', profile);
  if (c.kind !== 'concurrent') return `unknown kind ${JSON.stringify(c.kind)}`;
  const cc = c.case as Record<string, unknown> | undefined;
  if (typeof cc !== 'object' || cc === null) return 'no case';
  const strayInCase = strayKey(cc, ['setup', 'threads', 'schedule']);
  if (strayInCase) return `the concurrent case ${strayInCase}`;
  const setup = checkOps(cc.setup, 'setup', profile);
  if (setup) return setup;
  if (!Array.isArray(cc.threads) || cc.threads.length === 0) return 'no threads';
  for (const [i, th] of (cc.threads as unknown[]).entries()) {
    const t = th as Record<string, unknown>;
    if (t?.kind !== 'user' && t?.kind !== 'softirq') return `thread ${i} is neither user nor softirq`;
    const strayInThread = strayKey(t, ['kind', 'ops']);
    if (strayInThread) return `thread ${i} ${strayInThread}`;
    const bad = checkOps(t.ops, `thread ${i}`, profile);
    if (bad) return bad;
  }
  if (!Array.isArray(cc.schedule) || !cc.schedule.every((s) => Number.isInteger(s))) return 'the schedule is not a list of thread numbers';
  return undefined;
}

function checkOps(x: unknown, where: string, profile: Profile): string | undefined {
  if (!Array.isArray(x)) return `${where} is not a list of ops`;
  for (const [i, op] of x.entries()) {
    const o = op as Record<string, unknown>;
    if (typeof o !== 'object' || o === null || !OP_KINDS.has(o.kind as string)) return `${where}[${i}] is not an op`;
    const stray = strayFieldProblem(o);
    if (stray) return `${where}[${i}] (${o.kind as string}) ${stray}`;
    if ('packet' in o) {
      const bad = checkPacket(o.packet);
      if (bad) return `${where}[${i}].packet ${bad}`;
    }
    if (o.kind === 'sysctl' && !SYSCTL_NAMES.includes(o.name as SysctlName)) return `${where}[${i}] names no known sysctl`;
    // A socket's family came later: a token without one is the dual-stack socket it always was.
    if (o.kind === 'socket' && ((o.family !== undefined && o.family !== 4 && o.family !== 6) || (o.v6only !== undefined && o.v6only !== 0 && o.v6only !== 1))) {
      return `${where}[${i}] is a socket of no known family`;
    }
    if (o.kind === 'socket' && o.family === 4 && o.v6only === 1) return `${where}[${i}] is an AF_INET socket with IPV6_V6ONLY, which only an AF_INET6 socket has`;
    for (const [k, v] of Object.entries(o)) {
      if (k === 'kind' || k === 'name' || k === 'packet') continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${where}[${i}].${k} is not a number`;
    }
    const bad = opFieldsProblem(o);
    if (bad) return `${where}[${i}] (${o.kind}) ${bad.startsWith('.') ? bad.slice(1) : bad}`;
    if ((o.kind === 'setsockopt' || o.kind === 'getsockopt') && optionOutsideModel(profile, o.kind, o.optname as number)) {
      return `${where}[${i}] is ${o.kind} of option ${o.optname as number}, a TCP option the kernel serves and the ${profile.name} model does not cover `
        + `(it covers ${o.kind} of ${profile.modelledOptions[o.kind].join(', ')} and numbers no kernel knows, such as 99)`;
    }
  }
  return undefined;
}

function checkPacket(x: unknown): string | undefined {
  const p = x as Record<string, unknown>;
  if (typeof p !== 'object' || p === null) return 'is missing';
  const stray = strayKey(p, PACKET_FIELDS);
  if (stray) return stray;
  if (p.family !== 4 && p.family !== 6) return 'has no family 4 or 6';
  if (!['ethernet', 'loopback', 'none'].includes(p.mac as string)) return 'has an unknown MAC kind';
  if (!['none', 'request', 'cookie'].includes(p.fastOpen as string)) return 'has an unknown Fast Open option';
  for (const k of ['ipOptions', 'mss', 'sackPermitted', 'timestamps', 'windowScale']) if (typeof p[k] !== 'boolean') return `has no ${k}`;
  if (!Number.isInteger(p.payload) || (p.payload as number) < 0 || (p.payload as number) > 1400) return 'has a payload outside 0..1400';
  // IPv6 extension headers came later: a token without them is a SYN without them.
  if (p.hopByHop !== undefined && p.hopByHop !== 0 && p.hopByHop !== 8 && p.hopByHop !== 16) return 'has a hopByHop length other than 0, 8 or 16';
  for (const k of ['routing', 'destOpts']) if (p[k] !== undefined && typeof p[k] !== 'boolean') return `has a ${k} that is not true or false`;
  return undefined;
}
