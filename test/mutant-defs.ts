// Implementations with one small defect planted each: the harness must find
// every one, by the oracle expected to catch it, whatever the seed.
import { linuxFeature } from '../model/impl/linux.ts';
import { stackImplementation } from '../model/impl/stack/adapter.ts';
import type { SavedSynFeature } from '../model/impl/stack/feature.ts';
import { sockOwner } from '../model/impl/stack/structs.ts';
import type { Implementation } from '../model/impl/types.ts';
import { fail, TCP_SAVE_SYN } from '../model/ops.ts';

export interface Mutant {
  name: string;
  /** The oracle expected to catch it. */
  oracle: string;
  /** Where it shows: in a single-thread case, or only in a race. */
  lane: 'single-thread' | 'concurrent';
  feature: Partial<SavedSynFeature>;
}

export const MUTANTS: Mutant[] = [
  { name: 'disconnect keeps the copy', oracle: 'state', lane: 'single-thread', feature: { disconnect() {} } },
  { name: 'the request never frees its copy', oracle: 'leak', lane: 'single-thread', feature: { reqskDestructor() {} } },
  { name: 'a destroyed socket never frees its copy', oracle: 'leak', lane: 'single-thread', feature: { destroySock() {} } },
  {
    name: 'the destructor frees the copy twice', oracle: 'ledger', lane: 'single-thread',
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
    name: 'the child does not inherit the listener\'s mode', oracle: 'state', lane: 'single-thread',
    feature: { createOpenreqChild(_k, _l, _req, child) { child.tp.save_syn = 0; } },
  },
  {
    name: 'a buffer too small frees the copy anyway', oracle: 'state', lane: 'single-thread',
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
    name: 'a successful read does not free the copy', oracle: 'state', lane: 'single-thread',
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
    // Wrong at once (the socket still shows its SYN), and a double free
    // waiting for the socket's destruction: the worse names it.
    name: 'a successful read frees the copy but keeps the pointer', oracle: 'ledger', lane: 'single-thread',
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const h = sk.tp.saved_syn ?? 0;
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        if (out?.ret === 0 && out.bytes && h && optname !== TCP_SAVE_SYN) sk.tp.saved_syn = h;
        return out;
      },
    },
  },
  {
    name: 'too small a buffer does not report the size needed', oracle: 'lockstep', lane: 'single-thread',
    feature: {
      *getsockopt(k, t, sk, optname, user) {
        const out = yield* linuxFeature.getsockopt(k, t, sk, optname, user);
        return out?.errno === 'EINVAL' ? fail('EINVAL') : out;
      },
    },
  },
  {
    name: 'mode 2 forgets the MAC header', oracle: 'lockstep', lane: 'single-thread',
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
    name: 'the request keeps a reference it handed on', oracle: 'ledger', lane: 'single-thread',
    feature: {
      *synRecvSock(k, t, req, child, ownReq) {
        const h = req.ireq.saved_syn ?? 0;
        yield* linuxFeature.synRecvSock(k, t, req, child, ownReq);
        if (ownReq) req.ireq.saved_syn = h;
      },
    },
  },
  {
    // Only seen when two CPUs take the same ACK: the loser moves the copy to
    // the child it is about to drop, before the winner moves it to its own.
    name: 'the loser of own_req moves the copy too', oracle: 'linearizability', lane: 'concurrent',
    feature: {
      *synRecvSock(k, t, req, child) {
        yield* linuxFeature.synRecvSock(k, t, req, child, true);
      },
    },
  },
];

export function mutant(m: Mutant, withView = true): Implementation {
  const impl = stackImplementation({
    name: 'linux-mutant', profile: 'linux', description: m.name, feature: { ...linuxFeature, ...m.feature },
  });
  if (withView) return impl;
  // As a third-party module without view(): the state oracle is blind and
  // the oracles on what userspace sees must do the work.
  return { ...impl, create: (env: Parameters<typeof impl.create>[0]) => ({ run: impl.create(env).run }) };
}

