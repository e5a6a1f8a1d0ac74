// A finding as plain text: the shrunk case step by step, what the spec
// expected against what happened, and the buffer's reference history.

import type { Finding } from '../fuzz/search.ts';
import { formatOp, formatOutcome } from '../model/format.ts';
import type { Profile } from '../model/profile.ts';
import { historyOf } from '../properties/lockstep.ts';

export function renderFinding(f: Finding, profile: Profile): string {
  const lines: string[] = [];
  const failure = f.result.failure;
  lines.push(`${f.signature}`);
  lines.push(`  ${f.message}`);
  lines.push(`  minimal case (${f.ops.length} ops), then teardown:`);
  for (const s of f.result.steps) {
    const mark = failure && s.index === failure.step ? '>>' : '  ';
    const got = s.actual === undefined ? 'threw' : formatOutcome(s.actual);
    const exp = formatOutcome(s.expected);
    const verdict = got === exp ? `= ${got}` : `= ${got}   (spec: ${exp})`;
    lines.push(`  ${mark} ${String(s.index).padStart(2)}${s.teardown ? ' teardown' : ''} ${formatOp(s.op, profile)} ${verdict}`);
  }
  const history = historyOf(f.result);
  if (history.length > 0) {
    lines.push('  reference history:');
    for (const e of history) {
      lines.push(`     step ${String(e.step).padStart(2)} ${e.kind.padEnd(5)} by ${e.owner.padEnd(6)} refs=${e.refs}  ${e.site}`);
    }
  }
  lines.push(`  found with fast-check seed ${f.seed}, path "${f.path}" (before the 1-minimal pass)`);
  return lines.join('\n');
}
