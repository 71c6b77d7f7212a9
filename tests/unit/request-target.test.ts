// The one reading of a request target that fnlb hashes and fn-node routes: spellings of one path
// agree, targets two programs could read differently are refused with the reason.
import { describe, expect, it } from 'vitest';
import { parseRequestTarget } from '../../src/common/request-target.js';

describe('parseRequestTarget', () => {
  it.each([
    ['/r/app/route', '/r/app/route', ''],
    ['/r/app/route/', '/r/app/route', ''],
    ['/r/app//route', '/r/app/route', ''],
    ['//r/app/route///', '/r/app/route', ''],
    ['/r/app/%72oute', '/r/app/route', ''],
    ['/%72/app/route', '/r/app/route', ''],
    ['/r/app/route?x=1&y=%2F', '/r/app/route', '?x=1&y=%2F'],
    ['/r/app/route#frag', '/r/app/route', ''],
    ['/r/app/a%3ab', '/r/app/a:b', ''],
    ['/r/app/a%20b', '/r/app/a%20b', ''],
    ['/r/app/a b', '/r/app/a%20b', ''],
    ['/r/app/%c3%a9t%C3%A9', '/r/app/%C3%A9t%C3%A9', ''],
    ['/r/app/été', '/r/app/%C3%A9t%C3%A9', ''],
    ['http://lb:8081/r/app/route?q', '/r/app/route', '?q'],
    ['/', '/', ''],
  ])('%s -> %s %s', (target, path, query) => {
    expect(parseRequestTarget(target)).toMatchObject({ ok: true, path, query });
  });

  it('keeps the authority of an absolute-form target, in lower case', () => {
    expect(parseRequestTarget('HTTP://LB.example:8081/x')).toMatchObject({ authority: 'lb.example:8081' });
    expect(parseRequestTarget('/x')).toMatchObject({ authority: undefined });
  });

  it.each([
    ['*', 'not a path'],
    ['r/app/route', 'not a path'],
    ['/r/app/%zz', 'bad percent-escape'],
    ['/r/app/%4', 'bad percent-escape'],
    ['/r/app/a%2Fb', 'encoded "/"'],
    ['/r/app/a%00b', 'control character'],
    ['/r/app/a%0Ab', 'control character'],
    ['/r/app/%FF', 'UTF-8'],
    ['/r/app/./x', '"." or ".."'],
    ['/r/app/%2e%2E/x', '"." or ".."'],
  ])('refuses %s (%s)', (target, reason) => {
    const parsed = parseRequestTarget(target);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toContain(reason);
  });

  it('reads its own canonical form as itself (5000 generated paths, decoded or not)', () => {
    const alphabet = [
      '/',
      '/',
      'a',
      'Z',
      '9',
      '-',
      '.',
      '_',
      '~',
      '%',
      '2',
      'e',
      'F',
      '7',
      '2',
      ':',
      '@',
      ' ',
      'é',
    ];
    let seed = 42;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    let read = 0;
    for (let run = 0; run < 5000; run++) {
      const length = 1 + (next() % 20);
      const path = `/${Array.from({ length }, () => alphabet[next() % alphabet.length]).join('')}`;
      const first = parseRequestTarget(path);
      if (!first.ok) continue;
      read++;
      expect(parseRequestTarget(first.path), path).toMatchObject({ ok: true, path: first.path });
    }
    expect(read).toBeGreaterThan(1000);
  });
});
