#!/usr/bin/env node
// Entry point: TypeScript sources (ours and a third party's) load through tsx.
import { register } from 'tsx/esm/api';

register();
// Output piped into head or a pager that quits early is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
const { main } = await import('../src/cli/main.ts');
const { UserError } = await import('../src/cli/errors.ts');

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UserError) {
    console.error(`savedsyn: ${e.message}`);
    process.exitCode = 2;
  } else {
    console.error(`savedsyn: internal error: ${e instanceof Error ? e.message : String(e)}`);
    console.error('This is a defect in savedsyn; rerun with SAVEDSYN_DEBUG=1 for the stack trace.');
    if (process.env.SAVEDSYN_DEBUG) console.error(e);
    process.exitCode = 70;
  }
}
