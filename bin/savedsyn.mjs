#!/usr/bin/env node
// The savedsyn command. Installed, it runs the compiled dist/; in a checkout
// of the sources it runs them through tsx, so an edit needs no build.
import { existsSync } from 'node:fs';

// Output piped into head or a pager that quits early is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const fromSources = existsSync(new URL('../cli/main.ts', import.meta.url));
if (fromSources) (await import('tsx/esm/api')).register();
const { cli } = await import(fromSources ? '../cli/main.ts' : '../dist/cli/main.js');
process.exitCode = await cli(process.argv.slice(2));
