// Who ran what in a concurrent run, as the ledger stamps it and as the
// reports tell it: buffer events belong to the op whose code ran them, every
// stretch of every thread is in the story up to its return, and an op the
// run stopped in the middle of reads as interrupted, not as having thrown.
import { describe, expect, it } from 'vitest';
import { Ledger } from '../model/ledger.ts';
import { bundledByName } from '../model/impl/registry.ts';
import type { Implementation, OpRun } from '../model/impl/types.ts';
import type { Op } from '../model/ops.ts';
import { RFC_V1 } from '../model/profile.ts';
import { replay, runConcurrent, type Chooser, type ConcurrentCase } from '../properties/concurrent.ts';
import type { ConcurrentFinding } from '../properties/findings.ts';
import { buildReport, type FailureReport } from '../reports/failure.ts';
import { renderReportHtml } from '../reports/html.ts';
import { mermaid, renderReportMarkdown } from '../reports/markdown.ts';
import { renderConcurrentFinding } from '../reports/text.ts';

const rfcV1 = bundledByName('rfc-v1')!;
const SETUP: Op[] = [
  { kind: 'listen', fd: 0, backlog: 1 },
  { kind: 'setsockopt', fd: 0, optname: 26, value: 1 },
  { kind: 'syn', conn: 1, packet: { family: 4, mac: 'loopback', ipOptions: false, mss: true, sackPermitted: true, timestamps: true, windowScale: true, fastOpen: 'none', payload: 0 } },
  { kind: 'ack', conn: 1 },
  { kind: 'accept', fd: 0 },
];

/** Every ledger event, with the thread the chooser had picked when it was
 * recorded (-1 before the first pick: setup). */
function observe(impl: Implementation, c: ConcurrentCase) {
  let running = -1;
  const seen: Array<{ running: number; event: () => number }> = [];
  const proto = Ledger.prototype as unknown as { record: (this: Ledger, handle: number, e: { history: Array<{ step: number }> }, ...rest: unknown[]) => void };
  const original = proto.record;
  proto.record = function (handle, e, ...rest) {
    original.call(this, handle, e, ...rest);
    const event = e.history[e.history.length - 1];
    seen.push({ running, event: () => event.step });
  };
  const inner = replay(c.schedule);
  const chooser: Chooser = (step, runnable, current, pending) => (running = inner(step, runnable, current, pending));
  try {
    const result = runConcurrent(impl, RFC_V1, c, chooser, { recordSites: true });
    return { result, seen: seen.map((s) => ({ running: s.running, step: s.event() })) };
  } finally {
    proto.record = original;
  }
}

// T2 reads the SYN through to consume_skb(), T1 gets one step in, then T2
// frees: the free is T2's although the step before it was T1's.
const T2_FREES: ConcurrentCase = {
  setup: SETUP,
  threads: [
    { kind: 'user', ops: [{ kind: 'getsockopt', fd: 1, optname: 26, bufSize: 0 }] },
    { kind: 'user', ops: [{ kind: 'getsockopt', fd: 1, optname: 26, bufSize: 200 }] },
  ],
  schedule: [1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0],
};

describe('buffer events in a concurrent run', () => {
  it('are stamped with the op of the thread whose code ran them', () => {
    const { result, seen } = observe(rfcV1, T2_FREES);
    expect(result.failure).toBeUndefined();
    const byThread = seen.filter((s) => s.running >= 0);
    expect(byThread.some((s) => result.steps[s.step].thread === 2)).toBe(true);
    const free = result.ledger.history(1).find((e) => e.kind === 'free' && e.site.endsWith('consume_skb(syn);'));
    expect(free && result.steps[free.step].thread).toBe(2);
    for (const s of seen) {
      const rec = result.steps[s.step];
      if (s.running < 0) expect(rec.thread, `setup event stamped ${s.step}`).toBe(0);
      else if (!rec.teardown) expect(rec.thread, `event stamped ${s.step}`).toBe(s.running + 1);
    }
  });
});

describe('the interleaving of a report', () => {
  it('tells every stretch up to its return, with where the other thread stood', () => {
    const result = runConcurrent(rfcV1, RFC_V1, T2_FREES, replay(T2_FREES.schedule), { recordSites: true });
    const stretches = buildReport({ profile: 'rfc-v1', impl: 'rfc-v1', kind: 'concurrent', case: T2_FREES }, { ...result, failure: { oracle: 'linearizability', signature: 'x', message: 'x', step: -1 } }, RFC_V1).interleaving;
    expect(stretches.map((s) => s.lane)).toEqual(result.schedule.map((t) => `T${t + 1}`));
    // T2's last stretch, consume_skb() to its return, ran after T1 started.
    const t1Start = stretches.findIndex((s) => s.lane === 'T1');
    const t2Last = stretches.findIndex((s) => s.lane === 'T2' && s.end === 'returned');
    expect(t2Last).toBeGreaterThan(t1Start);
    expect(stretches[t2Last].from).toMatch(/consume_skb\(syn\);$/);
    expect(stretches[t2Last].paused).toEqual([{ lane: 'T1', step: 6, at: expect.stringMatching(/xchg\(&tp->syn_skb, NULL\);$/) }]);
    expect(stretches.filter((s) => s.end === 'returned').map((s) => s.lane)).toEqual(['T2', 'T1']);
  });
});

/** rfc-v1, except that T2's getsockopt drops a reference it never took
 * after one preemption point, then oopses: a violation, and a crash that
 * ends the run while T1 is still in its call. */
const strayImpl = (oops: boolean): Implementation => ({
  ...rfcV1,
  create(env) {
    const inner = rfcV1.create(env);
    return {
      ...inner,
      view: inner.view?.bind(inner),
      run(op, thread) {
        if (thread !== 2 || op.kind !== 'getsockopt') return inner.run(op, thread);
        return (function* (): OpRun {
          yield 'stray.c | kfree_skb(skb);';
          env.ledger.put(1, 'stray', 'stray.c | kfree_skb(skb);');
          if (oops) throw new Error('BUG: stray.c');
          return { ret: 0 };
        })();
      },
    };
  },
});

describe('a violation in a concurrent run', () => {
  it('does not stop it: T1 returns, teardown runs, and the violation still names the run', () => {
    const c: ConcurrentCase = { ...T2_FREES, schedule: [0, 0, 1, 1] };
    const result = runConcurrent(strayImpl(false), RFC_V1, c, replay(c.schedule));
    expect(result.failure?.signature).toBe('ledger:put-without-ref:stray.c');
    expect(result.steps.find((s) => s.thread === 1)!.actual).toBeDefined();
    expect(result.steps.some((s) => s.teardown)).toBe(true);
  });
});

describe('an op in flight when the run stops', () => {
  const c: ConcurrentCase = { ...T2_FREES, schedule: [0, 0, 1, 1] };
  const result = runConcurrent(strayImpl(true), RFC_V1, c, replay(c.schedule), { recordSites: true });
  const report: FailureReport = buildReport({ profile: 'rfc-v1', impl: 'rfc-v1', kind: 'concurrent', case: c }, result, RFC_V1);
  const paused = 'interrupted before do_tcp_getsockopt | if ((1 << sk->sk_state) & TCPF_LISTEN)';

  it('stops on the crash with T1 mid-call; the violation before it names the run', () => {
    expect(result.violations.map((v) => v.oracle)).toEqual(['ledger', 'crash']);
    expect(result.failure?.oracle).toBe('ledger');
    expect(report.steps.find((s) => s.lane === 'T1')!.interrupted).toEqual({ pausedAt: expect.stringMatching(/TCPF_LISTEN\)$/) });
  });

  it('reads as interrupted where it was paused, never as threw, in text, Markdown, Mermaid and HTML', () => {
    const finding: ConcurrentFinding = { signature: result.failure!.signature, oracle: 'ledger', message: result.failure!.message, case: c, result, scheduler: 'random', runsToFind: 0, seed: 0, path: '' };
    const text = renderConcurrentFinding(finding, RFC_V1);
    const md = renderReportMarkdown(report);
    const html = renderReportHtml(report);
    for (const [name, out] of [['text', text], ['markdown', md], ['html', html.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')]]) {
      expect(out, name).toContain(paused);
      // T2 threw; T1, stopped in the middle, did not: no line tells both.
      for (const line of out.split('\n').filter((l) => l.includes(paused))) expect(line, name).not.toMatch(/threw/);
    }
    expect(mermaid(report)).toContain('K--xT1: interrupted before do_tcp_getsockopt | if ((1 #60;#60; sk-#62;sk_state) & TCPF_LISTEN)');
  });
});
