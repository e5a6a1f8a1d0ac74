// A finding's case run again on a module loaded afresh, as `savedsyn
// replay` loads it in a process of its own. A search runs every case on
// one loaded copy of a module, so a module that keeps state from one
// create() to the next (a counter at module level) can fail there and pass
// on replay: its finding would come with a token that does not reproduce
// it. Each case gets a new thread, whose module graph is its own.

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { moduleNotDeterministic } from '../model/impl/determinism.ts';
import { BUNDLED } from '../model/impl/registry.ts';
import type { Implementation } from '../model/impl/types.ts';
import { UserError } from '../model/user-error.ts';
import { looksLikePath } from '../model/impl/looks-like-path.ts';
import { DEFAULT_OP_TIMEOUT } from '../fuzz/watchdog/host.ts';
import { decodeToken, type ReplayCase } from '../reports/token.ts';
import { startWorker, sibling } from '../fuzz/start-worker.ts';

/** What a fresh load did with a case: the signature it failed with
 * (undefined: it passed), or why it could not run it. */
export type FreshRun = { signature: string | undefined } | { error: string };

/** How long a case may take on its thread before the thread is stopped:
 * the search ran it in far less. */
const DEADLINE_MS = 20_000;

/** Run each case on `origin` loaded afresh, a few threads at a time. A
 * case that hung in the search (`watch`) is run under the watchdog, which
 * tells a hang by the op; any other runs bare, its thread stopped if it
 * outlives the deadline, which saves the watchdog's own thread. */
export async function runFresh(origin: string, cases: readonly ReplayCase[], watch: readonly boolean[], opTimeout: number): Promise<FreshRun[]> {
  const out: FreshRun[] = new Array(cases.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await runOne(origin, cases[i], watch[i] ? opTimeout : 0);
    }
  };
  await Promise.all(Array.from({ length: Math.min(cases.length, Math.max(1, availableParallelism())) }, lane));
  return out;
}

function runOne(origin: string, c: ReplayCase, opTimeout: number): Promise<FreshRun> {
  return new Promise((resolve) => {
    const worker = startWorker(sibling('fresh-load-worker', import.meta.url), { workerData: { origin, case: c, opTimeout } });
    let settled = false;
    const deadline = setTimeout(() => done({ error: `it did not finish within ${DEADLINE_MS / 1000} s` }), DEADLINE_MS + opTimeout);
    const done = (r: FreshRun): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      void worker.terminate();
      resolve(r);
    };
    worker.once('message', (m: FreshRun) => done(m));
    worker.once('error', (e) => done({ error: e instanceof Error ? e.message : String(e) }));
    worker.once('exit', (code) => done({ error: `the thread exited (${code}) before it ran the case` }));
  });
}

/** Throw unless each finding fails with its signature on `origin` loaded
 * afresh: a module that does not is not deterministic, and its tokens
 * would not reproduce what is reported. Bundled implementations are not
 * modules, and are not asked. */
export async function failAlikeAfresh(impl: Implementation, origin: string, found: ReadonlyArray<{ signature: string; token: string }>, opTimeout: number): Promise<void> {
  if (BUNDLED.includes(impl)) return;
  await moduleFailsAlikeAfresh(impl.name, origin, found, opTimeout);
}

/** failAlikeAfresh for the module at `origin`, named `name`. */
export async function moduleFailsAlikeAfresh(name: string, origin: string, found: ReadonlyArray<{ signature: string; token: string }>, opTimeout: number): Promise<void> {
  if (found.length === 0) return;
  const runs = await runFresh(origin, found.map((f) => decodeToken(f.token)), found.map((f) => f.signature.startsWith('hang:')), opTimeout);
  runs.forEach((r, i) => {
    const { signature } = found[i];
    if ('error' in r) throw new UserError(`the counterexample for ${signature}, run again on ${name} loaded afresh, could not run: ${r.error}`);
    if (r.signature !== signature) {
      throw moduleNotDeterministic(name, `the counterexample for ${signature} ${r.signature === undefined ? 'passes' : `fails with ${r.signature} instead`} when the module is loaded afresh, as savedsyn replay loads it`);
    }
  });
}

/** A campaign's check of each finding before it records it: a module's
 * must fail alike on the module loaded afresh, as replay loads it, or the
 * campaign ends with the module named not deterministic. */
export function confirmedAfresh(opTimeout: number | undefined): (f: { impl: string; implName?: string; signature: string; token: string }) => Promise<void> {
  return async (f) => {
    if (looksLikePath(f.impl)) await moduleFailsAlikeAfresh(f.implName ?? f.impl, resolve(f.impl), [f], opTimeout ?? DEFAULT_OP_TIMEOUT);
  };
}
