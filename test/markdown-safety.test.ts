// What a module names (its implementation, its site labels, its owners)
// reaches the Markdown reports as it is: no backtick, pipe or line break in
// it may end a code block, a code span or a table cell early.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { block, cellSpan, cellText, plain, prose, span } from '../reports/md.ts';
import { renderVerifyMarkdown } from '../reports/verify-report.ts';
import { renderMarkdown, type CheckResult } from '../reports/summary.ts';
import { renderReportMarkdown } from '../reports/markdown.ts';
import { encodeToken } from '../reports/token.ts';
import { createSpec, DEFAULT_PACKET, replay, type Implementation } from 'savedsyn';

const hostile = fc.string({ unit: fc.constantFrom('`', '``', '```', '|', '\n', '\r', '\u2028', '*', '_', '<', '&', '#', 'a', ' ', '\\'), maxLength: 30 });

/** The fences of a CommonMark code block opened by `open`: the first line
 * after it that closes it, or -1. */
function closingLine(lines: readonly string[], open: number): number {
  const n = /^`+/.exec(lines[open])![0].length;
  for (let i = open + 1; i < lines.length; i++) if (new RegExp(`^ {0,3}\`{${n},}\\s*$`).test(lines[i])) return i;
  return -1;
}

describe('Markdown from untrusted text', () => {
  it('a block holds its body to the last line, whatever the body', () => {
    fc.assert(fc.property(hostile, (body) => {
      const lines = block(body).join('\n').split('\n');
      expect(closingLine(lines, 0)).toBe(lines.length - 1);
    }), { seed: 1, numRuns: 300 });
  });

  it('a span is one line and no run of its backticks ends it', () => {
    fc.assert(fc.property(hostile, (s) => {
      const out = span(s);
      expect(out).not.toMatch(/[\r\n\u2028]/);
      const delimiter = /^`+/.exec(out)![0].length;
      const inner = out.slice(delimiter, out.length - delimiter);
      for (const run of inner.match(/`+/g) ?? []) expect(run.length).not.toBe(delimiter);
    }), { seed: 2, numRuns: 300 });
  });

  it('a cell and plain text stay on one line with every pipe escaped', () => {
    fc.assert(fc.property(hostile, (s) => {
      for (const out of [cellText(s), plain(s)]) {
        expect(out).not.toMatch(/[\r\n\u2028]/);
        expect(out.replace(/\\\\/g, '')).not.toMatch(/(^|[^\\])\|/);
      }
      // In a span a backslash is the span's own, and the table reads only
      // the one before a pipe.
      expect(cellSpan(s)).not.toMatch(/[\r\n\u2028]|(^|[^\\])\|/);
      // Outside a code span, an angle bracket or an ampersand would be HTML.
      for (const out of [cellText(s), plain(s)]) expect(out).not.toMatch(/(^|[^\\])<|&(?!amp;|lt;|gt;)/);
      expect(prose(s)).not.toMatch(/[\r\n\u2028]|^[#>]|(^|[^\\])<|&(?!amp;)/);
    }), { seed: 3, numRuns: 300 });
  });

  it('a verify report keeps a module\'s name on its heading line and each counterexample in its block', () => {
    const text = 'crash:x\n```\n# not a heading\r<b>no</b>';
    const lines = renderVerifyMarkdown({
      name: 'ev`il\r# CRHEAD <b>B</b>', profile: 'linux', transitions: 1, pairs: undefined, certificate: 'cert\n  time 1 s', races: [],
      findings: [{ signature: 'crash:x', oracle: 'crash', message: 'm', ops: [], failingStep: 0, runsToFind: 1, seed: 0, path: '', token: 't', replay: 'npx savedsyn replay t', text }],
    }).split('\n');
    expect(lines[0]).toMatch(/^# savedsyn verify: ev\\`il # CRHEAD \\<b\\>B\\<\/b\\>$/);
    const open = lines.findIndex((l, i) => i > 4 && /^`{3,}$/.test(l));
    const close = closingLine(lines, open);
    expect(lines.slice(open + 1, close).join('\n')).toBe(text);
  });

  it('a finding\'s report keeps a module\'s path and site labels as text, in its title and in its leak\'s last line', async () => {
    const site = 'evil*fn*[link](http://x) <b>\n# H2\n| 1';
    const impl: Implementation = {
      name: 'leaks', profile: 'linux', description: '',
      create(env) {
        const world = createSpec(env.profile);
        return { run: (op) => { if (op.kind === 'syn') env.ledger.alloc('kmalloc', 'm', site, op.conn); return world.apply(op); }, view: () => world.view() };
      },
    };
    const token = encodeToken({ profile: 'linux', impl: './m/__tests__/impl.ts', kind: 'sequential', ops: [{ kind: 'syn', conn: 1, packet: DEFAULT_PACKET }] });
    const lines = renderReportMarkdown((await replay(token, { implementation: impl })).report!).split('\n');
    expect(lines[0]).toMatch(/^# [^\n]*\(\.\/m\/\\_\\_tests\\_\\_\/impl\.ts\)$/);
    expect(lines[0]).toContain('evil\\*fn\\*\\[link\\](http://x) \\<b\\> # H2 \\| 1');
    const last = lines.find((l) => l.startsWith('After teardown: '))!;
    expect(last).toContain('evil\\*fn\\*\\[link\\](http://x) \\<b> # H2 | 1');
    expect(lines.filter((l) => l.startsWith('# '))).toHaveLength(1);
  });

  it('a run report keeps a module\'s name in its table row and its finding in its block', () => {
    const run: CheckResult = {
      name: 'evil|`name`\n# heading', profile: 'linux', seed: 1, cases: 1, concurrentCases: 0, races: [],
      findings: [{
        signature: 'crash:x', oracle: 'crash', message: 'm', ops: [], failingStep: 0, runsToFind: 1, seed: 1, path: '', token: 'ssyn2.x.y',
        replay: 'npx savedsyn replay ssyn2.x.y --impl \'./a`b.ts\'', text: 'crash:x\n```\n| not a table |\n```',
      }],
    };
    const lines = renderMarkdown([run], 1).split('\n');
    const row = lines.find((l) => l.startsWith('| evil'))!;
    expect(row.replace(/\\\|/g, '').split('|').length - 1).toBe(7);
    const open = lines.findIndex((l) => /^`{3,}$/.test(l));
    const close = closingLine(lines, open);
    expect(lines.slice(open + 1, close).join('\n')).toBe(run.findings[0].text);
    expect(lines[close + 2]).toBe('Replay: ``npx savedsyn replay ssyn2.x.y --impl \'./a`b.ts\'``');
  });
});
