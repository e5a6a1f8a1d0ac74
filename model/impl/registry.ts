import linux from './linux.ts';
import rfcV1 from './rfc-v1.ts';
import rfcV1Fixed from './rfc-v1-fixed.ts';
import type { Implementation } from './types.ts';

export const BUNDLED: readonly Implementation[] = [rfcV1, rfcV1Fixed, linux];

export function bundledByName(name: string): Implementation | undefined {
  return BUNDLED.find((i) => i.name === name);
}
