// The implementations a command runs: --impl and --profile, loaded and
// checked before any search starts.

import { loadImplementation } from '../model/impl/load.ts';
import { BUNDLED } from '../model/impl/registry.ts';
import type { Implementation } from '../model/impl/types.ts';
import { UserError } from '../model/user-error.ts';
import type { Options } from './options.ts';

/** The implementations --impl and --profile name: every bundled one of the
 * profile when no --impl is given; an --impl of another profile is refused. */
export async function selected(opts: Options): Promise<{ sources: string[]; impls: Implementation[] }> {
  const sources = opts.impls.length === 0
    ? BUNDLED.filter((i) => opts.profile === undefined || i.profile === opts.profile).map((i) => i.name)
    : opts.impls;
  const impls = await Promise.all(sources.map((s) => loadImplementation(s, { createTimeout: opts.opTimeout })));
  const other = impls.find((i) => opts.profile !== undefined && i.profile !== opts.profile);
  if (other) throw new UserError(`--profile ${opts.profile}, but ${other.name} implements ${other.profile}`);
  return { sources, impls };
}
