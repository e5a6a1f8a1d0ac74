// Ctrl-C and SIGTERM end a campaign the way its budget does, folder saved
// and summary printed, instead of killing it mid-write: the first asks the
// campaign to stop, and a second Ctrl-C, from someone who will not wait,
// exits at once, which a resume survives as it survives kill -9.

import { exitNow } from '../../model/impl/exit-guard.ts';

const CODES = { SIGINT: 130, SIGTERM: 143 } as const;

export type StopSignal = keyof typeof CODES;

export interface StopOnSignals {
  /** Aborted, with the signal's name as its reason, by the first signal. */
  signal: AbortSignal;
  /** 128 + the signal's number once one came, as a shell reports it. */
  exitCode(): number | undefined;
  /** Give the signals back to Node's default handling. */
  dispose(): void;
}

/** What of `process` this uses: a test hands in a stand-in, since a real
 * second signal would end the test runner. */
export interface SignalHost {
  on(sig: StopSignal, h: () => void): unknown;
  off(sig: StopSignal, h: () => void): unknown;
  exit(code: number): void;
}

const PROCESS: SignalHost = {
  on: (sig, h) => process.on(sig, h),
  off: (sig, h) => process.off(sig, h),
  exit: (code) => exitNow(code),
};

export function stopOnSignals(host: SignalHost = PROCESS): StopOnSignals {
  const controller = new AbortController();
  let got: StopSignal | undefined;
  const on = (sig: StopSignal) => (): void => {
    if (got !== undefined) host.exit(CODES[sig]);
    got = sig;
    controller.abort(sig);
  };
  const handlers = (Object.keys(CODES) as StopSignal[]).map((sig) => [sig, on(sig)] as const);
  for (const [sig, h] of handlers) host.on(sig, h);
  return {
    signal: controller.signal,
    exitCode: () => (got === undefined ? undefined : CODES[got]),
    dispose: () => {
      for (const [sig, h] of handlers) host.off(sig, h);
    },
  };
}
