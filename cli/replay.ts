// savedsyn replay: a token's case run again, its report written.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replay } from '../api/replay.ts';
import { unrealisable } from '../model/kernel/lane.ts';
import { makeFolder, writeOutput } from '../model/output-folder.ts';
import { UserError } from '../model/user-error.ts';
import { specOutcomes } from '../properties/differential.ts';
import { reportFiles } from '../reports/committed.ts';
import { laneTable } from '../reports/markdown.ts';
import { cReproducer } from '../reports/reproducers.ts';
import type { Options } from './options.ts';

export async function replayCommand(arg: string | undefined, opts: Options, log: (s: string) => void): Promise<number> {
  // A token names an implementation; --impl runs the case on another one.
  if (opts.impls.length > 1) throw new UserError('replay takes at most one --impl NAME|PATH');
  const token = readToken(arg, opts.tokenFile);
  const { case: c, signature, report } = await replay(token, { implementation: opts.impls[0], opTimeout: opts.opTimeout });
  const name = opts.impls[0] ?? c.impl;
  log(signature ? `fails: ${signature} (${name}, profile ${c.profile})` : `passes (${name}, profile ${c.profile})`);
  if (report === undefined) return 0;
  const dir = makeFolder(opts.out);
  const base = `replay-${createHash('sha256').update(token.trim()).digest('hex').slice(0, 12)}`;
  for (const [file, text] of reportFiles(report, base)) writeOutput(join(dir, file), text);
  if (c.kind === 'sequential' && c.profile === 'linux' && c.ops.every((op) => unrealisable(op) === undefined)) {
    writeOutput(join(dir, `${base}.c`), cReproducer(report.title, c.ops, specOutcomes(c.ops)));
  }
  if (!opts.quiet) log(`\n${laneTable(report)}\n`);
  log(`report: ${join(dir, `${base}.md`)} (and .html, .json${c.profile === 'linux' && c.kind === 'sequential' ? ', and .c where the kernel can run it' : ''})`);
  return 1;
}

/** A token as an argument, from standard input (-), or from a file: one
 * longer than the argument limit (about 128 KiB) fits only the last two. */
function readToken(arg: string | undefined, file: string | undefined): string {
  if (arg !== undefined && arg !== '-') return arg;
  if (file === '') throw new UserError('--token-file names no file (- reads standard input)');
  // `--token-file -` is standard input, as `-` is in the token's place.
  const stdin = file === undefined || file === '-';
  const from = stdin ? 'standard input' : file;
  let text: string;
  try {
    text = readFileSync(stdin ? 0 : file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read the token from ${from}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new UserError(`no token in ${from}`);
  // Whitespace inside a token is never its own: a wrapped token is taken
  // whole by decodeToken's checksum, but two tokens are one too many.
  const words = token.split(/\s+/);
  if (words.length > 1 && words.filter((w) => w.startsWith('ssyn')).length > 1) {
    throw new UserError(`${from} holds ${words.filter((w) => w.startsWith('ssyn')).length} tokens: replay runs one (put each in a file of its own)`);
  }
  return token;
}
