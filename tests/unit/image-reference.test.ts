// Docker's image reference grammar, as the API and the docker driver check a route's image.
import { describe, expect, it } from 'vitest';
import { engineImagePath, isImageReference } from '../../src/node/image-reference.js';

describe('image references', () => {
  it.each([
    'localhost/fnlb-guard/primes',
    'primes',
    'localhost/fnlb-guard/primes:0.0.1',
    'registry.example.com:5000/team/fn-hello_world:1.2.3-rc1',
    'localhost:5000/a/b/c',
    'ubuntu@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
    'a__b/c.d-e--f',
  ])('accepts %s', (name) => {
    expect(isImageReference(name)).toBe(true);
  });

  it.each([
    '',
    'fnguard/Primes',
    '../../containers/json',
    'localhost/fnlb-guard/primes/../../version',
    'a b',
    'localhost/fnlb-guard/primes?all=1',
    'localhost/fnlb-guard/primes#x',
    'name:',
    'name:-tag',
    '-leading',
    `${'a'.repeat(256)}`,
    'fnguard//primes',
    'fnguard/%2e%2e',
  ])('refuses %j', (name) => {
    expect(isImageReference(name)).toBe(false);
  });

  it('encodes each part of a name for an Engine API path, keeping the slashes', () => {
    expect(engineImagePath('localhost:5000/team/fn:1.0')).toBe('localhost%3A5000/team/fn%3A1.0');
  });
});
