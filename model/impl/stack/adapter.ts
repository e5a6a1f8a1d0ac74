import type { ProfileName } from '../../profile.ts';
import type { FdView, Implementation, ImplInstance, OpRun } from '../types.ts';
import type { SavedSynFeature } from './feature.ts';
import { Kernel } from './kernel.ts';

/** The modelled stack, or a variant of it (a planted defect in code the
 * feature does not own). */
export type StackClass = new (...args: ConstructorParameters<typeof Kernel>) => Kernel;

/** The kernel behind each instance this adapter made: `verify` hashes it
 * to recognise a state reached twice. The instance holds it, so telling
 * one costs no weak table entry per instance. */
export const kernelOf = {
  get(instance: object): Kernel | undefined {
    return instance instanceof StackInstance ? instance.kernel : undefined;
  },
  has(instance: object): boolean {
    return instance instanceof StackInstance;
  },
};

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
      return new StackInstance(kernel);
    },
  };
}

/** An instance. Its functions are the kernel's own methods bound to it,
 * not closures, which cost more to make (once per case, and once per
 * branch in verify); they are its own properties, so a caller may take
 * them off it. */
class StackInstance implements ImplInstance {
  readonly run: (op: Parameters<Kernel['run']>[0], thread: number) => OpRun;
  readonly view: () => FdView[];

  constructor(readonly kernel: Kernel) {
    this.run = kernel.run.bind(kernel);
    this.view = kernel.view.bind(kernel);
  }
}
