// A run's outcome on the CI job's page: GitHub Actions shows the Markdown a
// step appends to the file GITHUB_STEP_SUMMARY names. Several steps, and
// several commands in one step, share that file, so it is only appended to.

import { appendFileSync } from 'node:fs';
import { causeOf } from '../model/output-folder.ts';
import { failed, type CheckResult } from './summary.ts';
import { replayCommand } from './replay-command.ts';

/** Append `markdown` to the step summary, as a block of its own; outside
 * Actions there is none and nothing is written. */
export function appendStepSummary(markdown: string, env: NodeJS.ProcessEnv = process.env): void {
  const path = env.GITHUB_STEP_SUMMARY;
  if (path === undefined || path === '') return;
  // The run's own results are written and its exit code stands: a summary
  // file the job cannot take is the job's to fix, said once, not the run's.
  try {
    appendFileSync(path, `${markdown.trimEnd()}\n\n`);
  } catch (e) {
    process.stderr.write(`warning: the CI step summary was not written: cannot write ${path} (GITHUB_STEP_SUMMARY): ${causeOf(e)}\n`);
  }
}

/** Text for a Markdown table cell: `|` would end the cell, and `<` or `&`
 * would be read as HTML. */
export function cell(s: string): string {
  return s.replace(/([\\`*_[\]|])/g, '\\$1').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/\r\n|[\r\n\u2028\u2029]/g, ' ');
}

export interface CampaignDigest {
  /** The campaign folder, as a path the reader can find among the job's files. */
  folder: string;
  cases: number;
  steps: number;
  coverage: { transitions: number; sites: number; interleavings: number };
  corpus: number;
  newFindings: number;
  findings: Array<{ impl: string; signature: string; token: string }>;
}

export function campaignStepSummary(c: CampaignDigest): string {
  const n = c.findings.length;
  const lines = [
    `### savedsyn fuzz: ${n} finding${n === 1 ? '' : 's'} in ${c.cases} cases`,
    '',
    `${c.cases} cases (${c.steps} steps); coverage: ${c.coverage.transitions} spec transitions, ${c.coverage.sites} implementation sites, `
      + `${c.coverage.interleavings} interleavings; corpus: ${c.corpus} cases; ${c.newFindings} new finding${c.newFindings === 1 ? '' : 's'} this run.`,
    '',
  ];
  if (n === 0) {
    lines.push('No findings.', '');
  } else {
    lines.push('| Implementation | Signature | Replay |', '| --- | --- | --- |');
    // Tokens are base64url and dots: nothing in them needs escaping in a code span.
    for (const f of c.findings) lines.push(`| ${cell(f.impl)} | ${cell(f.signature)} | \`${replayCommand(f.token, f.impl)}\` |`);
    lines.push('');
  }
  lines.push(`Campaign folder: \`${c.folder.replace(/`/g, "'")}\`; open \`index.html\` in it for the findings, coverage and throughput over time.`, '');
  return lines.join('\n');
}

/** What `run` or `check` found, one row per finding (or per clean
 * implementation). */
export function checkStepSummary(runs: readonly CheckResult[], seed: number): string {
  const out = [`### savedsyn: ${runs.some(failed) ? 'failures found' : 'no failure'} (seed ${seed})`, '',
    '| Implementation | Profile | Cases | Concurrent cases | Finding | Replay |', '| --- | --- | --- | --- | --- | --- |'];
  for (const r of runs) {
    const row = `| ${cell(r.name)} | ${r.profile} | ${r.cases} | ${r.concurrentCases} |`;
    const all = [...r.findings, ...r.races];
    if (all.length === 0) out.push(`${row} none | |`);
    for (const f of all) out.push(`${row} ${cell(f.signature)} | \`${f.replay}\` |`);
  }
  return out.join('\n') + '\n';
}
