// The search keeps each level's states until the next one is made, and a
// level is about four times the last: a run asked for a depth its heap
// cannot hold would end in V8's fatal out-of-memory abort, hours in, with
// nothing written. Watched instead, it stops as a spent time budget does,
// at the depth completed, and says why. The heap in use counts garbage not
// yet collected, so the watch may stop a run somewhat early; it never lets
// one crash for want of a look.

import { getHeapStatistics } from 'node:v8';

/** The share of V8's heap limit past which a search stops. */
const HEAP_SHARE = 0.85;
/** V8's limit counts the young generation's spaces (48 MB on 64-bit) as
 * well as the old one the states live in: in a small heap the share
 * alone would leave no room. */
const YOUNG_AND_SLACK_MB = 64;

/** The heap in use, in megabytes, past which a search stops by default. */
export function defaultHeapLimitMb(): number {
  const limit = getHeapStatistics().heap_size_limit / 2 ** 20;
  return Math.min(HEAP_SHARE * limit, limit - YOUNG_AND_SLACK_MB);
}

export interface HeapFull {
  usedMb: number;
  limitMb: number;
}

export class HeapWatch {
  /** Set once the heap was seen past the limit; it stays set. */
  tripped: HeapFull | undefined;
  private nextLook = 0;

  /** `limitMb`: stop past this many megabytes of heap in use (default: a
   * share of the heap V8 allows this process, which
   * NODE_OPTIONS=--max-old-space-size=MB raises). */
  constructor(readonly limitMb = defaultHeapLimitMb(), private readonly everyMs = 200) {}

  /** Whether the heap is past the limit: looked at no more often than
   * every `everyMs`, since the search asks at every state. */
  full(): boolean {
    if (this.tripped !== undefined) return true;
    const now = Date.now();
    if (now < this.nextLook) return false;
    this.nextLook = now + this.everyMs;
    const usedMb = getHeapStatistics().used_heap_size / 2 ** 20;
    if (usedMb > this.limitMb) this.tripped = { usedMb: Math.round(usedMb), limitMb: Math.round(this.limitMb) };
    return this.tripped !== undefined;
  }
}
