#!/usr/bin/env node
// The savedsyn command. Installed, it runs the compiled dist/; in a checkout
// of the sources it runs them through tsx, so an edit needs no build.
import { existsSync } from 'node:fs';

// A reader that goes away (head, a pager quit early) ends what savedsyn
// prints, not what it does: the run goes on, writes its reports and
// folders, and exits with its own code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') return;
    throw e;
  });
}
const fromSources = existsSync(new URL('../cli/main.ts', import.meta.url));
if (fromSources) (await import('tsx/esm/api')).register();
const { cli, exit } = await import(fromSources ? '../cli/main.ts' : '../dist/cli/main.js');
exit(await cli(process.argv.slice(2)));
