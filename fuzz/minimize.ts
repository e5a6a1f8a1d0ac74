// fast-check shrinks through the generator, which can leave an op that the
// failure does not need (a structured case shrinks lives, not single ops).
// This pass makes a case 1-minimal: removing any single op makes it pass.

import type { Op } from '../model/ops.ts';
import { DEFAULT_PACKET } from '../model/packet.ts';

export function minimize(ops: readonly Op[], fails: (ops: Op[]) => boolean): Op[] {
  let cur = [...ops];
  for (let changed = true; changed;) {
    changed = false;
    for (let i = 0; i < cur.length; i++) {
      const without = cur.slice(0, i).concat(cur.slice(i + 1));
      if (without.length > 0 && fails(without)) {
        cur = without;
        changed = true;
        i--;
      }
    }
  }
  // Plainer packets read better in a report: keep the default where it fails too.
  for (let i = 0; i < cur.length; i++) {
    const op = cur[i];
    if (op.kind === 'syn' && op.packet !== DEFAULT_PACKET) {
      const plain = cur.slice();
      plain[i] = { ...op, packet: DEFAULT_PACKET };
      if (fails(plain)) cur = plain;
    }
  }
  return cur;
}
