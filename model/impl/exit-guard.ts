// A module that calls process.exit() on savedsyn's main thread would end
// the command with the module's exit code and nothing printed or written:
// a check that "passed" with exit 0. While savedsyn runs as a command, the
// call throws instead, as a mistake of the module's (exit 2); savedsyn's
// own exits (a second Ctrl-C) go through exitNow. On a worker thread the
// module ends only that thread, which its host reports the same way.

import { InterfaceError } from './contract.ts';

export class ModuleExited extends InterfaceError {}

let realExit: ((code?: number) => never) | undefined;

/** From now on in this thread, process.exit() throws ModuleExited. */
export function guardProcessExit(): void {
  if (realExit !== undefined) return;
  realExit = process.exit.bind(process) as (code?: number) => never;
  process.exit = ((code?: number | string | null) => {
    throw new ModuleExited(`the implementation called process.exit(${code ?? ''}): a module must return from its calls, not end the process that checks it`);
  }) as typeof process.exit;
}

/** Exit the process, past the guard. */
export function exitNow(code: number): never {
  return (realExit ?? (process.exit.bind(process) as (code?: number) => never))(code);
}
