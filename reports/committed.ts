// A replay case of the 2015 patch as report files: the case run again on the
// bundled implementation, and its report in three forms.

import { bundledByName } from '../model/impl/registry.ts';
import { RFC_V1 } from '../model/profile.ts';
import { replay, runConcurrent } from '../properties/concurrent.ts';
import { runLockstep } from '../properties/lockstep.ts';
import { buildReport, type FailureReport } from './failure.ts';
import { renderReportHtml } from './html.ts';
import { renderReportMarkdown } from './markdown.ts';
import type { ReplayCase } from './token.ts';

/** Run a replay case and build its report (undefined when it passes). */
export function reportFor(c: ReplayCase): FailureReport | undefined {
  const impl = bundledByName(c.impl);
  if (!impl) throw new Error(`no bundled implementation ${c.impl}`);
  const result = c.kind === 'sequential'
    ? runLockstep(impl, RFC_V1, c.ops, { recordSites: true })
    : runConcurrent(impl, RFC_V1, c.case, replay(c.case.schedule), { recordSites: true });
  return result.failure ? buildReport(c, result, RFC_V1) : undefined;
}

export function reportFiles(r: FailureReport, base: string): Map<string, string> {
  return new Map([
    [`${base}.md`, renderReportMarkdown(r)],
    [`${base}.html`, renderReportHtml(r)],
    [`${base}.json`, `${JSON.stringify(r, null, 2)}\n`],
  ]);
}
