// A user's mistake found on a worker thread (a module that does not fit the
// interface, or is not deterministic) must end verify as it would on the
// main thread: exit 2 with its message. An error crosses threads by
// structured clone, which keeps its message and not its class, so the
// class rides in the message across and is restored on the other side.

import { UserError } from '../../model/user-error.ts';

const MARK = 'savedsyn user error: ';

/** What a worker throws for `e`. */
export function toCrossing(e: unknown): unknown {
  return e instanceof UserError ? new Error(`${MARK}${e.message}`) : e;
}

/** What the main thread throws for `e`, a worker's error. */
export function fromCrossing(e: unknown): unknown {
  return e instanceof Error && e.message.startsWith(MARK) ? new UserError(e.message.slice(MARK.length)) : e;
}
