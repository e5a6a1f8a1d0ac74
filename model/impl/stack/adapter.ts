import type { ProfileName } from '../../profile.ts';
import type { FdView, Implementation, ImplInstance, OpRun } from '../types.ts';
import type { SavedSynFeature } from './feature.ts';
import { Kernel } from './kernel.ts';

/** The modelled stack, or a variant of it (a planted defect in code the
 * feature does not own). */
export type StackClass = new (...args: ConstructorParameters<typeof Kernel>) => Kernel;

/** The kernel behind each instance this adapter made: `verify` hashes it
 * to recognise a state reached twice. */
export const kernelOf = new WeakMap<object, Kernel>();

/** An implementation made of a feature plugged into the modelled stack. */
export function stackImplementation(def: {
  name: string;
  profile: ProfileName;
  description: string;
  feature: SavedSynFeature;
  stack?: StackClass;
}): Implementation {
  return {
    name: def.name,
    profile: def.profile,
    description: def.description,
    create(env) {
      const kernel = new (def.stack ?? Kernel)(env.profile, env.ledger, def.feature);
      const instance = new StackInstance(kernel);
      kernelOf.set(instance, kernel);
      return instance;
    },
  };
}

/** An instance: its methods on the prototype, so making one (once per
 * case, and once per branch in verify) builds no closures. */
class StackInstance implements ImplInstance {
  constructor(private readonly kernel: Kernel) {}

  run(op: Parameters<Kernel['run']>[0], thread: number): OpRun {
    return this.kernel.run(op, thread);
  }

  view(): FdView[] {
    return this.kernel.view();
  }
}
