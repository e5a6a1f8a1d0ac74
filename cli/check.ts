// savedsyn run and check: the two searches of each implementation, printed
// and written as report.md and report.json.

import { join } from 'node:path';
import { check } from '../api/check.ts';
import { makeFolder, writeOutput } from '../model/output-folder.ts';
import { UserError } from '../model/user-error.ts';
import { appendStepSummary, checkStepSummary } from '../reports/step-summary.ts';
import { failed, renderJson, renderMarkdown, type CheckResult } from '../reports/summary.ts';
import type { Options } from './options.ts';
import { selected } from './select.ts';

export async function checkCommand(command: string, opts: Options, log: (s: string) => void): Promise<number> {
  if (command === 'check' && opts.impls.length !== 1) throw new UserError('check takes exactly one --impl NAME|PATH');
  const { sources, impls } = await selected(opts);
  // Before the search, so a folder that cannot be written costs nothing.
  const dir = makeFolder(opts.out);
  const runs: CheckResult[] = [];
  for (const [n, impl] of impls.entries()) {
    // On a terminal, a line redrawn after each round of the searches.
    const tty = process.stderr.isTTY === true && !opts.quiet;
    const onProgress = tty
      ? (which: string, done: number, total: number, found: number) => process.stderr.write(`\r\x1b[K${impl.name}: ${which} ${done}/${total} cases, ${found} finding(s)`)
      : undefined;
    const r = await check(impl, {
      source: sources[n], seed: opts.seed, runs: opts.runs, threadRuns: opts.threadRuns, maxOps: opts.maxOps, schedulers: opts.schedulers, onProgress, opTimeout: opts.opTimeout,
    });
    if (tty) process.stderr.write('\r\x1b[K');
    runs.push(r);
    log(`${r.name} (${r.profile}): ${r.cases} single-thread cases, ${r.findings.length} distinct finding(s); `
      + `${r.concurrentCases} concurrent cases, ${r.races.length} distinct race(s)`);
    if (!opts.quiet) for (const f of [...r.findings, ...r.races]) log(`\n${f.text}\n  replay: ${f.replay}\n`);
  }
  writeOutput(join(dir, 'report.md'), renderMarkdown(runs, opts.seed));
  writeOutput(join(dir, 'report.json'), renderJson(runs, opts.seed));
  appendStepSummary(checkStepSummary(runs, opts.seed));
  log(`report: ${join(dir, 'report.md')} (and report.json)`);
  return command === 'check' && runs.some(failed) ? 1 : 0;
}
