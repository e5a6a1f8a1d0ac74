// Regenerates reports/rfc-v1/ and test/regressions/ from fixed seeds: npm run reports.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRfcV1Reports } from '../fuzz/committed-reports.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
for (const dir of ['reports/rfc-v1', 'test/regressions']) rmSync(join(root, dir), { recursive: true, force: true });
for (const [path, text] of generateRfcV1Reports()) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), text);
  console.log(`wrote ${path}`);
}
