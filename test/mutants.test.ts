// The linux lane passes because the harness checks, not because it cannot
// see: each small defect planted here in the linux implementation is caught
// within the budget, by the oracle expected to catch it.
import { describe, expect, it } from 'vitest';
import { search } from '../fuzz/search.ts';
import { linuxFeature } from '../model/impl/linux.ts';
import { stackImplementation } from '../model/impl/stack/adapter.ts';
import type { SavedSynFeature } from '../model/impl/stack/feature.ts';
import { sockOwner } from '../model/impl/stack/structs.ts';
import { fail, TCP_SAVE_SYN } from '../model/ops.ts';
import { LINUX } from '../model/profile.ts';

const BUDGET = 3000;

const MUTANTS: Array<{ name: string; oracle: string; feature: Partial<SavedSynFeature> }> = [
  { name: 'disconnect keeps the copy', oracle: 'state', feature: { disconnect() {} } },
  { name: 'the request never frees its copy', oracle: 'leak', feature: { reqskDestructor() {} } },
  { name: 'a destroyed socket never frees its copy', oracle: 'leak', feature: { destroySock() {} } },
  {
    name: 'the destructor frees the copy twice', oracle: 'ledger',
    feature: {
      destroySock(k, sk) {
        const h = sk.tp.saved_syn ?? 0;
        k.ledger.put(h, sockOwner(sk), 'mutant');
        k.ledger.put(h, sockOwner(sk), 'mutant again');
        sk.tp.saved_syn = 0;
      },
    },
  },
  {
    name: 'the child does not inherit the listener\'s mode', oracle: 'state',
    feature: { createOpenreqChild(_k, _l, _req, child) { child.tp.save_syn = 0; } },
  },
  {
    name: 'a buffer too small frees the copy anyway', oracle: 'state',
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        if (out?.errno === 'EINVAL' && out.optlen !== undefined) {
          k.ledger.put(sk.tp.saved_syn ?? 0, sockOwner(sk), 'mutant');
          sk.tp.saved_syn = 0;
        }
        return out;
      },
    },
  },
  {
    name: 'a successful read does not free the copy', oracle: 'state',
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const h = sk.tp.saved_syn ?? 0;
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        if (out?.ret === 0 && out.bytes && h && optname !== TCP_SAVE_SYN) {
          // Undo the free: the socket keeps a fresh copy of the same bytes.
          sk.tp.saved_syn = k.kmalloc(out.bytes, sockOwner(sk), 'mutant', k.ledger.conn(h)!);
        }
        return out;
      },
    },
  },
  {
    name: 'too small a buffer does not report the size needed', oracle: 'lockstep',
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        return out?.errno === 'EINVAL' ? fail('EINVAL') : out;
      },
    },
  },
  {
    name: 'mode 2 forgets the MAC header', oracle: 'lockstep',
    feature: {
      *connRequest(k, t, sk, req, skb, wantCookie) {
        const mode = sk.tp.save_syn;
        if (mode === 2) sk.tp.save_syn = 1;
        try {
          yield* linuxFeature.connRequest(k, t, sk, req, skb, wantCookie);
        } finally {
          sk.tp.save_syn = mode;
        }
      },
    },
  },
  {
    name: 'the request keeps a reference it handed on', oracle: 'ledger',
    feature: {
      *synRecvSock(k, t, req, child, ownReq) {
        const h = req.ireq.saved_syn ?? 0;
        yield* linuxFeature.synRecvSock(k, t, req, child, ownReq);
        if (ownReq) req.ireq.saved_syn = h;
      },
    },
  },
];

function mutant(m: (typeof MUTANTS)[number], withView = true) {
  const impl = stackImplementation({
    name: 'linux-mutant', profile: 'linux', description: m.name, feature: { ...linuxFeature, ...m.feature },
  });
  if (withView) return impl;
  // As a third-party module without view(): the state oracle is blind and
  // the oracles on what userspace sees must do the work.
  return { ...impl, create: (env: Parameters<typeof impl.create>[0]) => ({ run: impl.create(env).run }) };
}

describe('planted defects in the linux implementation are caught', () => {
  for (const m of MUTANTS) {
    it(`${m.name} (by ${m.oracle})`, () => {
      const { findings, runs } = search(mutant(m), LINUX, { seed: 99, runs: BUDGET, maxFindings: 1 });
      expect(findings.length, `no failure in ${runs} cases`).toBe(1);
      expect(findings[0].oracle).toBe(m.oracle);
    });
  }

  it('without view(), a read that does not consume is caught by the one-shot oracle', () => {
    const m = MUTANTS.find((x) => x.name === 'a successful read does not free the copy')!;
    const { findings } = search(mutant(m, false), LINUX, { seed: 99, runs: BUDGET, only: 'one-shot:getsockopt' });
    expect(findings.map((f) => f.oracle)).toEqual(['one-shot']);
  });
});
