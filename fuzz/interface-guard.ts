// A module that breaks the Implementation interface stops a search at once:
// fast-check would otherwise take the thrown InterfaceError for a failing
// case and shrink it, calling the broken module again and again.

import { InterfaceError } from '../model/impl/contract.ts';

export function untilInterfaceBroken<T>(predicate: (x: T) => boolean): { predicate: (x: T) => boolean; rethrow: () => void } {
  let broken: InterfaceError | undefined;
  return {
    predicate: (x) => {
      if (broken) return true;
      try {
        return predicate(x);
      } catch (e) {
        if (!(e instanceof InterfaceError)) throw e;
        broken = e;
        return true;
      }
    },
    rethrow: () => {
      if (broken) throw broken;
    },
  };
}
