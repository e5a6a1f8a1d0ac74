#!/usr/bin/env node
// npm run bench: every benchmark under bench/, one after another.
import { readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

register();
const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench');
for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts')).sort()) {
  console.log(`# ${f}\n`);
  await import(join(dir, f));
  console.log();
}
