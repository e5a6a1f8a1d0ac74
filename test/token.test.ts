// Replay tokens: a whole case in one string, decoded exactly, and every way a
// token can be wrong reported as such.
import fc from 'fast-check';
import { deflateRawSync, crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { opsArb } from '../fuzz/arbitraries.ts';
import { concurrentArb } from '../fuzz/concurrent-cases.ts';
import { main } from '../cli/main.ts';
import { LINUX, RFC_V1 } from '../model/profile.ts';
import { decodeToken, encodeToken, TokenError, type ReplayCase } from '../reports/token.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const craft = (payload: unknown, version = 1): string => {
  const p = deflateRawSync(Buffer.from(JSON.stringify(payload))).toString('base64url');
  return `ssyn${version}.${p}.${crc32(p).toString(16).padStart(8, '0')}`;
};

describe('replay tokens', () => {
  it('carry sequential and concurrent cases exactly', () => {
    fc.assert(fc.property(opsArb(LINUX), (ops) => {
      const c: ReplayCase = { profile: 'linux', impl: 'linux', kind: 'sequential', ops };
      expect(decodeToken(encodeToken(c))).toEqual(JSON.parse(JSON.stringify(c)));
    }), { seed: 3, numRuns: 200 });
    fc.assert(fc.property(concurrentArb(RFC_V1, ['random']), fc.array(fc.nat(3)), (g, schedule) => {
      const c: ReplayCase = { profile: 'rfc-v1', impl: './my-impl.ts', kind: 'concurrent', case: { ...g.case, schedule } };
      expect(decodeToken(encodeToken(c))).toEqual(JSON.parse(JSON.stringify(c)));
    }), { seed: 4, numRuns: 200 });
  });

  const good = encodeToken({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'listen', fd: 0, backlog: 2 }] });
  const bad: Array<[string, string, RegExp]> = [
    ['not a token', 'hello', /not a savedsyn replay token/],
    ['truncated', good.slice(0, good.length - 12), /truncated or damaged/],
    ['altered', good.replace(/\.(.)/, (_, c) => `.${c === 'A' ? 'B' : 'A'}`), /checksum does not match/],
    ['from a newer savedsyn', craft({}, 2), /newer savedsyn \(token version 2\)/],
    ['a payload that is not a case', craft({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'frobnicate' }] }), /ops\[0\] is not an op/],
    ['an unknown profile', craft({ profile: 'bsd', impl: 'x', kind: 'sequential', ops: [] }), /unknown profile "bsd"/],
    ['a broken packet', craft({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'syn', conn: 1, packet: { family: 5 } }] }), /packet has no family/],
  ];
  for (const [what, token, message] of bad) {
    it(`refuses a token that is ${what}`, () => {
      expect(() => decodeToken(token)).toThrow(TokenError);
      expect(() => decodeToken(token)).toThrow(message);
    });
  }
});

describe('savedsyn replay', () => {
  it('re-runs every finding of a run from its token, with the same verdict', async () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-replay-'));
    const lines: string[] = [];
    await main(['--impl', 'rfc-v1', '--runs', '500', '--thread-runs', '500', '--out', out], (l) => lines.push(l));
    const findings = lines.join('\n').split('\n').filter((l) => /^(state|leak|linearizability|lockstep)/.test(l));
    const tokens = lines.join('\n').match(/ssyn1\.[A-Za-z0-9_-]+\.[0-9a-f]{8}/g) ?? [];
    expect(tokens.length).toBe(findings.length);
    expect(tokens.length).toBeGreaterThanOrEqual(4);
    for (const [i, token] of tokens.entries()) {
      const replayed: string[] = [];
      expect(await main(['replay', token, '--out', out, '--quiet'], (l) => replayed.push(l))).toBe(1);
      expect(replayed[0]).toBe(`fails: ${findings[i]} (rfc-v1, profile rfc-v1)`);
    }
  });

  it('says a case passes, and exits 0, when it does', async () => {
    const token = encodeToken({ profile: 'rfc-v1', impl: 'rfc-v1-fixed', kind: 'sequential', ops: [{ kind: 'setsockopt', fd: 0, optname: 26, value: 1 }] });
    const lines: string[] = [];
    expect(await main(['replay', token, '--out', mkdtempSync(join(tmpdir(), 'savedsyn-replay-')), '--quiet'], (l) => lines.push(l))).toBe(0);
    expect(lines[0]).toBe('passes (rfc-v1-fixed, profile rfc-v1)');
  });
});
