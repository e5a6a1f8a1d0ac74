// Finding an implementation by bundled name or by module path, and checking
// that a third-party module fits the interface before anything runs on it.

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_OP_TIMEOUT } from '../../fuzz/defaults.ts';
import { createWithin } from './bounded.ts';
import { createInstance, DidNotReturn, isThenable } from './contract.ts';
import { describeThrown, isA } from './thrown.ts';
import { noteModuleLoaded } from './loaded.ts';
import { requireFreshInstances } from './fresh-instances.ts';
import { looksLikePath } from './looks-like-path.ts';
import { withOrigin } from './origin.ts';
import { KERNEL_IMPL } from '../kernel/name.ts';
import { BUNDLED, bundledByName } from './registry.ts';
import type { Implementation } from './types.ts';
import { Ledger } from '../ledger.ts';
import { PROFILE_NAMES, profileByName } from '../profile.ts';
import { UserError } from '../user-error.ts';

export { looksLikePath };

export interface LoadOptions {
  /** How long the first create() may run, in ms (0: no bound): a module
   * whose create() never returns is refused rather than waited for. */
  createTimeout?: number;
}

export async function loadImplementation(spec: string, options: LoadOptions = {}): Promise<Implementation> {
  if (!looksLikePath(spec)) {
    const impl = bundledByName(spec);
    if (impl) return impl;
    if (spec === KERNEL_IMPL) {
      throw new UserError(`'${KERNEL_IMPL}' is the live kernel, which runs on its lane, not as an implementation: savedsyn kernel runs sequences on it, `
        + `savedsyn fuzz --impl ${KERNEL_IMPL} a campaign, and savedsyn replay TOKEN --impl kernel a linux case; check, run and verify take bundled ones (${BUNDLED.map((i) => i.name).join(', ')}) or a module path`);
    }
    throw new UserError(`unknown implementation '${spec}': bundled ones are ${BUNDLED.map((i) => i.name).join(', ')}; a third-party module is given by path (./my-impl.ts)`);
  }
  const file = resolve(spec);
  if (!existsSync(file)) throw new UserError(`implementation module not found: ${file}`);
  let mod: Record<string, unknown>;
  try {
    mod = await importModule(file);
  } catch (e) {
    // One line, as every error: Node's list of the modules that required
    // the missing one names tsx's loader more than the user's files.
    const why = describeThrown(e).replace(/\nRequire stack:[\s\S]*$/, '').replace(/\s*\n\s*/g, ' ');
    throw new UserError(`could not load ${spec}: ${why}`);
  }
  return withOrigin(validateImplementation(exported(mod), spec, options), file);
}

/** The implementation a module exports: its default export, or its export
 * named `implementation`, as ES modules and CommonJS (plain, or compiled
 * from ES syntax) each spell them. */
function exported(mod: Record<string, unknown>): unknown {
  const looksLikeOne = (x: unknown): boolean => typeof x === 'object' && x !== null && 'create' in x;
  const cjs = mod.default as Record<string, unknown> | undefined;
  for (const x of [mod.default, mod.implementation, cjs?.implementation, cjs?.default]) if (looksLikeOne(x)) return x;
  return mod.default ?? mod.implementation;
}

/** A module by path. Only .mjs and .cjs say what they are; a .ts, .mts or
 * .js file goes through tsx's scoped loader, which takes ES module syntax
 * wherever the file lies. Under a global loader, a file outside any package
 * of "type": "module" is compiled as CommonJS and cannot require the ES
 * modules it imports. */
async function importModule(file: string): Promise<Record<string, unknown>> {
  noteModuleLoaded();
  const url = pathToFileURL(file).href;
  if (/\.(mjs|cjs)$/.test(file)) return (await import(url)) as Record<string, unknown>;
  const { tsImport } = await import('tsx/esm/api');
  const mod = (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  // Outside a package of "type": "module", tsx still compiles the file as
  // CommonJS, so its exports arrive as the default export.
  const cjs = mod.default as Record<string, unknown> | undefined;
  return typeof cjs === 'object' && cjs !== null && cjs.__esModule === true ? cjs : mod;
}

/** An implementation a library caller passed as an object, checked as a
 * module's export is, and kept as the object it is: a loaded module's
 * object carries where it came from (origin.ts), which the watchdog needs. */
export function givenObject(x: Implementation, where: string): Implementation {
  if (!validated.has(x) && !BUNDLED.includes(x)) validateImplementation(x, where);
  return x;
}

/** What validateImplementation made: checked once, and each create() it
 * makes counted once (a module's failure names the call that failed). */
const validated = new WeakSet<Implementation>();

/** Names every way `x` misses the Implementation interface. */
export function validateImplementation(x: unknown, where: string, options: LoadOptions = {}): Implementation {
  const problems: string[] = [];
  if (isThenable(x)) {
    // A rejection would otherwise end the process after this message.
    Promise.resolve(x).catch(() => undefined);
    throw new UserError(`${where} exports a promise, not an implementation: export the object itself (\`export default { name, profile, description, create(env) }\`)`);
  }
  if (typeof x !== 'object' || x === null) {
    throw new UserError(`${where} does not export an implementation: expected \`export default { name, profile, description, create(env) }\` (or a named export \`implementation\`)`);
  }
  // Read once, each field: a getter that throws is the module's mistake.
  const o: Record<string, unknown> = {};
  for (const k of ['name', 'profile', 'description', 'create']) {
    try {
      o[k] = (x as Record<string, unknown>)[k];
    } catch (e) {
      throw new UserError(`${where} does not fit the Implementation interface: reading its \`${k}\` threw: ${describeThrown(e)}`);
    }
  }
  // A name is printed in one-line errors and report titles.
  if (typeof o.name !== 'string' || o.name === '' || /[\u0000-\u001f\u007f\u2028\u2029]/.test(o.name)) problems.push('`name` (a non-empty string on one line)');
  if (typeof o.profile !== 'string' || profileByName(o.profile) === undefined) {
    problems.push(`\`profile\` (one of ${PROFILE_NAMES.join(', ')})`);
  }
  if (typeof o.create !== 'function') problems.push('`create(env)` (a function returning an instance)');
  if (o.description !== undefined && typeof o.description !== 'string') problems.push('`description` (a string)');
  if (problems.length > 0) throw new UserError(`${where} does not fit the Implementation interface: missing or wrong ${problems.join(', ')}`);
  const impl: Implementation = {
    name: o.name as string,
    profile: o.profile as Implementation['profile'],
    description: (o.description as string | undefined) ?? '',
    // Called as a method of what the module exported, as the module wrote
    // it: a class's create() reads its own fields through `this`.
    create: (env) => (o.create as Implementation['create']).call(x, env),
  };
  // Try one instance so a bad shape is reported now, not as a crash later.
  const bound = options.createTimeout ?? DEFAULT_OP_TIMEOUT;
  createWithin(() => createInstance(impl, { profile: profileByName(impl.profile)!, ledger: new Ledger() }), bound);
  // The probe runs ops, and an op may never return: that is a finding the
  // searches report, so a probe that runs out of time proves nothing.
  // Without a bound nothing could stop it, and it is not run.
  if (bound > 0) {
    try {
      createWithin(() => requireFreshInstances(impl), bound);
    } catch (e) {
      if (!isA(e, DidNotReturn)) throw e;
    }
  }
  validated.add(impl);
  return impl;
}
