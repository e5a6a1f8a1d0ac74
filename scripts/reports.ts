// Regenerates reports/rfc-v1/ from fixed seeds: npm run reports.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRfcV1Reports } from '../src/reports/committed.ts';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), '../reports/rfc-v1');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
for (const [name, text] of generateRfcV1Reports()) {
  writeFileSync(join(dir, name), text);
  console.log(`wrote reports/rfc-v1/${name}`);
}
