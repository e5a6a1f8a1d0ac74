// What the watching side (host.ts) and its thread (thread.ts) say to each
// other.

/** One run of a function on the thread. */
export interface CallMessage {
  /** A module of savedsyn's (an import.meta.url), and its export to call as
   * `fn(input, shared, progress)`. */
  module: string;
  fn: string;
  input: unknown;
  /** A large value to keep, and the kept one this call is given. */
  shared?: { id: number; value: unknown };
  sharedId?: number;
  /** Kept values the thread may forget. */
  drop: number[];
  /** Calls into the implementation known to hang, numbered from 1. */
  hangs: number[];
  bound: number;
}

/** Load a module while nothing runs, to be ready for a call. */
export interface PreloadMessage {
  preload: string;
}

export interface ThreadFailure {
  kind: 'interface' | 'user' | 'other';
  message: string;
  stack?: string;
}

export type ThreadReply = { progress: unknown } | { done: unknown } | { failed: ThreadFailure };
