// The compiled command the suites start (global-setup.ts), and its package.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inject } from 'vitest';

/** A file of the compiled package, by its path from the package's root. */
export const built = (path: string): string => join(inject('savedsynBuilt'), path);

/** The compiled package's command. */
export const SAVEDSYN = built('bin/savedsyn.mjs');

/** A compiled module of the package as a script's import specifier: a
 * script started from it needs no loader for the sources. */
export const builtImport = (path: string): string => JSON.stringify(pathToFileURL(built(path)).href);

/** A fixture (test/fixtures/NAME.ts) compiled against the package. */
export const compiledFixture = (name: string): string => join(inject('savedsynFixtures'), `${name}.mjs`);
