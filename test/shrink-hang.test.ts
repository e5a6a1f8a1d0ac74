// Shrinking a hang: every candidate that still hangs costs the watchdog's
// bound, so ops go smallest set first; values are then made as simple as
// still hang, as any finding's are.
import { describe, expect, it } from 'vitest';
import { shrinkHang } from '../fuzz/shrink-hang.ts';
import type { Op } from '../model/ops.ts';

describe('shrinking a case whose last op never returns', () => {
  const closing: Op[] = [
    { kind: 'socket' }, { kind: 'listen', fd: 0, backlog: 5 }, { kind: 'socket' }, { kind: 'socket' },
    { kind: 'dup', fd: 2 }, { kind: 'close', fd: 4 },
  ];

  it('keeps what the hang needs, and makes its values as simple as still hang', () => {
    // A close of any descriptor hangs.
    const hangs = (ops: Op[]): boolean => ops.at(-1)?.kind === 'close';
    expect(shrinkHang(closing, hangs)).toEqual([{ kind: 'close', fd: 0 }]);
  });
});
