// Replay tokens: a whole case in one string, decoded exactly, and every way a
// token can be wrong reported as such.
import fc from 'fast-check';
import { deflateRawSync, crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { opsArb } from '../fuzz/arbitraries.ts';
import { concurrentArb } from '../fuzz/concurrent-cases.ts';
import { main } from '../cli/main.ts';
import { DEFAULT_PACKET } from '../model/packet.ts';
import type { Op } from '../model/ops.ts';
import { LINUX, RFC_V1 } from '../model/profile.ts';
import { decodeToken, encodeToken, TokenError, type ReplayCase } from '../reports/token.ts';
import { replayCommand } from '../reports/replay-command.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SAVEDSYN } from './built.ts';

/** A token as savedsyn writes it (version 2: the checksum covers the
 * version), or as version 1 did (the payload alone). */
const craft = (payload: unknown, version = 2, raw = Buffer.from(JSON.stringify(payload))): string => {
  const head = `ssyn${version}.${deflateRawSync(raw).toString('base64url')}`;
  const summed = version === 1 ? head.slice(head.indexOf('.') + 1) : head;
  return `${head}.${crc32(summed).toString(16).padStart(8, '0')}`;
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
    ['from a newer savedsyn', craft({}, 3), /newer savedsyn \(token version 3\)/],
    ['from a savedsyn far newer', good.replace(/^ssyn2\./, 'ssyn99999999999999999999.'), /newer savedsyn \(token version 99999999999999999999\)/],
    ['given another version prefix', good.replace(/^ssyn2\./, 'ssyn0.'), /unknown token version '0'/],
    ['given a padded version prefix', good.replace(/^ssyn2\./, 'ssyn02.'), /unknown token version '02'/],
    ['relabelled as version 1', good.replace(/^ssyn2\./, 'ssyn1.'), /checksum does not match/],
    ['a small token that inflates to gigabytes', craft(undefined, 2, Buffer.alloc(64 << 20, 0x20)), /inflates to more than 16 MiB/],
    ['a payload that is not a case', craft({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'frobnicate' }] }), /ops\[0\] is not an op/],
    ['an unknown profile', craft({ profile: 'bsd', impl: 'x', kind: 'sequential', ops: [] }), /unknown profile "bsd"/],
    ['a broken packet', craft({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'syn', conn: 1, packet: { family: 5 } }] }), /packet has no family/],
  ];
  // Numbers the lane would read as others (a C int wrapped, a fraction cut
  // at its point) or the model cannot build (a peer past its range).
  const linuxOps = (ops: unknown[]): string => craft({ profile: 'linux', impl: 'linux', kind: 'sequential', ops });
  bad.push(
    ['an option value past a C int', linuxOps([{ kind: 'setsockopt', fd: 1, optname: 27, value: 2 ** 32 + 1 }]), /ops\[0\] \(setsockopt\) value is outside a C int/],
    ['a buffer size past a C int', linuxOps([{ kind: 'getsockopt', fd: 1, optname: 28, bufSize: 2 ** 32 }]), /bufSize is outside a C int/],
    ['a fractional descriptor', linuxOps([{ kind: 'getsockopt', fd: 1.5, optname: 28, bufSize: 4 }]), /fd is not a whole number/],
    ['an op missing a field', linuxOps([{ kind: 'listen' }]), /ops\[0\] \(listen\) has no fd/],
    ['a peer past the model\'s range', linuxOps([{ kind: 'syn', conn: 10000, packet: DEFAULT_PACKET }]), /conn names no peer \(peers are 0\.\.9999\)/],
    ['a negative peer', linuxOps([{ kind: 'rst', conn: -1 }]), /conn names no peer/],
    ['a flood past the last peer', linuxOps([{ kind: 'flood', first: 9990, count: 20 }]), /floods peers past 9999/],
    ['a flood longer than an op may run', linuxOps([{ kind: 'flood', first: 1, count: 9998 }]), /\(flood\) count is outside 0\.\.1000/],
    ['an option the kernel serves and the model does not cover', linuxOps([{ kind: 'getsockopt', fd: 0, optname: 26, bufSize: 64 }]), /getsockopt of option 26, a TCP option the kernel serves and the linux model does not cover/],
    ['TCP_NODELAY set', linuxOps([{ kind: 'setsockopt', fd: 0, optname: 1, value: 1 }]), /setsockopt of option 1/],
    ['a field no packet has', linuxOps([{ kind: 'syn', conn: 1, packet: { ...DEFAULT_PACKET, bogus: true } }]), /ops\[0\]\.packet has a field "bogus" no savedsyn case has/],
    ['a field on the case', craft({ profile: 'linux', impl: 'linux', kind: 'sequential', ops: [], extra: 1 }), /the case has a field "extra"/],
    ['a field on a thread', craft({ profile: 'rfc-v1', impl: 'rfc-v1', kind: 'concurrent', case: { setup: [], threads: [{ kind: 'user', ops: [], note: 'x' }], schedule: [] } }), /thread 0 has a field "note"/],
    ['a field on a concurrent case', craft({ profile: 'rfc-v1', impl: 'rfc-v1', kind: 'concurrent', case: { setup: [], threads: [{ kind: 'user', ops: [] }], schedule: [], seed: 3 } }), /the concurrent case has a field "seed"/],
    ['a field no op of its kind has', linuxOps([{ kind: 'accept', fd: 0, to: 1 }]), /ops\[0\] \(accept\) has a field "to", which no accept op has/],
    ['a field named after a method every object has', linuxOps([{ kind: 'setsockopt', fd: 0, optname: 27, value: 1, toString: 1 }]), /ops\[0\] \(setsockopt\) has a field "toString", which no setsockopt op has/],
    ['a field named constructor', linuxOps([{ kind: 'close', fd: 0, constructor: 1 }]), /ops\[0\] \(close\) has a field "constructor", which no close op has/],
    ['a packet on an op that sends none', linuxOps([{ kind: 'ack', conn: 1, packet: { family: 5 } }]), /ops\[0\] \(ack\) has a field "packet", which no ack op has/],
    ['a name on an op that is not a sysctl', linuxOps([{ kind: 'listen', fd: 0, backlog: 1, name: 'tcp_syncookies' }]), /ops\[0\] \(listen\) has a field "name"/],
    ['in a concurrent case\'s thread', craft({ profile: 'rfc-v1', impl: 'rfc-v1', kind: 'concurrent', case: { setup: [], threads: [{ kind: 'user', ops: [{ kind: 'accept', fd: -0.5 }] }], schedule: [] } }), /thread 0\[0\] \(accept\) fd is not a whole number/],
  );
  it('reads every option number the model covers, and any number no kernel knows', () => {
    const ops: Op[] = [
      ...[-1, 0, 26, 27, 28, 64, 99].map((optname): Op => ({ kind: 'setsockopt', fd: 0, optname, value: 1 })),
      ...[-1, 0, 27, 28, 99].map((optname): Op => ({ kind: 'getsockopt', fd: 0, optname, bufSize: 4 })),
    ];
    expect(decodeToken(linuxOps(ops))).toMatchObject({ ops });
    expect(decodeToken(craft({ profile: 'rfc-v1', impl: 'rfc-v1', kind: 'sequential', ops: [{ kind: 'setsockopt', fd: 0, optname: 26, value: 1 }, { kind: 'getsockopt', fd: 0, optname: 99, bufSize: 4 }] }))).toBeTruthy();
  });
  it('still reads version 1 tokens, whose checksum covers the payload only', () => {
    const c: ReplayCase = { profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'listen', fd: 0, backlog: 2 }] };
    expect(decodeToken(craft(c, 1))).toEqual(c);
  });

  it('reads a SYN written before extension headers existed as one without them, and carries them when present', () => {
    const plain = { ...DEFAULT_PACKET, family: 6, mac: 'none' };
    const old: ReplayCase = { profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'syn', conn: 1, packet: { ...DEFAULT_PACKET, family: 6, mac: 'none' } }] };
    expect(decodeToken(craft(old))).toEqual(old);
    const ext: ReplayCase = { ...old, ops: [{ kind: 'syn', conn: 1, packet: { ...DEFAULT_PACKET, family: 6, hopByHop: 16, routing: true, destOpts: false } }] };
    expect(decodeToken(encodeToken(ext))).toEqual(ext);
    expect(() => decodeToken(craft({ ...old, ops: [{ kind: 'syn', conn: 1, packet: { ...plain, hopByHop: 12 } }] }))).toThrow(/hopByHop length other than 0, 8 or 16/);
    expect(() => decodeToken(craft({ ...old, ops: [{ kind: 'syn', conn: 1, packet: { ...plain, routing: 1 } }] }))).toThrow(/routing that is not true or false/);
  });

  it('reads a socket written before families existed as the dual-stack one, and carries a family when present', () => {
    const c: ReplayCase = { profile: 'linux', impl: 'linux', kind: 'sequential', ops: [{ kind: 'socket' }, { kind: 'socket', family: 4 }, { kind: 'socket', v6only: 1 }] };
    expect(decodeToken(encodeToken(c))).toEqual(c);
    expect(() => decodeToken(craft({ ...c, ops: [{ kind: 'socket', family: 5 }] }))).toThrow(/socket of no known family/);
    expect(() => decodeToken(craft({ ...c, ops: [{ kind: 'socket', family: 4, v6only: 1 }] }))).toThrow(/an AF_INET socket with IPV6_V6ONLY/);
  });

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
    const tokens = lines.join('\n').match(/ssyn2\.[A-Za-z0-9_-]+\.[0-9a-f]{8}/g) ?? [];
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

describe('a token is untrusted input', () => {
  const bin = SAVEDSYN;
  const savedsyn = (args: string[], input?: string) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  const out = () => mkdtempSync(join(tmpdir(), 'savedsyn-replay-'));

  it('never loads the module a token names: only one named on the command line', () => {
    const leaky = join(import.meta.dirname, 'fixtures/leaky.ts');
    const token = encodeToken({ profile: 'linux', impl: leaky, kind: 'sequential', ops: [] });
    const refused = savedsyn(['replay', token, '--out', out()]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toMatch(/^savedsyn: the token names the module .*leaky\.ts", and a token never chooses code to run/);
    const named = savedsyn(['replay', token, '--impl', leaky, '--out', out(), '--quiet']);
    expect(named.stderr).toBe('');
    expect(named.stdout).toMatch(/^(fails|passes) \(.*leaky\.ts, profile linux\)/);
  });

  it('is replayed by the command printed for it: a module path rides along, quoted for the shell where it must be, and an object is asked for', () => {
    expect(replayCommand('ssyn2.x.0', 'linux')).toBe('npx savedsyn replay ssyn2.x.0');
    expect(replayCommand('ssyn2.x.0', 'kernel')).toBe('npx savedsyn replay ssyn2.x.0');
    expect(replayCommand('ssyn2.x.0', './impls/mine.ts')).toBe('npx savedsyn replay ssyn2.x.0 --impl ./impls/mine.ts');
    // An object passed to check() is named by its name, which no command loads.
    expect(replayCommand('ssyn2.x.0', 'mine')).toBe('npx savedsyn replay ssyn2.x.0 --impl <the module exporting mine>');
    const odd = "/tmp/it's mine/impl.ts";
    const line = replayCommand('ssyn2.x.0', odd);
    const words = spawnSync('sh', ['-c', `printf '%s\\n' ${line.slice('npx savedsyn replay '.length)}`], { encoding: 'utf8' }).stdout;
    expect(words).toBe(`ssyn2.x.0\n--impl\n${odd}\n`);
  });

  it('is read from standard input or a file when it is longer than an argument may be', () => {
    // Fifteen thousand ops with values that compress badly: a token of
    // several hundred KiB, past the kernel's 128 KiB limit on one argument.
    const ops = fc.sample(fc.record({ kind: fc.constant('setsockopt' as const), fd: fc.integer({ min: 0, max: 9 }), optname: fc.integer({ min: 64 }), value: fc.integer() }), { numRuns: 15_000, seed: 1 });
    const token = encodeToken({ profile: 'linux', impl: 'linux', kind: 'sequential', ops });
    expect(token.length).toBeGreaterThan(128 << 10);
    const file = join(out(), 'token.txt');
    writeFileSync(file, `${token}\n`);
    for (const r of [
      savedsyn(['replay', '-', '--out', out(), '--quiet'], token),
      savedsyn(['replay', '--token-file', '-', '--out', out(), '--quiet'], token),
      savedsyn(['replay', '--token-file', file, '--out', out(), '--quiet']),
    ]) {
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^passes \(linux, profile linux\)/);
    }
  });
});
