// The library as a user calls it, in process: a campaign stopped by its
// AbortSignal keeps its folder and resumes to the same budget.
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { campaign } from 'savedsyn';
import { threadFlags } from '../fuzz/start-worker.ts';

it('campaign() stops cleanly when its signal aborts, and the same options resume it', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'savedsyn-api-')), 'campaign');
  const options = { out, implementations: ['rfc-v1'], runs: 400, batch: 200, workers: 1, maxOps: 8, seed: 3 };
  const stop = new AbortController();
  stop.abort();
  const stopped = await campaign({ ...options, stop: stop.signal });
  expect(stopped.stopped).toBeTruthy();
  expect(stopped.cases).toBeLessThan(400);
  expect(existsSync(join(out, 'state.json'))).toBe(true);
  const resumed = await campaign(options);
  expect(resumed.stopped).toBeFalsy();
  expect(resumed.cases).toBe(400);
  expect(resumed.findings.map((f) => f.signature)).toContain('state:setsockopt:flag');
});

it('starts its threads without the flags only a script given on the command line takes', () => {
  // node --input-type=module -e '…' passes --input-type on to each thread,
  // which refuses it when the thread loads a file.
  expect(threadFlags(['--input-type', 'module', '-e', 'x', '--input-type=commonjs', '--stack-size=900'])).toEqual(['-e', 'x', '--stack-size=900']);
});

it('campaign() records no module finding a fresh load of the module does not show', async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'savedsyn-api-')), 'campaign');
  const run = campaign({ out, implementations: ['./test/fixtures/counts-instances.ts'], runs: 40, batch: 20, workers: 0, seed: 1 });
  await expect(run).rejects.toThrow(/^counts-instances is not deterministic: the counterexample for lockstep:listen:\S+ passes when the module is loaded afresh/);
  expect(existsSync(join(out, 'findings')) ? readdirSync(join(out, 'findings')) : []).toEqual([]);
});
