// Where an implementation object came from, so that another thread can load
// the same one: a bundled name, or the absolute path of its module. An
// object built by the caller has no origin and runs where it was given.

import { BUNDLED } from './registry.ts';
import type { Implementation } from './types.ts';

const origins = new WeakMap<Implementation, string>();

export function withOrigin(impl: Implementation, file: string): Implementation {
  origins.set(impl, file);
  return impl;
}

export function originOf(impl: Implementation): string | undefined {
  return BUNDLED.includes(impl) ? impl.name : origins.get(impl);
}
