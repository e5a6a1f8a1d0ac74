// A third-party module that tells its state (ImplInstance.state()): verify
// merges the states it reaches, as it does the bundled stack's, instead of
// exploring every path; and what state() returns is read as data.

import { describe, expect, it } from 'vitest';
import { verify, type VerifyProgress } from '../api/verify.ts';
import { stateFingerprint } from '../fuzz/verify/canonical.ts';
import { Fingerprint } from '../fuzz/verify/fingerprint.ts';
import { hashModuleState } from '../fuzz/verify/module-state.ts';
import type { Implementation } from '../model/impl/types.ts';
import type { Op } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';
import { createSpec } from '../model/spec/index.ts';
import { Session } from '../properties/lockstep.ts';

const FEW = ['socket', 'listen=1', 'setsockopt=1', 'syn', 'accept'] as const;
const EXAMPLE = new URL('../examples/atomic-linux.ts', import.meta.url).pathname;

/** The linux spec as a module, telling its state or not. */
function specModule(withState: boolean): Implementation {
  return {
    name: withState ? 'stated-linux' : 'opaque-linux', profile: 'linux', description: 'the linux spec as a module',
    create: (env) => {
      const world = createSpec(env.profile);
      return { run: (op) => world.apply(op), view: () => world.view(), ...(withState ? { state: () => world } : {}) };
    },
  };
}

/** A module whose reads of the saved SYN fail once it has accepted a
 * connection: five ops deep (listen, SYN, ACK, accept, read), deeper than
 * a module whose state cannot be read is explored by default. */
function failsAfterAccept(withState: boolean): Implementation {
  return {
    name: 'fails-after-accept', profile: 'linux', description: 'reads fail once anything was accepted',
    create: (env) => {
      const world = createSpec(env.profile);
      const mine = { world, accepted: 0 };
      return {
        run: (op) => {
          const r = world.apply(op);
          if (op.kind === 'accept' && r.ret >= 0) mine.accepted++;
          if (op.kind === 'getsockopt' && op.optname === env.profile.readOpt && mine.accepted > 0) return { ret: -1, errno: 'EINVAL' };
          return r;
        },
        view: () => world.view(),
        ...(withState ? { state: () => mine } : {}),
      };
    },
  };
}

function fingerprintOf(state: unknown): number {
  const fp = new Fingerprint();
  hashModuleState(fp, specModule(true), state);
  return fp.value();
}

describe('verify of a module that tells its state', () => {
  it('merges states: fewer than the paths, with the same verdict', async () => {
    const stated = await verify(specModule(true), { kinds: FEW, workers: 0, depth: 4, pairDepth: 1 });
    const opaque = await verify(specModule(false), { kinds: FEW, workers: 0, depth: 4, pairDepth: 1 });
    expect(opaque.states).toBe(opaque.transitions + 1);
    expect(stated.transitions).toBeLessThan(opaque.transitions / 4);
    expect(stated.states).toBeLessThan(stated.transitions / 2);
    // The same states by count, on a stable alphabet: a change here is a
    // change in what is merged.
    expect(stated.statesPerDepth).toEqual([1, 4, 9, 15, 18]);
    expect([stated.findings, stated.races, opaque.findings, opaque.races]).toEqual([[], [], [], []]);
    expect(stated.certificate).toContain('53-bit fingerprints');
    expect(stated.pairs!.pairs).toBeGreaterThan(0);
  });

  it('finds a counterexample deeper than a module without state() is explored to, and a shortest one', async () => {
    const seen: VerifyProgress[] = [];
    const kinds = ['listen=1', 'syn', 'ack', 'accept', 'getsockopt'] as const;
    const stated = await verify(failsAfterAccept(true), { kinds, workers: 0, onProgress: (p) => seen.push(p) });
    expect(seen[0]).toMatchObject({ phase: 'start', stateHashed: true, replayed: true, depth: 6 });
    expect([stated.bounds.depth, stated.pairs?.depth]).toEqual([6, 3]);
    expect(stated.findings.map((f) => [f.signature, f.ops.length])).toEqual([['lockstep:getsockopt:ok->EINVAL', 5]]);
    const opaque = await verify(failsAfterAccept(false), { kinds, workers: 0, pairDepth: -1 });
    expect(opaque.bounds.depth).toBe(3);
    expect(opaque.findings).toEqual([]);
  });

  it('finds the same on worker threads as on this one', async () => {
    const one = await verify(EXAMPLE, { kinds: FEW, workers: 0, depth: 4, pairDepth: 1 });
    const two = await verify(EXAMPLE, { kinds: FEW, workers: 2, depth: 4, pairDepth: 1 });
    expect(one.certificate).toContain('53-bit fingerprints');
    expect([two.states, two.transitions, two.pairs?.pairs, two.findings]).toEqual([one.states, one.transitions, one.pairs?.pairs, one.findings]);
  });

  it('starts pairs of socket options past the pair depth, from the first state to show each socket as the spec does', async () => {
    // Two readers of one accepted socket: five ops of setup, two past the
    // pair depth.
    const racy = new URL('./fixtures/racy-read.ts', import.meta.url).pathname;
    const r = await verify(racy, { depth: 5, pairDepth: 3, workers: 0, kinds: ['listen=0', 'setsockopt=1', 'syn', 'ack', 'accept', 'getsockopt'] });
    expect(r.findings).toEqual([]);
    expect(r.pairs?.optionStates).toBeGreaterThan(0);
    expect(r.races.map((f) => f.signature)).toEqual(['linearizability:getsockopt:ok']);
    expect(r.races[0].case.setup.map((op) => op.kind)).toEqual(['listen', 'setsockopt', 'syn', 'ack', 'accept']);
  });

  it('takes no two ops of a module to commute: a race between readers of two sockets is found', async () => {
    const lastRead = new URL('./fixtures/last-read.ts', import.meta.url).pathname;
    const r = await verify(lastRead, { depth: 5, pairDepth: 3, workers: 0, kinds: ['listen=0', 'setsockopt=1', 'syn', 'ack', 'accept', 'getsockopt'] });
    expect(r.races.map((f) => f.signature)).toEqual(['linearizability:getsockopt:ok']);
    const readers = r.races[0].case.threads.map((t) => t.ops.map((op) => ('fd' in op ? op.fd : undefined)));
    expect(new Set(readers.flat()).size).toBe(2);
  });

  it('refuses a state() that throws, or that returns what is not data', async () => {
    const throwing: Implementation = {
      ...specModule(false), name: 'throws',
      create: (env) => ({ ...specModule(false).create(env), state: () => { throw new Error('no state here'); } }),
    };
    await expect(verify(throwing, { workers: 0, depth: 1, pairDepth: -1 })).rejects.toThrow(/state\(\) must return its state as data; reading it threw: no state here/);
    const symbolic: Implementation = {
      ...specModule(false), name: 'symbolic',
      create: (env) => ({ ...specModule(false).create(env), state: () => ({ tables: [{ id: Symbol('x') }] }) }),
    };
    await expect(verify(symbolic, { workers: 0, depth: 1, pairDepth: -1 })).rejects.toThrow(/state\(\)\.tables\[0\]\.id is a symbol/);
    const notAFunction = {
      ...specModule(false), name: 'not-a-function',
      create: (env: Parameters<Implementation['create']>[0]) => ({ ...specModule(false).create(env), state: 3 }),
    } as unknown as Implementation;
    await expect(verify(notAFunction, { workers: 0, depth: 1, pairDepth: -1 })).rejects.toThrow(/state, where given, must be a function/);
    const accessor: Implementation = {
      ...specModule(false), name: 'accessor',
      create: (env) => {
        const inner = specModule(false).create(env);
        return { run: inner.run, get state(): () => unknown { throw new Error('no state getter'); } };
      },
    };
    await expect(verify(accessor, { workers: 0, depth: 1, pairDepth: -1 })).rejects.toThrow(/reading run, view or state of the instance create\(env\) returned threw: no state getter/);
  });
});

describe('a module state with its buffers', () => {
  it('tells apart buffers its state() leaves out, by size and holder', () => {
    /** A module that allocates on listen() a buffer of `size` bytes for
     * `owner`, and whose state() says nothing of it. */
    const allocating = (size: number, owner: string): Implementation => ({
      name: 'allocating', profile: 'linux', description: '',
      create: (env) => {
        const world = createSpec(env.profile);
        return {
          run: (op) => {
            if (op.kind === 'listen') env.ledger.alloc('kmalloc', owner, 'listen', undefined, size);
            return world.apply(op);
          },
          state: () => world,
        };
      },
    });
    const after = (impl: Implementation): number => {
      const ops: Op[] = [{ kind: 'listen', fd: 0, backlog: 1 }];
      const s = new Session(impl, LINUX, ops);
      for (const op of ops) s.sequential(op, false);
      return stateFingerprint(new Fingerprint(), s, ops, 0, []);
    };
    expect(after(allocating(60, 'mine'))).toBe(after(allocating(60, 'mine')));
    expect(after(allocating(60, 'mine'))).not.toBe(after(allocating(80, 'mine')));
    expect(after(allocating(60, 'mine'))).not.toBe(after(allocating(60, 'theirs')));
  });
});

describe('a module state as data', () => {
  it('tells apart what a later op could tell apart', () => {
    const shared = { n: 1 };
    expect(fingerprintOf({ a: shared, b: shared })).not.toBe(fingerprintOf({ a: { n: 1 }, b: { n: 1 } }));
    expect(fingerprintOf(new Map([[1, 'a'], [2, 'b']]))).not.toBe(fingerprintOf(new Map([[2, 'b'], [1, 'a']])));
    expect(fingerprintOf([1.5])).not.toBe(fingerprintOf([1.7]));
    expect(fingerprintOf([Number.NaN])).not.toBe(fingerprintOf([0]));
    expect(fingerprintOf([-0])).not.toBe(fingerprintOf([0]));
    expect(fingerprintOf(new Uint8Array([1, 2]))).not.toBe(fingerprintOf(new Uint8Array([1, 3])));
    expect(fingerprintOf(new Set([1]))).not.toBe(fingerprintOf([1]));
    expect(fingerprintOf({ a: undefined })).not.toBe(fingerprintOf({ a: null }));
    expect(fingerprintOf({ a: 1n })).not.toBe(fingerprintOf({ a: '1' }));
    expect(fingerprintOf(new Uint8Array([1, 0]))).not.toBe(fingerprintOf(new Uint16Array([1])));
    expect(fingerprintOf(new Uint8Array([1, 2]).buffer)).not.toBe(fingerprintOf(new Uint8Array([1, 3]).buffer));
    expect(fingerprintOf(new Date(1))).not.toBe(fingerprintOf(new Date(2)));
    expect(fingerprintOf(Object(1))).not.toBe(fingerprintOf(Object(2)));
    expect(fingerprintOf([2 ** 64])).not.toBe(fingerprintOf([2 ** 65]));
    expect(fingerprintOf([1e300])).not.toBe(fingerprintOf([1e301]));
  });

  it('refuses what holds its state in no property', () => {
    expect(() => fingerprintOf(Promise.resolve(1))).toThrow(/state\(\) is a promise/);
    expect(() => fingerprintOf((function* g() { yield 1; })())).toThrow(/state\(\) is a generator/);
  });

  it('reads a list nested as deep as its length, to its last element', () => {
    const list = (n: number, last: number): unknown => {
      let l: unknown = [last, null];
      for (let i = 0; i < n; i++) l = [i, l];
      return l;
    };
    expect(fingerprintOf(list(20_000, 1))).toBe(fingerprintOf(list(20_000, 1)));
    expect(fingerprintOf(list(20_000, 1))).not.toBe(fingerprintOf(list(20_000, 2)));
    expect(fingerprintOf(list(20_000, 1))).not.toBe(fingerprintOf(list(19_999, 1)));
    let symbolAtTheEnd: unknown = { tag: Symbol('x') };
    for (let i = 0; i < 3; i++) symbolAtTheEnd = { next: symbolAtTheEnd };
    expect(() => fingerprintOf(symbolAtTheEnd)).toThrow(/state\(\)\.next\.next\.next\.tag is a symbol/);
  });

  it('tells a missing array element from an undefined one', () => {
    expect(fingerprintOf([, 1])).not.toBe(fingerprintOf([undefined, 1]));
    expect(fingerprintOf(new Array(3))).toBe(fingerprintOf([, , ,]));
  });

  it('reads a Map\'s keys and values, and an object\'s keys, where they are', () => {
    expect(fingerprintOf(new Map([[{ k: 1 }, 2]]))).not.toBe(fingerprintOf(new Map([[{ k: 2 }, 1]])));
    expect(fingerprintOf({ a: 1, b: 2 })).not.toBe(fingerprintOf({ a: 2, b: 1 }));
    expect(fingerprintOf({ a: 1, b: 2 })).not.toBe(fingerprintOf({ b: 2, a: 1 }));
    expect(fingerprintOf([{ a: [1] }, 2])).not.toBe(fingerprintOf([{ a: [1, 2] }]));
  });

  it('merges what no later op can tell apart', () => {
    expect(fingerprintOf({ n: 1, f: () => 1 })).toBe(fingerprintOf({ n: 1, f: () => 2 }));
    expect(fingerprintOf({ list: [1, 2], m: new Map([['k', { v: 1 }]]) })).toBe(fingerprintOf({ list: [1, 2], m: new Map([['k', { v: 1 }]]) }));
  });

  it('reads a cycle once', () => {
    const a: { self?: unknown; n: number } = { n: 1 };
    a.self = a;
    const b: { self?: unknown; n: number } = { n: 1 };
    b.self = b;
    expect(fingerprintOf(a)).toBe(fingerprintOf(b));
    const c = { n: 1, self: { n: 1, self: undefined as unknown } };
    expect(fingerprintOf(a)).not.toBe(fingerprintOf(c));
  });
});
