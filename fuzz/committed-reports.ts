// The reports committed under reports/rfc-v1/: one per finding the harness
// makes on the 2015 patch, in three forms, an index a reviewer could paste
// into a reply to the patch, the reply itself (review.txt) and each repair
// as a C diff (repairs/). Found by searches from fixed seeds, so they
// regenerate byte for byte.

import { bundledByName } from '../model/impl/registry.ts';
import { REPAIRS, type RepairId } from '../model/impl/rfc-v1-fixed.ts';
import { RFC_V1 } from '../model/profile.ts';
import { reportFiles, reportFor } from '../reports/committed.ts';
import { renderReview, repairDiffFile, type ReviewFinding } from '../reports/review.ts';
import { vitestReproducer } from '../reports/reproducers.ts';
import type { ReplayCase } from '../reports/token.ts';
import { searchConcurrent } from './concurrent-search.ts';
import { search } from './search.ts';

const SEED = 2015;
const BUDGET = 5000;

/** Every committed file under reports/rfc-v1/ and test/regressions/, by
 * path from the repository's root. */
export function generateRfcV1Reports(): Map<string, string> {
  const impl = bundledByName('rfc-v1')!;
  const files = new Map<string, string>();
  const index: string[] = [
    '# The 2015 TCP_SAVED_SYN patch: what the harness finds', '',
    'Each finding below is a minimal case on the patch as posted (`rfc-v1`), checked against the promise of its cover letter; its repair is in `rfc-v1-fixed`, which passes the same case. Every report carries a token that replays it: `npx savedsyn replay <token>`.', '',
    '| finding | severity | minimal trigger | suggested repair |', '| --- | --- | --- | --- |',
  ];
  const reviewed: ReviewFinding[] = [];
  for (const [id, r] of Object.entries(REPAIRS)) {
    let c: ReplayCase;
    if (r.concurrent) {
      const { findings } = searchConcurrent(impl, RFC_V1, { seed: SEED, runs: BUDGET, schedulers: ['random'], only: r.signature });
      if (!findings[0]) throw new Error(`${id} (${r.signature}) not found with seed ${SEED}`);
      c = { profile: 'rfc-v1', impl: 'rfc-v1', kind: 'concurrent', case: findings[0].case };
    } else {
      const { findings } = search(impl, RFC_V1, { seed: SEED, runs: BUDGET, only: r.signature });
      if (!findings[0]) throw new Error(`${id} (${r.signature}) not found with seed ${SEED}`);
      c = { profile: 'rfc-v1', impl: 'rfc-v1', kind: 'sequential', ops: findings[0].ops };
    }
    const report = reportFor(c)!;
    for (const [name, text] of reportFiles(report, id)) files.set(`reports/rfc-v1/${name}`, text);
    files.set(`test/regressions/${id}.test.ts`, vitestReproducer(report, 'rfc-v1-fixed'));
    files.set(`reports/rfc-v1/repairs/${id}.diff`, repairDiffFile(id as RepairId));
    reviewed.push({ id: id as RepairId, report });
    const trigger = report.steps.filter((s) => !s.lane.startsWith('teardown')).map((s) => `${s.lane === 'main' || s.lane === 'setup' ? '' : `${s.lane}: `}${s.op}`).join('; ');
    index.push(`| [${r.title}](${id}.md) | ${r.severity} | ${trigger.replace(/\|/g, '\\|')} | ${r.repair} |`);
  }
  files.set('reports/rfc-v1/index.md', `${index.join('\n')}\n`);
  files.set('reports/rfc-v1/review.txt', renderReview(reviewed));
  return files;
}
