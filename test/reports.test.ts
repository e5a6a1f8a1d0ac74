// The committed reports regenerate byte for byte from their seeds, each
// carries a token that replays its finding, and each form shows the case.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../cli/main.ts';
import { REPAIRS } from '../model/impl/rfc-v1-fixed.ts';
import { generateRfcV1Reports } from '../fuzz/committed-reports.ts';
import { reportFiles, reportFor } from '../reports/committed.ts';
import type { FailureReport } from '../reports/failure.ts';
import { decodeToken } from '../reports/token.ts';
import { Ledger, type LedgerEvent } from '../model/ledger.ts';
import { bundledByName } from '../model/impl/registry.ts';
import type { Implementation, OpRun } from '../model/impl/types.ts';
import { isRun } from '../properties/lockstep.ts';
import { RFC_V1 } from '../model/profile.ts';
import { formatOutcome } from '../model/format.ts';
import { replay, runConcurrent } from '../properties/concurrent.ts';
import { siteLine, type ReportStretch } from '../reports/failure.ts';
import { mermaid } from '../reports/markdown.ts';

const ROOT = join(import.meta.dirname, '..');
const DIR = join(ROOT, 'reports/rfc-v1');
const generated = generateRfcV1Reports();

describe('reports/rfc-v1', () => {
  it('holds exactly what the generator writes, byte for byte (npm run reports regenerates it)', () => {
    const committed = [
      ...readdirSync(DIR, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
        .map((e) => relative(ROOT, join(e.parentPath, e.name)).split(sep).join('/')),
      ...readdirSync(join(ROOT, 'test/regressions')).map((f) => `test/regressions/${f}`),
    ];
    expect(committed.sort()).toEqual([...generated.keys()].sort());
    for (const [path, text] of generated) expect(readFileSync(join(ROOT, path), 'utf8'), path).toBe(text);
  });

  for (const [id, r] of Object.entries(REPAIRS)) {
    it(`${id}: the committed token replays ${r.signature}, and the repair passes it`, () => {
      const report = JSON.parse(readFileSync(join(DIR, `${id}.json`), 'utf8')) as FailureReport;
      const c = decodeToken(report.token);
      const again = reportFor(c)!;
      expect(again.signature).toBe(r.signature);
      // The token alone regenerates all three forms, byte for byte.
      for (const [name, text] of reportFiles(again, id)) expect(text, name).toBe(readFileSync(join(DIR, name), 'utf8'));
      expect(reportFor({ ...c, impl: 'rfc-v1-fixed' })).toBeUndefined();
      const md = readFileSync(join(DIR, `${id}.md`), 'utf8');
      expect(md).toContain(`# ${r.title}`);
      expect(md).toContain('```mermaid\nsequenceDiagram');
      expect(md).toContain(`npx savedsyn replay ${report.token}`);
      const html = readFileSync(join(DIR, `${id}.html`), 'utf8');
      expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
      const drawn = report.steps.filter((s) => !/^T\d+$/.test(s.lane)).length + report.interleaving.length;
      expect(html.match(/<rect class="step/g)?.length).toBe(drawn);
      // A leak shows at quiescence, after the last step: the reference line says it instead.
      if (report.oracle === 'leak') expect(html).toContain('>leaked</text>');
      else expect(html.match(/<rect class="step failing"/g)?.length).toBe(1);
    });
  }

  it('savedsyn replay reproduces every committed token', async () => {
    const out = mkdtempSync(join(tmpdir(), 'savedsyn-replay-'));
    for (const [id, r] of Object.entries(REPAIRS)) {
      const { token } = JSON.parse(readFileSync(join(DIR, `${id}.json`), 'utf8')) as FailureReport;
      const lines: string[] = [];
      expect(await main(['replay', token, '--out', out, '--quiet'], (l) => lines.push(l)), id).toBe(1);
      expect(lines[0]).toBe(`fails: ${r.signature} (rfc-v1, profile rfc-v1)`);
    }
  });

  it('the index names every finding with its severity, trigger and repair', () => {
    const index = readFileSync(join(DIR, 'index.md'), 'utf8');
    for (const [id, r] of Object.entries(REPAIRS)) expect(index).toContain(`[${r.title}](${id}.md) | ${r.severity} |`);
  });
});

/** An implementation that says which thread's code runs each time it is
 * entered or resumed (0 for ops run one at a time). */
function watched(impl: Implementation, entered: (thread: number) => void): Implementation {
  return {
    ...impl,
    create(env) {
      const inner = impl.create(env);
      return {
        view: inner.view?.bind(inner),
        run(op, thread) {
          entered(thread);
          const r = inner.run(op, thread);
          if (!isRun(r)) return r;
          return (function* (): OpRun {
            for (;;) {
              entered(thread);
              const x = r.next();
              if (x.done) return x.value;
              yield x.value;
            }
          })();
        },
      };
    },
  };
}

const mermaidCode = (s: string): string => s.replace(/;/g, '#59;').replace(/</g, '#60;').replace(/>/g, '#62;');

describe('committed concurrent reports, against a replay of their case', () => {
  const concurrent = readdirSync(DIR).filter((f) => f.endsWith('.json'))
    .map((f) => ({ id: f.slice(0, -5), report: JSON.parse(readFileSync(join(DIR, f), 'utf8')) as FailureReport }))
    .filter(({ report }) => decodeToken(report.token).kind === 'concurrent');

  it('there is at least one', () => expect(concurrent.length).toBeGreaterThan(0));

  for (const { id, report } of concurrent) {
    it(`${id}: its references, interleaving and Mermaid diagram tell the run step by step`, () => {
      const c = decodeToken(report.token);
      if (c.kind !== 'concurrent') throw new Error('not concurrent');
      let lane = 'setup';
      const entered = (thread: number): void => {
        if (thread > 0) lane = `T${thread}`;
        else if (lane !== 'setup') lane = 'teardown';
      };
      const picks: number[] = [];
      const events: Array<{ event: LedgerEvent; lane: string }> = [];
      const proto = Ledger.prototype as unknown as { record: (this: Ledger, handle: number, e: { history: LedgerEvent[] }, ...rest: unknown[]) => void };
      const original = proto.record;
      proto.record = function (handle, e, ...rest) {
        original.call(this, handle, e, ...rest);
        events.push({ event: e.history[e.history.length - 1], lane });
      };
      const inner = replay(c.case.schedule);
      let result;
      try {
        result = runConcurrent(watched(bundledByName(c.impl)!, entered), RFC_V1, c.case,
          (step, runnable, current, pending) => { const t = inner(step, runnable, current, pending); picks.push(t); return t; }, { recordSites: true });
      } finally {
        proto.record = original;
      }
      expect(result.failure?.signature).toBe(report.signature);
      const laneOfStep = (i: number): string => report.steps.find((s) => s.index === i)!.lane;

      // Every buffer event is stamped with the op of the thread that ran it.
      for (const { event, lane: ran } of events) expect(laneOfStep(event.step), `${event.kind} at ${event.site}`).toBe(ran);
      for (const e of report.references) {
        expect(events.some(({ event, lane: ran }) => event.step === e.step && event.kind === e.event && event.site === e.site && event.refs === e.refs && ran === laneOfStep(e.step))).toBe(true);
      }

      // The stretches, rebuilt from the picks and each op's preemption points.
      const ops = c.case.threads.map((_, t) => result.steps.filter((s) => s.thread === t + 1));
      const pos = c.case.threads.map(() => ({ op: 0, passed: 0 }));
      const expected: ReportStretch[] = picks.map((t) => {
        const rec = ops[t][pos[t].op];
        const j = pos[t].passed;
        const paused = pos.flatMap((p, u) => (u === t || p.passed === 0 ? [] : [{ lane: `T${u + 1}`, step: ops[u][p.op].index, at: ops[u][p.op].sites[p.passed - 1] }]));
        const returns = j >= rec.sites.length;
        if (returns) pos[t] = { op: pos[t].op + 1, passed: 0 };
        else pos[t].passed++;
        return { lane: `T${t + 1}`, step: rec.index, from: j === 0 ? null : rec.sites[j - 1], end: returns ? 'returned' : 'paused', to: returns ? null : rec.sites[j], paused };
      });
      expect(report.interleaving).toEqual(expected);

      // The Markdown tells the same stretches in the same order.
      const md = readFileSync(join(DIR, `${id}.md`), 'utf8');
      const told = md.slice(md.indexOf('## The interleaving')).split('\n').flatMap((l) => /^\s*\d+ {2}(T\d+) {2}/.exec(l)?.[1] ?? []);
      expect(told).toEqual(expected.map((s) => s.lane));

      // The diagram: a note per stretch naming its lines, a call where an
      // op starts and a return where it returns.
      const diagram = mermaid(report);
      expect(md).toContain(diagram);
      const lines = diagram.split('\n').filter((l) => /^ {4}(T\d+->>K|K-->>T\d+|K--xT\d+|Note over K,T\d+: T\d+ from)/.test(l));
      const want: string[] = [];
      for (const s of expected) {
        const rec = result.steps[s.step];
        if (s.from === null) want.push(`${s.lane}->>K`);
        want.push(`Note ${s.lane} ${s.from === null ? 'its start' : mermaidCode(siteLine(s.from))} ${s.to === null ? 'its return' : mermaidCode(siteLine(s.to))}`);
        if (s.end === 'returned') want.push(`K-->>${s.lane} ${formatOutcome(rec.actual!)}`);
      }
      const got = lines.map((l) => {
        const note = /Note over K,(T\d+): T\d+ from (.*) to (?:just before )?(.*)$/.exec(l);
        if (note) return `Note ${note[1]} ${note[2]} ${note[3]}`;
        const ret = /K-->>(T\d+): (.*)$/.exec(l);
        if (ret) return `K-->>${ret[1]} ${ret[2].replace(/ \(spec: .*\)$/, '')}`;
        return l.trim().split(':')[0];
      });
      expect(got).toEqual(want);
    });
  }

  it('a title claims only what its case shows', () => {
    for (const [id, r] of Object.entries(REPAIRS)) {
      const report = JSON.parse(readFileSync(join(DIR, `${id}.json`), 'utf8')) as FailureReport;
      expect(/\blost\b|\bleak/.test(r.title), id).toBe(report.oracle === 'leak');
      const errno = /:(E[A-Z0-9]+)$/.exec(report.signature)?.[1];
      if (errno) expect(r.title, id).toContain(`-${errno}`);
    }
  });
});

describe('the patch in a report', () => {
  for (const id of Object.keys(REPAIRS)) {
    it(`${id}: each hunk is quoted once, its passed lines numbered and marked with the steps that passed them`, () => {
      const report = JSON.parse(readFileSync(join(DIR, `${id}.json`), 'utf8')) as FailureReport;
      const md = readFileSync(join(DIR, `${id}.md`), 'utf8');
      const html = readFileSync(join(DIR, `${id}.html`), 'utf8');
      expect(report.patch.length).toBeGreaterThan(0);
      for (const h of report.patch) {
        expect(md.split(`\`${h.where}\``).length - 1, h.where).toBe(1);
        expect(html.split(h.where.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')).length - 1, h.where).toBe(1);
        for (const line of h.lines) {
          // The steps that passed a line are the steps whose passes name it.
          const passers = report.steps.filter((s) => s.passes.some((p) => p.where === h.where && line.n !== null && p.lines.includes(line.n))).map((s) => s.index);
          expect(line.steps, `${h.where} ${line.n}`).toEqual(passers);
          if (line.steps.length > 0) expect(md).toContain(`◀ ${line.steps.join(', ')}`);
        }
      }
      // No step repeats a hunk: it names the lines it passed.
      for (const s of report.steps) {
        for (const p of s.passes) {
          expect(md).toContain(`${p.where.split(' ')[0]} ${p.lines.join(', ')}`);
          for (const n of p.lines) expect(report.patch.find((h) => h.where === p.where)!.lines.some((l) => l.n === n)).toBe(true);
        }
      }
    });
  }
});
