// Measures properties/lane-paths.ts on the live kernel through the lane
// (each sequence in a private namespace, the model's own frames) and
// prints the rows; with --write, replaces the rows of
// reference/measured-paths.md between its lane markers.
//   npx tsx scripts/lane-paths.ts [--write]
import { readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOnKernel } from '../model/kernel/lane.ts';
import { LANE_PATHS, laneResult } from '../properties/lane-paths.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rows = LANE_PATHS.map((p) => `| \`${p.id}\` | ${p.seq} | ${laneResult(p, runOnKernel(p.ops).outcomes)} | ${release()} |`);
if (process.argv.includes('--write')) {
  const table = join(root, 'reference/measured-paths.md');
  const text = readFileSync(table, 'utf8').replace(
    /(<!-- lane-rows:begin -->\n)[\s\S]*?(<!-- lane-rows:end -->)/,
    (_m, begin: string, end: string) => `${begin}${rows.join('\n')}\n${end}`,
  );
  writeFileSync(table, text);
} else {
  console.log(rows.join('\n'));
}
