// Every buffer the implementations hold (an skb, a kmalloc'd saved_syn) is
// allocated, referenced, released and read through the ledger, which is how
// refcount bugs become findings instead of silent corruption. Handles are
// small integers; 0 stands for NULL so `consume_skb(NULL)` reads as in C.

import { InterfaceError } from './impl/contract.ts';

export type BufferKind = 'skb' | 'kmalloc';

/** An implementation called the ledger with what it cannot record: the
 * module's mistake (exit 2), not a finding and not savedsyn's defect. */
function misused(call: string, arg: string, got: unknown, wanted: string): never {
  const shown = typeof got === 'string' ? JSON.stringify(got.length > 40 ? `${got.slice(0, 40)}…` : got) : typeof got === 'object' && got !== null ? 'an object' : String(got);
  throw new InterfaceError(`the implementation does not fit the Implementation interface: env.ledger.${call}() takes as ${arg} ${wanted}; it was given ${shown}`);
}

/** Owners and sites name what reports show: strings. */
function named(call: string, owner: unknown, site: unknown): void {
  if (typeof owner !== 'string') misused(call, 'owner', owner, 'a string');
  if (typeof site !== 'string') misused(call, 'site', site, 'a string');
}

export type LedgerEventKind = 'alloc' | 'get' | 'put' | 'free' | 'read';

export interface LedgerEvent {
  step: number;
  kind: LedgerEventKind;
  handle: number;
  owner: string;
  site: string;
  /** Reference count after the event. */
  refs: number;
}

export type ViolationKind =
  | 'double-free' | 'use-after-free' | 'put-without-ref' | 'negative-count' | 'leak';

export interface Violation {
  kind: ViolationKind;
  handle: number;
  bufferKind: BufferKind;
  /** The connection whose SYN the buffer holds, when known. */
  conn: number | undefined;
  site: string;
  owner: string;
  step: number;
  message: string;
}

/** A buffer an owner still alive holds, with its size when the allocator
 * gave one: what the feature holds at a moment. */
export interface HeldBuffer {
  handle: number;
  kind: BufferKind;
  conn: number | undefined;
  /** Bytes, or undefined when the allocation did not say. */
  size: number | undefined;
}

interface Entry {
  kind: BufferKind;
  conn: number | undefined;
  size: number | undefined;
  refs: number;
  freed: boolean;
  /** References held per owner; a put by an owner without one is a bug even
   * when the total is still positive. */
  holders: Map<string, number>;
  history: LedgerEvent[];
  /** Already reported as lost: its last pointer was overwritten. */
  lost: boolean;
  /** What held() shows of it, made the first time: its handle, kind,
   * connection and size never change. */
  shown?: HeldBuffer;
  /** `holders` and `history` may be another ledger's too (a copy shares
   * them until either side writes): copy them before writing. */
  shared: boolean;
}

/** How an owner (a socket, a request) was destroyed. */
interface Death {
  /** The function that destroyed it: a leak's signature names it. */
  site: string;
  /** The calls that led there, for the message. */
  path: string;
  step: number;
}

export class Ledger {
  private readonly entries: Entry[] = [undefined as unknown as Entry];
  private readonly violations: Violation[] = [];
  private readonly deaths = new Map<string, Death>();
  /** The harness sets this before each op so events carry their op index. */
  step = 0;
  /** held(), until a reference or a holder changes: most ops touch no
   * buffer, and the memory oracle asks after every op. */
  private heldNow: readonly HeldBuffer[] | undefined;

  /** `size`, optional so older callers still compile, is the buffer's
   * bytes: what the memory oracle adds up. */
  alloc(kind: BufferKind, owner: string, site: string, conn?: number, size?: number): number {
    if (kind !== 'skb' && kind !== 'kmalloc') misused('alloc', 'kind', kind, "'skb' or 'kmalloc'");
    if (conn !== undefined && !Number.isInteger(conn)) misused('alloc', 'conn', conn, 'a peer number or nothing');
    if (size !== undefined && !Number.isInteger(size)) misused('alloc', 'size', size, 'a byte count or nothing');
    named('alloc', owner, site);
    this.heldNow = undefined;
    const handle = this.entries.length;
    // Not new Map([[owner, 1]]): iterating an array literal costs more than
    // the set, on every buffer the implementations allocate.
    const holders = new Map<string, number>();
    holders.set(owner, 1);
    const entry: Entry = { kind, conn, size, refs: 1, freed: false, holders, history: [], lost: false, shared: false, shown: undefined };
    this.entries.push(entry);
    this.record(handle, entry, 'alloc', owner, site);
    return handle;
  }

  /** skb_get(): another reference, for `owner`. Returns the handle, like C. */
  get(handle: number, owner: string, site: string): number {
    if (handle === 0) return 0;
    named('get', owner, site);
    this.heldNow = undefined;
    const e = this.entry(handle);
    if (e.freed) this.violate('use-after-free', handle, e, owner, site, 'reference taken on a freed buffer');
    unshare(e);
    e.refs += 1;
    e.holders.set(owner, (e.holders.get(owner) ?? 0) + 1);
    this.record(handle, e, 'get', owner, site);
    return handle;
  }

  /** consume_skb()/kfree_skb()/kfree(): drop `owner`'s reference; the buffer
   * is freed when the last one goes. NULL is a no-op. */
  put(handle: number, owner: string, site: string): void {
    if (handle === 0) return;
    named('put', owner, site);
    this.heldNow = undefined;
    const e = this.entry(handle);
    unshare(e);
    if (e.freed) {
      // An owner that still counts a reference of its own was robbed by
      // stray puts: the count went below zero. Anyone else frees twice.
      if ((e.holders.get(owner) ?? 0) > 0) {
        this.violate('negative-count', handle, e, owner, site, 'reference count below zero: released after strays freed it');
      } else {
        this.violate('double-free', handle, e, owner, site, 'released after it was freed');
      }
      this.record(handle, e, 'put', owner, site);
      return;
    }
    const held = e.holders.get(owner) ?? 0;
    if (held === 0) {
      this.violate('put-without-ref', handle, e, owner, site, `${owner} released a reference it never took`);
    } else if (held === 1) {
      e.holders.delete(owner);
    } else {
      e.holders.set(owner, held - 1);
    }
    e.refs -= 1;
    if (e.refs === 0) e.freed = true;
    this.record(handle, e, e.freed ? 'free' : 'put', owner, site);
  }

  /** Hand `owner`'s reference to `to` without touching the count, as when a
   * pointer moves from a request sock to its child. */
  transfer(handle: number, owner: string, to: string, site: string): void {
    if (handle === 0) return;
    this.heldNow = undefined;
    const e = this.entry(handle);
    if (e.freed) this.violate('use-after-free', handle, e, owner, site, 'moved after it was freed');
    unshare(e);
    const held = e.holders.get(owner) ?? 0;
    if (held === 0) {
      this.violate('put-without-ref', handle, e, owner, site, `${owner} handed on a reference it never held`);
    } else if (held === 1) {
      e.holders.delete(owner);
    } else {
      e.holders.set(owner, held - 1);
    }
    e.holders.set(to, (e.holders.get(to) ?? 0) + 1);
    this.record(handle, e, 'get', to, site);
  }

  /** An access to the buffer's bytes (copy_to_user, memcpy). */
  read(handle: number, reader: string, site: string): void {
    if (handle === 0) return;
    named('read', reader, site);
    const e = this.entry(handle);
    if (e.freed) this.violate('use-after-free', handle, e, reader, site, 'read after it was freed');
    unshare(e);
    this.record(handle, e, 'read', reader, site);
  }

  isLive(handle: number): boolean {
    return handle !== 0 && !this.entry(handle).freed;
  }

  refs(handle: number): number {
    return handle === 0 ? 0 : this.entry(handle).refs;
  }

  conn(handle: number): number | undefined {
    return handle === 0 ? undefined : this.entry(handle).conn;
  }

  /** `owner` is destroyed (sk_free, reqsk_free) by `site`, reached through
   * `path`: whatever it still holds can never be released, and a leak is
   * blamed on it, not on wherever a reference was last taken. */
  ownerFreed(owner: string, site: string, path = site): void {
    this.heldNow = undefined;
    this.deaths.set(owner, { site, path, step: this.step });
  }

  /** `owner`'s pointer to the buffer was overwritten while it held a
   * reference (`tp->syn_skb = NULL` over a live skb): nothing can release
   * it any more. Reported at once, where the pointer was lost, as kmemleak
   * would find it unreferenced. */
  lost(handle: number, owner: string, site: string): void {
    if (handle === 0) return;
    this.heldNow = undefined;
    const e = this.entry(handle);
    if (e.freed || e.lost || (e.holders.get(owner) ?? 0) === 0) return;
    e.lost = true;
    this.violate('leak', handle, e, owner, site, `${owner}'s only pointer to it was overwritten while it held a reference: nothing can release it`);
  }

  /** At quiescence every buffer must be free. Each survivor is a leak,
   * blamed on a holder that was destroyed without releasing it (the path
   * that destroyed it names the leak), else on a holder still alive, at the
   * last place it touched the buffer. */
  checkQuiescent(site = 'teardown'): Violation[] {
    const leaks: Violation[] = [];
    for (let h = 1; h < this.entries.length; h++) {
      const e = this.entries[h];
      if (e.freed || e.lost) continue;
      const holders = [...e.holders.keys()].sort();
      const dead = holders.find((o) => this.deaths.has(o));
      const blamed = dead ?? holders[0];
      const death = dead === undefined ? undefined : this.deaths.get(dead)!;
      const taken = [...e.history].reverse().find((ev) => ev.owner === blamed && (ev.kind === 'get' || ev.kind === 'alloc'));
      const touched = [...e.history].reverse().find((ev) => ev.owner === blamed);
      const whose = e.conn === undefined ? '' : ` (peer ${e.conn}'s SYN)`;
      const since = taken ? ` since ${taken.site}` : '';
      const message = blamed === undefined
        ? `${e.kind} #${h}${whose} still counts ${e.refs} reference(s) at quiescence, held by nobody recorded`
        : death
          ? `${e.kind} #${h}${whose} is never freed: ${blamed} held a reference${since} and was destroyed through ${death.path} without releasing it`
          : `${e.kind} #${h}${whose} is never freed: ${blamed} still holds a reference${since} at quiescence`;
      const v: Violation = {
        kind: 'leak', handle: h, bufferKind: e.kind, conn: e.conn,
        site: death?.site ?? touched?.site ?? site, owner: blamed ?? '?', step: death?.step ?? this.step, message,
      };
      leaks.push(v);
      this.violations.push(v);
    }
    return leaks;
  }

  /** Every live buffer with a holder not yet destroyed. A buffer whose
   * every holder is destroyed, or whose pointer was lost, is a leak's
   * business, not memory held. */
  held(): readonly HeldBuffer[] {
    if (this.heldNow !== undefined) return this.heldNow;
    const out: HeldBuffer[] = [];
    for (let h = 1; h < this.entries.length; h++) {
      const e = this.entries[h];
      if (e.freed || e.lost || !this.anyAlive(e.holders)) continue;
      e.shown ??= Object.freeze({ handle: h, kind: e.kind, conn: e.conn, size: e.size });
      out.push(e.shown);
    }
    this.heldNow = Object.freeze(out);
    return this.heldNow;
  }

  private anyAlive(holders: ReadonlyMap<string, number>): boolean {
    for (const o of holders.keys()) if (!this.deaths.has(o)) return true;
    return false;
  }

  allViolations(): readonly Violation[] {
    return this.violations;
  }

  history(handle: number): readonly LedgerEvent[] {
    return handle === 0 ? [] : this.entry(handle).history;
  }

  /** Handles of every buffer ever allocated, in allocation order. */
  handles(): number[] {
    return Array.from({ length: this.entries.length - 1 }, (_, i) => i + 1);
  }

  bufferKind(handle: number): BufferKind {
    return this.entry(handle).kind;
  }

  /** Become a copy of `src`: `verify` branches from a state this way.
   * Events are immutable and shared; a buffer's holders and history are
   * shared until either ledger writes them (unshare). */
  copyStateFrom(src: Ledger): void {
    this.entries.length = 1;
    for (let h = 1; h < src.entries.length; h++) {
      const e = src.entries[h];
      e.shared = true;
      this.entries.push({ ...e });
    }
    this.violations.length = 0;
    this.violations.push(...src.violations);
    this.deaths.clear();
    for (const [owner, d] of src.deaths) this.deaths.set(owner, d);
    this.step = src.step;
    this.heldNow = src.heldNow;
  }

  /** Where `owner` was destroyed, if it was: a leak it holds is named by it. */
  deathOf(owner: string): string | undefined {
    return this.deaths.get(owner)?.site;
  }

  /** Handles allocated so far (the highest handle). */
  count(): number {
    return this.entries.length - 1;
  }

  /** What decides a buffer's future, read-only, for a state hash: its
   * count, whether it is freed, and who holds its references. */
  stateOf(handle: number): { readonly refs: number; readonly freed: boolean; readonly holders: ReadonlyMap<string, number>; readonly size: number | undefined } {
    return this.entry(handle);
  }

  private entry(handle: number): Entry {
    const e = this.entries[handle];
    if (e === undefined) throw new Error(`ledger: unknown buffer handle ${handle}`);
    return e;
  }

  private record(handle: number, e: Entry, kind: LedgerEventKind, owner: string, site: string): void {
    unshare(e);
    e.history.push({ step: this.step, kind, handle, owner, site, refs: e.refs });
  }

  private violate(kind: ViolationKind, handle: number, e: Entry, owner: string, site: string, message: string): void {
    this.violations.push({ kind, handle, bufferKind: e.kind, conn: e.conn, site, owner, step: this.step, message: `${e.kind} #${handle}: ${message}` });
  }
}

/** Make a buffer's holders and history its own before writing them. */
function unshare(e: Entry): void {
  if (!e.shared) return;
  e.holders = new Map(e.holders);
  e.history = e.history.slice();
  e.shared = false;
}
