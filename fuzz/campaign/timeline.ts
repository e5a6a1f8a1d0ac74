// A campaign's progress over wall time, for the dashboard's plots. It is a
// record of how the work went, not part of the work: nothing a campaign
// finds, keeps or resumes from reads it, so wall time never reaches a
// result, and a lost or damaged timeline costs only its plot.

import { existsSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { readRecord } from './read-record.ts';
import { writeAtomic } from './store.ts';

export const TIMELINE_VERSION = 1;

/** Beyond this many samples every other old one is dropped, so a campaign of
 * days rewrites a file of bounded size once a second. */
export const MAX_SAMPLES = 1000;

export interface Sample {
  /** Wall seconds the campaign has run, summed over its resumes: a resumed
   * campaign goes on from its last sample, not from the time it was down. */
  seconds: number;
  /** 0 for the campaign's first start, one more for each resume. */
  run: number;
  cases: number;
  steps: number;
  transitions: number;
  sites: number;
  interleavings: number;
  /** Set on the sample a campaign takes as it finishes its budget. */
  end?: true;
}

const FIELDS = ['seconds', 'run', 'cases', 'steps', 'transitions', 'sites', 'interleavings'] as const;

export function isSample(x: unknown): x is Sample {
  if (typeof x !== 'object' || x === null) return false;
  const s = x as Record<string, unknown>;
  return FIELDS.every((f) => typeof s[f] === 'number' && Number.isFinite(s[f]) && (s[f] as number) >= 0)
    && (s.end === undefined || s.end === true);
}

/** The samples in `dir`; a file that does not parse is reported in
 * `warnings` and reads as empty. */
/** The samples in `dir`/timeline.json. One that cannot be read is
 * reported; a campaign about to write its own (`setAside`) first moves it
 * to timeline.json.unreadable, so nothing the user had there is lost. */
export function readTimeline(dir: string, warnings: string[], setAside = false): Sample[] {
  const path = join(dir, 'timeline.json');
  if (!existsSync(path)) return [];
  try {
    const t = JSON.parse(readRecord(path)) as { version?: unknown; samples?: unknown };
    if (t.version !== TIMELINE_VERSION || !Array.isArray(t.samples)) throw new Error('not a timeline this savedsyn wrote');
    if (!t.samples.every(isSample)) throw new Error('a sample is not a set of counts');
    return t.samples;
  } catch (e) {
    let kept = '';
    if (setAside) {
      try {
        // An earlier copy kept aside is kept too.
        let n = 1;
        const aside = (): string => `timeline.json.unreadable${n === 1 ? '' : `-${n}`}`;
        while (existsSync(join(dir, aside()))) n++;
        renameSync(path, join(dir, aside()));
        kept = ` (the file is kept as ${aside()})`;
      } catch {
        // Left where it is: the campaign's own write will say why it cannot.
      }
    }
    warnings.push(`timeline.json unreadable (${e instanceof Error ? e.message : String(e)}): the progress record starts again${kept}; findings, corpus and coverage are not affected`);
    return [];
  }
}

export function writeTimeline(dir: string, samples: readonly Sample[]): void {
  const body = samples.map((s) => JSON.stringify(s)).join(',\n');
  writeAtomic(join(dir, 'timeline.json'), `{"version":${TIMELINE_VERSION},"samples":[\n${body}\n]}\n`);
}

/** The samples that describe committed work: a campaign that resumes
 * behind its timeline (its state.json was lost) redoes what lies beyond. */
export function upTo(samples: readonly Sample[], cases: number): Sample[] {
  const end = samples.findIndex((s) => s.cases > cases);
  return samples.slice(0, end < 0 ? samples.length : end);
}

/** Add `s`, halving the density of the record when it grows past `max`.
 * The first sample, each run's first and last, and the newest are kept,
 * so resumes stay visible however long the campaign. */
export function appendSample(samples: Sample[], s: Sample, max = MAX_SAMPLES): Sample[] {
  const all = [...samples, s];
  if (all.length <= max) return all;
  return all.filter((x, i) => i % 2 === 0 || i === all.length - 1 || x.end === true
    || x.run !== all[i - 1].run || (i + 1 < all.length && all[i + 1].run !== x.run));
}
