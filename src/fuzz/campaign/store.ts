// A campaign's folder: what it has found, where it got to, and its numbers.
// Every file is written to a temporary name and renamed, so a campaign
// killed at any moment leaves each file whole or absent. Files that do not
// parse, or were not written by savedsyn, are reported and skipped.

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BatchFinding } from './batch.ts';

export const STATE_VERSION = 1;

export interface CampaignState {
  version: number;
  seed: number;
  shard: string;
  impls: string[];
  /** Every batch below this index is done and its findings are on disk. */
  nextBatch: number;
  cases: number;
}

export function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export function findingName(f: Pick<BatchFinding, 'impl' | 'signature'>): string {
  const slug = `${f.impl}-${f.signature}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
  return `${slug}-${createHash('sha256').update(`${f.impl}\0${f.signature}`).digest('hex').slice(0, 8)}`;
}

export class CampaignStore {
  readonly warnings: string[] = [];
  readonly findings = new Map<string, BatchFinding>();

  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'findings'), { recursive: true });
    for (const name of readdirSync(join(dir, 'findings'))) {
      if (name.endsWith('.tmp')) continue;
      if (!name.endsWith('.json')) {
        if (!name.endsWith('.md')) this.warnings.push(`skipping findings/${name}: not a savedsyn finding`);
        continue;
      }
      try {
        const f = JSON.parse(readFileSync(join(dir, 'findings', name), 'utf8')) as BatchFinding;
        if (typeof f.signature !== 'string' || typeof f.impl !== 'string' || typeof f.token !== 'string') throw new Error('missing fields');
        this.findings.set(findingName(f), f);
      } catch (e) {
        this.warnings.push(`skipping findings/${name}: unreadable (${e instanceof Error ? e.message : String(e)})`);
      }
    }
  }

  readState(): CampaignState | undefined {
    const path = join(this.dir, 'state.json');
    if (!existsSync(path)) return undefined;
    try {
      const s = JSON.parse(readFileSync(path, 'utf8')) as CampaignState;
      if (s.version !== STATE_VERSION || !Number.isInteger(s.nextBatch)) throw new Error('not a state this savedsyn wrote');
      return s;
    } catch (e) {
      this.warnings.push(`state.json unreadable (${e instanceof Error ? e.message : String(e)}): starting from the first batch; findings on disk are kept`);
      return undefined;
    }
  }

  writeState(s: CampaignState): void {
    writeAtomic(join(this.dir, 'state.json'), `${JSON.stringify(s, null, 2)}\n`);
  }

  /** Record a finding unless one with its signature is already here. */
  add(f: BatchFinding): boolean {
    const name = findingName(f);
    if (this.findings.has(name)) return false;
    writeAtomic(join(this.dir, 'findings', `${name}.md`), `${f.report}\n`);
    writeAtomic(join(this.dir, 'findings', `${name}.json`), `${JSON.stringify(f, null, 2)}\n`);
    this.findings.set(name, f);
    return true;
  }

  /** Coverage keys seen so far; an unreadable file starts it afresh. */
  readCoverage(): Set<string> {
    const path = join(this.dir, 'coverage.json');
    if (!existsSync(path)) return new Set();
    try {
      const keys = JSON.parse(readFileSync(path, 'utf8')) as unknown;
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw new Error('not a list of keys');
      return new Set(keys as string[]);
    } catch (e) {
      this.warnings.push(`coverage.json unreadable (${e instanceof Error ? e.message : String(e)}): coverage starts afresh`);
      return new Set();
    }
  }

  writeCoverage(keys: Set<string>): void {
    writeAtomic(join(this.dir, 'coverage.json'), `${JSON.stringify([...keys].sort(), null, 1)}\n`);
  }

  writeStats(stats: object): void {
    writeAtomic(join(this.dir, 'stats.json'), `${JSON.stringify(stats, null, 2)}\n`);
  }
}
