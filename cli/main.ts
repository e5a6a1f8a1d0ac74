// The savedsyn command line: parse, then run the command asked for.

import { causeOf } from '../model/output-folder.ts';
import { oneLine, UserError } from '../model/user-error.ts';
import { exitNow, guardProcessExit } from '../model/impl/exit-guard.ts';
import { strayMessage } from '../model/impl/stray.ts';
import { describeThrown } from '../model/impl/thrown.ts';
import { parse, USAGE } from './options.ts';

export { USAGE };

/** The command as a process runs it: the exit code, and one line on
 * standard error for anything that went wrong. */
export async function cli(argv: string[]): Promise<number> {
  guardProcessExit();
  process.on('uncaughtException', stray);
  process.on('unhandledRejection', stray);
  try {
    const code = await main(argv);
    // A module's timer or promise that is due runs before the command ends:
    // an error it throws is a stray (exit 2), not something left unseen
    // because the search never gave it a turn.
    await new Promise((r) => setTimeout(r, 0));
    return code;
  } catch (e) {
    if (e instanceof UserError) {
      console.error(`savedsyn: ${oneLine(e.message)}`);
      return 2;
    }
    // A file or folder the system refused (a folder read-only, a file where
    // a folder should be): where the user pointed savedsyn, not a defect.
    const fsError = e as NodeJS.ErrnoException;
    if (typeof fsError?.path === 'string' && typeof fsError.syscall === 'string' && typeof fsError.code === 'string' && SYSTEM_REFUSALS.has(fsError.code)) {
      console.error(oneLine(`savedsyn: cannot ${fsError.syscall} ${fsError.path}: ${causeOf(e)}`));
      return 2;
    }
    console.error(oneLine(`savedsyn: internal error: ${e instanceof Error ? e.message : String(e)}`));
    console.error('This is a defect in savedsyn; rerun with SAVEDSYN_DEBUG=1 for the stack trace.');
    if (process.env.SAVEDSYN_DEBUG) console.error(e);
    return 70;
  }
}

/** An error no call of savedsyn's was there to catch: a timer, promise or
 * callback a module left behind threw it, or, with no module loaded, a
 * defect. Either way the run cannot be trusted to go on. */
function stray(e: unknown): void {
  const message = strayMessage(e);
  if (message !== undefined) {
    console.error(oneLine(`savedsyn: ${message}`));
    exitNow(2);
  }
  console.error(oneLine(`savedsyn: internal error: ${describeThrown(e)}`));
  console.error('This is a defect in savedsyn; rerun with SAVEDSYN_DEBUG=1 for the stack trace.');
  if (process.env.SAVEDSYN_DEBUG) console.error(e);
  exitNow(70);
}

/** Ends the process once the command has returned: a module's timer or
 * open handle must not keep a finished command waiting. What it printed
 * goes first: into a pipe Node writes behind the program's back, and an
 * exit before the pipe takes it would cut the output short. */
export async function exit(code: number): Promise<never> {
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  return exitNow(code);
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  if (stream.writableLength === 0 || stream.destroyed) return Promise.resolve();
  // A reader that went away ends the wait as it ends the printing (the
  // command ignores EPIPE).
  return new Promise((done) => {
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', () => done());
  });
}

/** Errnos of a filesystem refusing what was asked of a path. */
const SYSTEM_REFUSALS = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EEXIST', 'EISDIR', 'ENAMETOOLONG', 'ELOOP', 'EMFILE', 'ENFILE', 'ENOENT']);

export async function main(argv: string[], log: (s: string) => void = console.log): Promise<number> {
  const { command, opts, arg, rest } = parse(argv);
  if (command === 'help') {
    log(USAGE);
    return 0;
  }
  // Each command loads only what it runs, so a mistake in the command line,
  // or help, answers at once.
  if (command === 'list') {
    const { BUNDLED } = await import('../model/impl/registry.ts');
    for (const i of BUNDLED) log(`${i.name.padEnd(14)} profile ${i.profile.padEnd(7)} ${i.description}`);
    return 0;
  }
  if (command === 'kernel') return (await import('./kernel.ts')).kernelCommand(opts, log);
  if (command === 'fuzz') return (await import('./fuzz.ts')).fuzzCommand(opts, log);
  if (command === 'merge') return (await import('./fuzz.ts')).mergeCommand(rest, opts, log);
  if (command === 'verify') return (await import('./verify.ts')).verifyCommand(opts, log);
  if (command === 'replay') return (await import('./replay.ts')).replayCommand(arg, opts, log);
  const { checkCommand } = await import('./check.ts');
  return checkCommand(command, opts, log);
}
