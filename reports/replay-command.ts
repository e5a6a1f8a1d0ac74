// The command that replays a token. A token never chooses code to run, so
// for an implementation given as a module path the command names the module
// itself, as it was given to the run that made the token.

import { looksLikePath } from '../model/impl/load.ts';

/** A word the shell reads as it stands, or single-quoted. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `npx savedsyn replay TOKEN`, with `--impl PATH` when `impl` is a module. */
export function replayCommand(token: string, impl: string): string {
  return looksLikePath(impl) ? `npx savedsyn replay ${token} --impl ${shellWord(impl)}` : `npx savedsyn replay ${token}`;
}
