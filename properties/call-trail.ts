// A call into an instance, known by every call the instance received
// before it: an implementation is deterministic and starts afresh with each
// create(), so two calls with the same trail behave alike. Once one of them
// hung, the other is known to hang without calling it, so a case run again
// (re-checked, shrunk, replayed for a report) costs the watchdog's bound
// once, not each time. The trail is a 64-bit hash, kept only after a hang.

import type { Op } from '../model/ops.ts';

export class CallTrail {
  private h1 = 0;
  private h2 = 0;
  private readonly hung = new Set<string>();

  /** The trail of this call: `create` starts an instance's trail afresh. */
  step(where: string, thread: number, op: Op | undefined): string {
    if (where === 'create') this.h1 = this.h2 = 0;
    const s = `${where}|${thread}|${op === undefined ? '' : JSON.stringify(op)}`;
    let h1 = this.h1 ^ 0x811c9dc5;
    let h2 = this.h2 ^ 0x01000193;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    }
    this.h1 = h1 >>> 0;
    this.h2 = (h2 ^ (h2 >>> 15)) >>> 0;
    return `${this.h1}:${this.h2}`;
  }

  hangs(trail: string): boolean {
    return this.hung.has(trail);
  }

  hang(trail: string): void {
    this.hung.add(trail);
  }
}
