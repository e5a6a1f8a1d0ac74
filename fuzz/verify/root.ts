// The initial state's own checks (its teardown among them) on the
// watchdog's thread: when verify's search runs on worker threads, the main
// thread still makes the root, and a teardown that never returns there
// would hold the run and any signal sent to stop it. Run here first, the
// hangs found are failed in the main thread's run of the same computation.

import { loadImplementation } from '../../model/impl/load.ts';
import { profileByName } from '../../model/profile.ts';
import type { VerifyBounds } from './alphabet.ts';
import { Bfs } from './bfs.ts';

export interface RootInput {
  origin: string;
  bounds: VerifyBounds;
}

export async function rootWatched(input: RootInput): Promise<void> {
  const impl = await loadImplementation(input.origin);
  new Bfs(impl, profileByName(impl.profile)!, input.bounds).root();
}
