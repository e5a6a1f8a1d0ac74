// savedsyn verify: bounded exhaustive exploration of one implementation;
// the shortest counterexample of each signature, or a certificate.

import { join } from 'node:path';
import { verify } from '../api/verify.ts';
import { makeFolder, writeOutput } from '../model/output-folder.ts';
import { UserError } from '../model/user-error.ts';
import { renderJson } from '../reports/summary.ts';
import { renderVerifyMarkdown, verifyAsCheck } from '../reports/verify-report.ts';
import { stopOnSignals } from '../fuzz/campaign/signals.ts';
import { manyWorkersWarning } from '../fuzz/many-workers.ts';
import type { Options } from './options.ts';
import { stderrSink, VerifyProgressLine } from './verify-progress.ts';

export async function verifyCommand(opts: Options, log: (s: string) => void): Promise<number> {
  if (opts.impls.length !== 1) throw new UserError('verify takes exactly one --impl NAME|PATH');
  const dir = makeFolder(opts.out);
  const many = manyWorkersWarning(opts.workers);
  if (many !== undefined) process.stderr.write(`${many}\n`);
  const tty = process.stderr.isTTY === true;
  const shown = opts.quiet ? undefined : new VerifyProgressLine(stderrSink(tty), tty, opts.impls[0]);
  // On worker threads, Ctrl-C ends the run as its time budget would, with
  // the certificate of what was completed; a second one exits at once. On
  // this thread it kills the run as it always has: an op that never
  // returns would keep a handler from ever running.
  const threads = opts.workers > 1 || (opts.workers === 1 && opts.opTimeout > 0);
  const stop = threads ? stopOnSignals() : undefined;
  const r = await verify(opts.impls[0], {
    ...opts.verify,
    workers: opts.workers,
    opTimeout: opts.opTimeout,
    signal: stop?.signal,
    onDepth: shown && ((d, states, transitions) => d > 0 && shown.depth(d, states, transitions)),
    onProgress: shown && ((p) => shown.progress(p)),
  }).finally(() => stop?.dispose());
  shown?.end();
  if (!opts.quiet) for (const f of [...r.findings, ...r.races]) log(`${f.text}\n  replay: ${f.replay}\n`);
  log(r.certificate);
  writeOutput(join(dir, 'report.md'), renderVerifyMarkdown(r));
  writeOutput(join(dir, 'report.json'), renderJson([verifyAsCheck(r)], 0));
  writeOutput(join(dir, 'certificate.txt'), `${r.certificate}\n`);
  writeOutput(join(dir, 'verify.json'), `${JSON.stringify({ ...r, seconds: undefined, certificate: undefined }, null, 2)}\n`);
  log(`report: ${join(dir, 'report.md')} (and report.json, certificate.txt)`);
  if (r.findings.length + r.races.length > 0) return 1;
  return stop?.exitCode() ?? 0;
}
