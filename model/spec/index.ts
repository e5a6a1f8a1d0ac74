import type { Profile } from '../profile.ts';
import { linuxPromise } from './linux.ts';
import { rfcV1Promise } from './rfc-v1.ts';
import { SpecWorld } from './world.ts';

export { SpecWorld } from './world.ts';

/** A fresh spec world for `profile`. */
export function createSpec(profile: Profile): SpecWorld {
  return new SpecWorld(profile, profile.name === 'rfc-v1' ? rfcV1Promise : linuxPromise);
}
