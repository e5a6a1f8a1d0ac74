// Runs `verify` on each mutant of the suite within the mutant's own bounds
// (test/mutant-defs.ts) and prints, for each, whether a counterexample was
// found, its signature and oracle against the one expected, its length,
// the depth completed and the seconds taken; then a summary line. Exits 1
// when a mutant is missed, 2 on a bad command line.
//   npx tsx scripts/verify-mutants.ts [--budget S] [--workers N] [filter]
import { parseArgs } from 'node:util';
import { describeBounds } from '../fuzz/verify/certificate.ts';
import { DEFAULT_BOUNDS } from '../fuzz/verify/alphabet.ts';
import { COUNT_MUTANTS, MUTANTS } from '../test/mutant-defs.ts';
import { verifyMutant } from '../test/verify-mutant-run.ts';

const USAGE = 'usage: npx tsx scripts/verify-mutants.ts [--budget S] [--workers N] [name filter]';

function fail(message: string): never {
  process.stderr.write(`verify-mutants: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function positive(flag: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) fail(`${flag} takes an integer of at least ${min}, got '${raw}'`);
  return Number(raw);
}

let parsed;
try {
  parsed = parseArgs({ allowPositionals: true, strict: true, options: { budget: { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
} catch (e) {
  fail((e instanceof Error ? e.message : String(e)).split(/\. /)[0]);
}
if (parsed.values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (parsed.positionals.length > 1) fail(`one name filter at most, got ${parsed.positionals.length}`);
const budget = positive('--budget', parsed.values.budget, 60, 1);
const workers = positive('--workers', parsed.values.workers, 0, 0);
const filter = parsed.positionals[0];
const chosen = [...MUTANTS, ...COUNT_MUTANTS].filter((m) => filter === undefined || m.name.includes(filter));
if (chosen.length === 0) fail(`no mutant's name contains '${filter}'`);

let found = 0;
let asExpected = 0;
let total = 0;
for (const m of chosen) {
  const v = await verifyMutant(m, { timeBudget: budget, workers });
  total += v.seconds;
  if (v.found) found++;
  if (v.oracle === m.oracle) asExpected++;
  const bounds = describeBounds({ ...DEFAULT_BOUNDS, ...m.verify, kinds: m.verify?.kinds });
  const pairs = m.verify?.pairDepth === undefined ? '' : `, pair depth ${m.verify.pairFrom === undefined ? '' : `${m.verify.pairFrom}..`}${m.verify.pairDepth}`;
  const what = v.found
    ? `${v.signature} (${v.oracle === m.oracle ? `${v.oracle}, as expected` : `${v.oracle}; expected ${m.oracle}`}), ${v.length} ops${v.contextSwitches === undefined ? '' : `, ${v.contextSwitches} switches`}`
    : `nothing found (expected ${m.oracle})`;
  console.log(`${v.found ? 'found' : 'MISSED'}  ${m.name}\n  bounds ${bounds}${pairs}\n  ${what}; depth completed ${v.depthCompleted}${v.outOfTime ? ' (budget ran out)' : ''}; ${v.seconds.toFixed(1)} s`);
}
console.log(`\n${found}/${chosen.length} found, ${asExpected}/${chosen.length} by the expected oracle, ${total.toFixed(0)} s in all (budget ${budget} s each)`);
process.exit(found === chosen.length ? 0 : 1);
