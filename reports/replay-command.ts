// The command that replays a token. A token never chooses code to run, so
// for an implementation given as a module path the command names the module
// itself, as it was given to the run that made the token; for one given as
// an object, which no command can load by name, it says what to name.

import { KERNEL_IMPL } from '../model/kernel/name.ts';
import { looksLikePath } from '../model/impl/load.ts';
import { bundledByName } from '../model/impl/registry.ts';

/** A word the shell reads as it stands, or single-quoted. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `npx savedsyn replay TOKEN`, with `--impl` for what the token alone
 * cannot load. */
export function replayCommand(token: string, impl: string): string {
  const command = `npx savedsyn replay ${token}`;
  if (looksLikePath(impl)) return `${command} --impl ${shellWord(impl)}`;
  if (impl === KERNEL_IMPL || bundledByName(impl) !== undefined) return command;
  return `${command} --impl <the module exporting ${impl}>`;
}
