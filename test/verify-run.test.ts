import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { verify, type VerifyProgress } from '../api/verify.ts';
import { VerifyProgressLine, type ProgressSink } from '../cli/verify-progress.ts';
import type { Implementation } from '../model/impl/types.ts';
import { createSpec } from '../model/spec/index.ts';

/** A sink with a clock the test moves. */
function fakeSink(): ProgressSink & { lines: string[]; kept: string[]; clears: number; at: number } {
  const s = {
    lines: [] as string[], kept: [] as string[], clears: 0, at: 0,
    write: (line: string) => s.lines.push(line),
    line: (text: string) => s.kept.push(text),
    clear: () => {
      s.clears++;
    },
    now: () => s.at,
  };
  return s;
}

/** An alphabet small enough for pairs to take no time. */
const SMALL = ['listen=1', 'setsockopt=1', 'syn', 'accept', 'getsockopt'] as const;

const states = (depth: number, done: number, of: number): VerifyProgress => ({ phase: 'states', depth, done, of, states: done * 10, transitions: done * 50 });

describe('verify progress', () => {
  it('in a log: a line per depth completed, and between them at most one every ten seconds', () => {
    const sink = fakeSink();
    const p = new VerifyProgressLine(sink, false, 'linux');
    p.progress({ phase: 'start', stateHashed: true, replayed: false, ops: 58, depth: 8 });
    expect(sink.lines).toEqual([]);
    p.progress(states(3, 1, 1000));
    sink.at = 4_000;
    p.progress(states(3, 400, 1000));
    sink.at = 10_500;
    p.progress(states(3, 900, 1000));
    p.depth(4, 9000, 45000);
    sink.at = 10_600;
    p.progress({ phase: 'pairs', done: 1, of: 3 });
    p.progress({ phase: 'pairs', done: 2, of: 3 });
    p.progress({ phase: 'pairs', done: 3, of: 3 });
    p.end();
    expect(sink.lines).toEqual([
      'depth 4: 1/1000 states of depth 3 expanded, 10 distinct states, 50 transitions (0 s)',
      'depth 4: 900/1000 states of depth 3 expanded, 9000 distinct states, 45000 transitions (11 s)',
      'depth 4 complete: 9000 distinct states, 45000 transitions (11 s)',
      'pairs: from 1/3 states (11 s)',
      'pairs: from 3/3 states (11 s)',
    ]);
    expect(sink.clears).toBe(0);
  });

  it('on a terminal: the line redrawn at most four times a second, and cleared at the end', () => {
    const sink = fakeSink();
    const p = new VerifyProgressLine(sink, true, 'linux');
    for (let i = 1; i <= 100; i++) {
      sink.at = i * 10;
      p.progress(states(2, i, 100));
    }
    expect(sink.lines.length).toBe(4);
    p.end();
    expect(sink.clears).toBe(1);
  });

  it('says once, up front, when every op sequence is a state of its own', () => {
    const sink = fakeSink();
    const p = new VerifyProgressLine(sink, false, './mine.ts');
    p.progress({ phase: 'start', stateHashed: false, replayed: false, ops: 58, depth: 8 });
    expect(sink.lines).toHaveLength(0);
    expect(sink.kept).toHaveLength(1);
    expect(sink.kept[0]).toMatch(/^note: \.\/mine\.ts's state cannot be read.*about 58\^d states.*exploring to depth 8 \(--depth sets it/);
  });

  it('is told of each state expanded, level by level, then of each state pairs start from', async () => {
    const seen: VerifyProgress[] = [];
    const r = await verify('rfc-v1-fixed', { depth: 3, pairDepth: 1, workers: 0, kinds: SMALL, onProgress: (p) => seen.push(p) });
    expect(seen[0]).toEqual({ phase: 'start', stateHashed: true, replayed: false, ops: expect.any(Number) as number, depth: 3 });
    const levels = seen.filter((p) => p.phase === 'states');
    // Every state of every level but the last is expanded, once, in order.
    expect(levels.length).toBe(r.statesPerDepth.slice(0, 3).reduce((a, b) => a + b, 0));
    for (let d = 0; d < 3; d++) {
      const of = levels.filter((p) => p.depth === d);
      expect(of.map((p) => p.done)).toEqual(of.map((_, i) => i + 1));
      expect(of.every((p) => p.of === r.statesPerDepth[d])).toBe(true);
    }
    // Pairs start from each state up to depth 1, then from each deeper one
    // that first shows a socket as its options see it.
    expect(r.pairs!.optionStates).toBeGreaterThan(0);
    const starts = 1 + r.statesPerDepth[1] + r.pairs!.optionStates;
    const pairs = seen.filter((p) => p.phase === 'pairs');
    expect(pairs.at(-1)).toEqual({ phase: 'pairs', done: starts, of: starts });
  });

  it('the same on worker threads', async () => {
    const seen: VerifyProgress[] = [];
    const r = await verify('rfc-v1-fixed', { depth: 3, pairDepth: 1, workers: 2, kinds: SMALL, onProgress: (p) => seen.push(p) });
    const levels = seen.filter((p) => p.phase === 'states');
    expect(levels.length).toBe(r.statesPerDepth.slice(0, 3).reduce((a, b) => a + b, 0));
    const starts = 1 + r.statesPerDepth[1] + r.pairs!.optionStates;
    expect(seen.filter((p) => p.phase === 'pairs').at(-1)).toEqual({ phase: 'pairs', done: starts, of: starts });
  });
});

describe('verify tells of what it finds as it finds it', () => {
  it('a line that stays, at once, whatever the throttle', () => {
    for (const tty of [false, true]) {
      const sink = fakeSink();
      const p = new VerifyProgressLine(sink, tty, 'rfc-v1');
      p.progress(states(3, 1, 10));
      p.progress({ phase: 'found', signature: 'state:accept:flag', ops: 5, race: false });
      p.progress({ phase: 'found', signature: 'leak:sk:x', ops: 7, race: true });
      expect(sink.kept).toEqual([
        'found a counterexample: state:accept:flag (5 ops, a shortest one) (0 s)',
        'found a race: leak:sk:x (7 ops; a shorter one may follow) (0 s)',
      ]);
    }
  });

  for (const workers of [0, 2]) {
    it(`each signature once, single-thread and race (${workers === 0 ? 'this thread' : 'two workers'})`, async () => {
      const found: Array<Extract<VerifyProgress, { phase: 'found' }>> = [];
      const r = await verify('rfc-v1', {
        depth: 5, pairDepth: 5, pairFrom: 5, workers, kinds: ['listen=0', 'setsockopt=1', 'syn', 'ack', 'accept', 'getsockopt'],
        onProgress: (p) => {
          if (p.phase === 'found') found.push(p);
        },
      });
      expect(r.races.length).toBeGreaterThan(0);
      expect(found.filter((f) => !f.race).map((f) => [f.signature, f.ops])).toEqual(r.findings.map((f) => [f.signature, f.ops.length]));
      const races = found.filter((f) => f.race);
      expect(races.map((f) => f.signature).sort()).toEqual(r.races.map((f) => f.signature).sort());
      for (const race of r.races) {
        const size = race.case.setup.length + race.case.threads.reduce((n, t) => n + t.ops.length, 0);
        expect(races.find((f) => f.signature === race.signature)!.ops).toBeGreaterThanOrEqual(size);
      }
    });
  }
});

describe('verify stopped by a signal', () => {
  for (const workers of [0, 2]) {
    it(`stops at the next state and reports the depth completed (${workers === 0 ? 'this thread' : 'two workers'})`, async () => {
      const stop = new AbortController();
      const r = await verify('linux', {
        depth: 5, pairDepth: -1, workers, signal: stop.signal,
        onProgress: (p) => {
          if (p.phase === 'states' && p.depth === 3) stop.abort('SIGINT');
        },
      });
      expect(r.interrupted).toBe(true);
      expect(r.outOfTime).toBe(true);
      // Workers are sent a level in chunks of 1,024 states, and the chunk
      // in flight is finished: depth 3's 687 states are one.
      const completed = workers === 0 ? 3 : 4;
      expect(r.depthCompleted).toBe(completed);
      expect(r.certificate).toContain(`depth completed  ${completed} of 5 (stopped by a signal)`);
    });
  }

  it('a certificate without pairs says why none ran', async () => {
    const stop = new AbortController();
    const stopped = await verify('linux', {
      depth: 5, workers: 0, signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === 'states' && p.depth === 3) stop.abort('SIGINT');
      },
    });
    expect(stopped.pairs).toBeUndefined();
    expect(stopped.certificate).toContain('concurrent pairs none: the single-thread search was stopped by a signal before any pair ran');
    const unasked = await verify('rfc-v1-fixed', { depth: 2, pairDepth: -1, workers: 0, kinds: SMALL });
    expect(unasked.certificate).toContain('concurrent pairs none: none were asked for (pair depth -1)');
    const first = await verify('rfc-v1', { depth: 4, pairDepth: 1, workers: 0, stopAtFirst: true });
    expect(first.findings.length).toBeGreaterThan(0);
    expect(first.certificate).toContain('concurrent pairs none: the single-thread search stopped at its first counterexample');
    const paired = await verify('rfc-v1-fixed', { depth: 2, pairDepth: 1, workers: 0, kinds: SMALL });
    expect(paired.certificate).toMatch(/concurrent pairs [1-9]\d* from every state up to depth 1/);
    expect(paired.certificate).not.toContain('concurrent pairs none');
  });

  it('stops as the heap fills, at the depth completed, and says so', async () => {
    const r = await verify('linux', { depth: 5, pairDepth: 1, workers: 0, heapLimitMb: 1 });
    expect(r.heapFull?.limitMb).toBe(1);
    expect([r.outOfTime, r.depthCompleted, r.pairs]).toEqual([true, 0, undefined]);
    expect(r.certificate).toMatch(/depth completed {2}0 of 5 \(stopped as the heap filled: \d+ MB in use, past 1 MB; NODE_OPTIONS=--max-old-space-size=MB gives it more\)/);
    expect(r.certificate).toContain('concurrent pairs none: the single-thread search was stopped as the heap filled');
    for (const bad of [0, -5, 1.5, Number.NaN]) {
      await expect(verify('linux', { depth: 1, heapLimitMb: bad })).rejects.toThrow(/^verify: heapLimitMb must be an integer from 1 to/);
    }
  });

  it('runs the pairs after a search the heap stopped past the pair depth', async () => {
    const used = getHeapStatistics().used_heap_size / 2 ** 20;
    let balloon: number[] | undefined;
    const r = await verify('linux', {
      // The whole search would take seconds: the heap stops it well before.
      depth: 6, pairDepth: 0, workers: 0, heapLimitMb: Math.ceil(used) + 64,
      onProgress: (p) => {
        // Past the pair depth, the heap grows by more than the limit allows.
        if (p.phase === 'states' && p.depth === 2 && balloon === undefined) balloon = new Array<number>(13_000_000).fill(0.5);
      },
    });
    expect(balloon?.length).toBe(13_000_000);
    balloon = undefined;
    expect(r.heapFull).toBeDefined();
    expect(r.depthCompleted).toBeGreaterThanOrEqual(2);
    expect(r.depthCompleted).toBeLessThan(6);
    expect(r.pairs!.pairs).toBeGreaterThan(0);
    expect(r.certificate).toMatch(/concurrent pairs [1-9]\d* from every state up to depth 0, .* schedules\n/);
    expect(r.certificate).toContain('(stopped as the heap filled');
  });

  it('on workers, does not wait for an op that never returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'savedsyn-hangs-'));
    const api = pathToFileURL(join(import.meta.dirname, '..', 'api', 'index.ts')).href;
    const path = join(dir, 'hangs.mjs');
    writeFileSync(path, `import { createSpec } from '${api}';
export default {
  name: 'hangs', profile: 'linux', description: 'loops on a zero-length read',
  create(env) {
    const world = createSpec(env.profile);
    return {
      run: (op) => { if (op.kind === 'getsockopt' && op.bufSize === 0) for (;;) {} return world.apply(op); },
      view: () => world.view(),
    };
  },
};
`);
    const stop = new AbortController();
    // Whenever it comes, the first level cannot finish: its first state hangs.
    setTimeout(() => stop.abort('SIGINT'), 300);
    const r = await verify(path, { depth: 2, workers: 2, signal: stop.signal });
    expect(r.interrupted).toBe(true);
    expect(r.depthCompleted).toBe(0);
    // Waiting on the hung worker would never end: fail in seconds instead.
  }, 20_000);

  it('stops the pairs too, and says which it stopped', async () => {
    const stop = new AbortController();
    const r = await verify('rfc-v1-fixed', {
      depth: 2, pairDepth: 2, workers: 0, kinds: SMALL, signal: stop.signal,
      onProgress: (p) => {
        if (p.phase === 'pairs' && p.done === 2) stop.abort('SIGINT');
      },
    });
    expect(r.interrupted).toBe(true);
    expect(r.depthCompleted).toBe(2);
    expect(r.certificate).toMatch(/concurrent pairs \d+ from some of the states up to depth 2, .* schedules \(stopped by a signal before the rest\)/);
  });

  it('a signal that never comes changes nothing', async () => {
    const stop = new AbortController();
    const r = await verify('rfc-v1-fixed', { depth: 3, pairDepth: -1, workers: 0, signal: stop.signal });
    expect(r.interrupted).toBe(false);
    expect(r.outOfTime).toBe(false);
    expect(r.depthCompleted).toBe(3);
  });
});

describe('verify of an implementation whose state cannot be read', () => {
  // The bundled spec run as a third-party module: correct, and opaque.
  const opaque: Implementation = {
    name: 'opaque-linux', profile: 'linux', description: 'the linux spec as a module',
    create: (env) => {
      const world = createSpec(env.profile);
      return { run: (op) => world.apply(op), view: () => world.view() };
    },
  };
  const FEW = ['socket', 'listen=1', 'setsockopt=1', 'syn', 'accept'] as const;

  it('is explored as a tree, to depth 3 and pairs to depth 1 unless told otherwise', async () => {
    const seen: VerifyProgress[] = [];
    // Were the defaults those of a bundled one, the tree would take minutes:
    // stop at once, and let the assertions below say why.
    const stop = new AbortController();
    const r = await verify(opaque, {
      kinds: FEW, workers: 0, signal: stop.signal,
      onProgress: (p) => {
        seen.push(p);
        if (p.phase === 'start' && p.depth !== 3) stop.abort();
      },
    });
    expect(seen[0]).toMatchObject({ phase: 'start', stateHashed: false, depth: 3 });
    expect(r.bounds.depth).toBe(3);
    expect(r.depthCompleted).toBe(3);
    expect(r.pairs?.depth).toBe(1);
    expect(r.findings).toEqual([]);
    // Nothing merges: every transition reaches a state of its own.
    expect(r.states).toBe(r.transitions + 1);
    expect(r.certificate).toContain('paths: the implementation\'s state cannot be read');
  });

  it('takes the depths it is given', async () => {
    const r = await verify(opaque, { kinds: FEW, workers: 0, depth: 2, pairDepth: -1 });
    expect([r.bounds.depth, r.depthCompleted, r.pairs]).toEqual([2, 2, undefined]);
  });

  it('a bundled implementation keeps depth 8 and pairs to depth 3 by default', async () => {
    // One op offered: the whole search takes no time.
    const r = await verify('linux', { kinds: ['setsockopt=1'], workers: 0 });
    expect([r.bounds.depth, r.pairs?.depth]).toEqual([8, 3]);
    expect(r.certificate).toContain('depth 8, peers 1');
    // Its states run out at depth 1, before the pair depth: pairs still run
    // from every one of them.
    expect(r.exhausted).toBe(true);
    expect(r.depthCompleted).toBeLessThan(3);
    expect(r.pairs!.pairs).toBeGreaterThan(0);
  });
});
