import { describe, expect, it } from 'vitest';
import { Ledger } from '../model/ledger.ts';

describe('ledger', () => {
  it('frees a buffer when its last reference goes, and keeps the history', () => {
    const l = new Ledger();
    const h = l.alloc('skb', 'rx', 'rcv', 7);
    l.get(h, 'req0', 'conn_request');
    l.put(h, 'rx', 'consume');
    expect(l.isLive(h)).toBe(true);
    l.put(h, 'req0', 'destructor');
    expect(l.isLive(h)).toBe(false);
    expect(l.history(h).map((e) => `${e.kind}:${e.owner}:${e.refs}`)).toEqual(['alloc:rx:1', 'get:req0:2', 'put:rx:1', 'free:req0:0']);
    expect(l.checkQuiescent()).toEqual([]);
    expect(l.allViolations()).toEqual([]);
  });

  it('reports a double free', () => {
    const l = new Ledger();
    const h = l.alloc('skb', 'a', 'x');
    l.put(h, 'a', 'first');
    l.put(h, 'a', 'second');
    expect(l.allViolations().map((v) => [v.kind, v.site])).toEqual([['double-free', 'second']]);
  });

  it('reports a use after free on read and on get', () => {
    const l = new Ledger();
    const h = l.alloc('kmalloc', 'a', 'x');
    l.put(h, 'a', 'free');
    l.read(h, 'b', 'copy_to_user');
    l.get(h, 'c', 'skb_get');
    expect(l.allViolations().map((v) => v.kind)).toEqual(['use-after-free', 'use-after-free']);
  });

  it('reports a put by an owner that never took a reference, even while others hold one', () => {
    const l = new Ledger();
    const h = l.alloc('skb', 'a', 'x');
    l.get(h, 'b', 'y');
    l.put(h, 'c', 'stray');
    expect(l.allViolations().map((v) => [v.kind, v.owner])).toEqual([['put-without-ref', 'c']]);
  });

  it('reports a count driven below zero', () => {
    const l = new Ledger();
    const h = l.alloc('skb', 'a', 'x');
    l.get(h, 'a', 'y');
    l.put(h, 'b', 'stray1');
    l.put(h, 'c', 'stray2');
    expect(l.allViolations().map((v) => v.kind)).toEqual(['put-without-ref', 'put-without-ref']);
    l.put(h, 'a', 'late');
    expect(l.allViolations().map((v) => v.kind)).toEqual(['put-without-ref', 'put-without-ref', 'negative-count']);
  });

  it('reports leaks at quiescence, blamed on the holders, with the site of the last reference taken', () => {
    const l = new Ledger();
    const h = l.alloc('skb', 'rx', 'rcv', 3);
    l.get(h, 'sk1', 'accept');
    l.put(h, 'rx', 'consume');
    const leaks = l.checkQuiescent();
    expect(leaks).toHaveLength(1);
    expect(leaks[0]).toMatchObject({ kind: 'leak', owner: 'sk1', site: 'accept', conn: 3 });
  });

  it('treats handle 0 as NULL: releasing or reading it does nothing', () => {
    const l = new Ledger();
    l.put(0, 'a', 'consume_skb(NULL)');
    l.read(0, 'a', 'x');
    expect(l.get(0, 'a', 'x')).toBe(0);
    expect(l.allViolations()).toEqual([]);
  });

  it('moves a reference between owners without changing the count', () => {
    const l = new Ledger();
    const h = l.alloc('kmalloc', 'req0', 'record');
    l.transfer(h, 'req0', 'sk1', 'move');
    expect(l.refs(h)).toBe(1);
    l.put(h, 'sk1', 'free');
    expect(l.allViolations()).toEqual([]);
    expect(l.isLive(h)).toBe(false);
  });
});
