// The compiled command the suites start (global-setup.ts), and its package.
import { join } from 'node:path';
import { inject } from 'vitest';

/** bin/savedsyn.mjs of the compiled package. */
export const SAVEDSYN = inject('savedsynBin');

/** A file of the compiled package, by its path from the package's root. */
export const built = (path: string): string => join(inject('savedsynBuilt'), path);
