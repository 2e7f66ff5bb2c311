// The bounded text cache behind a snapshot's reads: a file read again comes from memory, the least
// recently used texts go first past the bound, and a failed read is tried again.

import { describe, expect, it } from 'vitest';
import { TextCache } from '../../src/git/text-cache.js';

function counting(texts: Record<string, string | undefined>) {
  const loads: string[] = [];
  const load = (key: string) => () => {
    loads.push(key);
    return Promise.resolve(texts[key]);
  };
  return { loads, load };
}

describe('TextCache', () => {
  it('reads a text once however often it is asked for, and while the first read is under way', async () => {
    const cache = new TextCache(100);
    const { loads, load } = counting({ a: 'alpha' });
    const [x, y] = await Promise.all([cache.get('a', load('a')), cache.get('a', load('a'))]);
    expect(await cache.get('a', load('a'))).toBe('alpha');
    expect([x, y]).toEqual(['alpha', 'alpha']);
    expect(loads).toEqual(['a']);
    expect(cache.size).toBe(5);
  });

  it('keeps at most its bound, dropping the least recently used first', async () => {
    const cache = new TextCache(10);
    const { loads, load } = counting({ a: 'aaaa', b: 'bbbb', c: 'cccc' });
    await cache.get('a', load('a'));
    await cache.get('b', load('b'));
    // a is used again, so b is now the oldest
    await cache.get('a', load('a'));
    await cache.get('c', load('c'));
    expect(cache.size).toBe(8);
    await cache.get('a', load('a'));
    await cache.get('c', load('c'));
    expect(loads).toEqual(['a', 'b', 'c']);
    await cache.get('b', load('b'));
    expect(loads).toEqual(['a', 'b', 'c', 'b']);
    expect(cache.size).toBeLessThanOrEqual(10);
  });

  it('holds nothing for a text longer than the bound', async () => {
    const cache = new TextCache(3);
    const { loads, load } = counting({ big: 'too long' });
    expect(await cache.get('big', load('big'))).toBe('too long');
    expect(cache.size).toBe(0);
    await cache.get('big', load('big'));
    expect(loads).toEqual(['big', 'big']);
  });

  it('does not keep a failed read: the next get reads again', async () => {
    const cache = new TextCache(100);
    let calls = 0;
    const flaky = () => (++calls === 1 ? Promise.reject(new Error('git cat-file exited')) : Promise.resolve('text'));
    await expect(cache.get('f', flaky)).rejects.toThrow('git cat-file exited');
    expect(await cache.get('f', flaky)).toBe('text');
    expect(calls).toBe(2);
  });

  it('keeps a missing file as missing (undefined), read once', async () => {
    const cache = new TextCache(100);
    const { loads, load } = counting({});
    expect(await cache.get('gone', load('gone'))).toBeUndefined();
    expect(await cache.get('gone', load('gone'))).toBeUndefined();
    expect(loads).toEqual(['gone']);
  });
});
