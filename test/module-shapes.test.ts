// Modules as users write them, correct in unusual ways and broken in
// unusual ways, checked in process through the library: a correct one
// passes, a broken one is a finding whose message says what it did, or a
// module that does not fit the interface, never a crash of savedsyn.
import { describe, expect, it } from 'vitest';
import { check, createSpec, replay, type Implementation, type ImplInstance, type Op, type Outcome } from 'savedsyn';

/** The spec as an implementation, with `change` made to its instances. */
function specWith(name: string, change: (i: ImplInstance, world: ReturnType<typeof createSpec>) => ImplInstance): Implementation {
  return {
    name, profile: 'linux', description: '',
    create(env) {
      const world = createSpec(env.profile);
      return change({ run: (op) => world.apply(op), view: () => world.view() }, world);
    },
  };
}

const quick = { runs: 200, threadRuns: 200, opTimeout: 0 };

describe('a module', () => {
  it('that lists its descriptors in another order passes, single-thread and concurrent', async () => {
    const r = await check(specWith('reversed-view', (i, w) => ({ ...i, view: () => w.view().slice().reverse() })), quick);
    expect(r.findings).toEqual([]);
    expect(r.races).toEqual([]);
  });

  for (const [what, thrown, says] of [
    ['an object with no prototype', () => Object.create(null) as unknown, /threw during listen: \[object Object\] that cannot be read as text$/],
    ['an object whose toString throws', () => ({ toString() { throw new Error('nope'); } }), /threw during listen: \[object Object\] that cannot be read as text$/],
    ['an Error whose message getter throws', () => Object.defineProperty(new Error('x'), 'message', { get() { throw new Error('nope'); } }), /threw during listen: \[object Error\] that cannot be read as text$/],
    ['a Proxy that will not tell its prototype', () => new Proxy({}, { getPrototypeOf() { throw new Error('nope'); } }), /threw during listen: \[object Object\]$/],
    ['a message of megabytes', () => new Error('x'.repeat(5_000_000)), /threw during listen: x{2000}… \(4998000 more characters\)$/],
  ] as const) {
    it(`that throws ${what} is a crash finding saying so`, async () => {
      const r = await check(specWith('throws', (i) => ({ ...i, run: (op: Op) => { if (op.kind === 'listen') throw thrown(); return i.run(op, 0); } })), { ...quick, threadRuns: 0 });
      expect(r.findings.map((f) => f.signature)).toEqual(['crash:listen']);
      expect(r.findings[0].message).toMatch(says);
    });
  }

  it('whose generator yields forever is a crash finding that says it never returned, not that it threw', async () => {
    const impl = specWith('yields-forever', (i) => ({
      ...i, run: (op: Op) => (op.kind === 'listen' ? (function* forever() { for (;;) yield 'spin'; })() : i.run(op, 0)),
    }));
    const r = await check(impl, { ...quick, threadRuns: 0 });
    expect(r.findings.map((f) => f.signature)).toEqual(['crash:listen']);
    expect(r.findings[0].message).toMatch(/^the implementation passed \d+ preemption points in listen without returning a result: its generator yields forever$/);
  });

  it('whose view() throws does not fit the interface, and says what view() threw', async () => {
    const impl = specWith('view-throws', (i, w) => ({ ...i, view: () => { if (w.openFds().length > 1) throw new Error('view broke'); return w.view(); } }));
    await expect(check(impl, quick)).rejects.toThrow(/^view-throws does not fit the Implementation interface: view\(\) must return the open descriptors; it threw: view broke$/);
  });

  it('that writes to the op it is given crashes where it writes, with a token that replays', async () => {
    const impl = specWith('clamps-in-place', (i) => ({
      ...i, run: (op: Op) => { if (op.kind === 'getsockopt' && op.bufSize < 0) (op as { bufSize: number }).bufSize = 0; return i.run(op, 0); },
    }));
    const r = await check(impl, { ...quick, threadRuns: 0, runs: 500 });
    expect(r.findings.map((f) => f.signature)).toEqual(['crash:getsockopt']);
    expect(r.findings[0].message).toMatch(/Cannot assign to read only property 'bufSize'/);
    expect((await replay(r.findings[0].token, { implementation: impl })).signature).toBe('crash:getsockopt');
  });

  it('that calls the ledger with what it cannot record does not fit the interface', async () => {
    const impl: Implementation = {
      name: 'numbered-site', profile: 'linux', description: '',
      create(env) {
        const world = createSpec(env.profile);
        return { run: (op) => { if (op.kind === 'syn') env.ledger.alloc('kmalloc', 'o', 42 as unknown as string, op.conn); return world.apply(op); }, view: () => world.view() };
      },
    };
    await expect(check(impl, quick)).rejects.toThrow(/^the implementation does not fit the Implementation interface: env\.ledger\.alloc\(\) takes as site a string; it was given 42$/);
  });

  it('whose outcome carries a typed array of megabytes is named by its kind and size', async () => {
    const impl = specWith('float-bytes', (i) => ({ ...i, run: (op: Op) => (op.kind === 'getsockopt' ? { ret: 0, bytes: new Float32Array(2_000_000) as never } : i.run(op, 0)) }));
    const e = await check(impl, { ...quick, threadRuns: 0 }).catch((x: unknown) => x as Error);
    expect((e as Error).message).toMatch(/\(bytes\); it gave a Float32Array of 8000000 bytes$/);
  });

  it('whose outcome answers otherwise when read again is judged by what it answered first', async () => {
    const impl = specWith('fickle', (i) => ({
      ...i,
      run: (op: Op) => {
        const o = i.run(op, 0) as Outcome;
        if (op.kind !== 'accept') return o;
        let reads = 0;
        return { get ret() { if (reads++ > 0) throw new Error('second read'); return o.ret; }, errno: o.errno } as never;
      },
    }));
    const r = await check(impl, quick);
    expect(r.findings).toEqual([]);
    expect(r.races).toEqual([]);
  });

  it('whose name holds a line break is refused before it runs', async () => {
    await expect(check(specWith('two\nlines', (i) => i), quick)).rejects.toThrow(/missing or wrong `name` \(a non-empty string on one line\)/);
  });

  it('given to the library as an object is checked as an export is, before any search', async () => {
    const nameless = { profile: 'linux', description: '', create: () => ({ run: () => ({ ret: 0 }) }) } as unknown as Implementation;
    await expect(check(nameless, quick)).rejects.toThrow(/does not fit the Implementation interface: missing or wrong `name`/);
  });
});
