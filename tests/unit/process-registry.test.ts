// The process driver's image registry: shipped images, tags, files that add entries, and errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnknownImageError } from '../../src/node/drivers/driver.js';
import { ImageRegistry, RegistryError, untagged } from '../../src/node/drivers/process-registry.js';

const dir = mkdtempSync(join(tmpdir(), 'fnguard-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('process image registry', () => {
  it('ships the project functions, run by this Node from dist/', () => {
    const registry = ImageRegistry.load();
    for (const name of ['primes', 'echo', 'sleep', 'crash', 'garble']) {
      const entry = registry.resolve(`localhost/fnlb-guard/${name}`);
      expect(entry).toMatchObject({ command: process.execPath, readyFd: true, isNode: true });
      expect(entry.args).toEqual([expect.stringMatching(new RegExp(`/dist/src/functions/${name}\\.js$`))]);
    }
  });

  it('resolves tags and digests to the untagged entry, keeping a registry port', () => {
    const registry = ImageRegistry.load();
    expect(registry.resolve('localhost/fnlb-guard/primes:latest')).toEqual(
      registry.resolve('localhost/fnlb-guard/primes'),
    );
    expect(registry.resolve('localhost/fnlb-guard/primes:0.0.1')).toEqual(
      registry.resolve('localhost/fnlb-guard/primes'),
    );
    expect(untagged('localhost:5000/localhost/fnlb-guard/echo:1.2')).toBe(
      'localhost:5000/localhost/fnlb-guard/echo',
    );
    expect(untagged('localhost/fnlb-guard/echo@sha256:abc')).toBe('localhost/fnlb-guard/echo');
    expect(untagged('localhost:5000/localhost/fnlb-guard/echo')).toBe(
      'localhost:5000/localhost/fnlb-guard/echo',
    );
  });

  it('refuses unknown images with a message naming the image and FN_PROCESS_IMAGES', () => {
    const registry = ImageRegistry.load();
    expect(() => registry.resolve('acme/nope:1')).toThrow(UnknownImageError);
    expect(() => registry.resolve('acme/nope:1')).toThrow(/"acme\/nope:1".*FN_PROCESS_IMAGES/);
  });

  it('adds and overrides entries from a file; relative paths are relative to the file; exact tags win', () => {
    const path = file('images.json', {
      images: {
        'acme/hello': { command: 'node', args: ['./hello.js', '--flag'], ready: 'fd' },
        'acme/hello:2': { command: '/bin/cat' },
        'localhost/fnlb-guard/echo': { command: '../bin/echo-alt' },
      },
    });
    const registry = ImageRegistry.load(path);
    expect(registry.resolve('acme/hello:1')).toEqual({
      command: process.execPath,
      args: [join(dir, 'hello.js'), '--flag'],
      readyFd: true,
      isNode: true,
    });
    expect(registry.resolve('acme/hello:2')).toEqual({
      command: '/bin/cat',
      args: [],
      readyFd: false,
      isNode: false,
    });
    expect(registry.resolve('localhost/fnlb-guard/echo').command).toBe(join(dir, '../bin/echo-alt'));
    expect(registry.resolve('localhost/fnlb-guard/primes').isNode).toBe(true);
  });

  it('reports a malformed file naming it and the bad entry', () => {
    expect(() => ImageRegistry.load(file('bad.json', '{nope'))).toThrow(RegistryError);
    expect(() => ImageRegistry.load(file('shape.json', { 'acme/x': {} }))).toThrow(/expected \{"images"/);
    expect(() => ImageRegistry.load(file('entry.json', { images: { 'acme/x': { command: '' } } }))).toThrow(
      /image "acme\/x": "command"/,
    );
    expect(() =>
      ImageRegistry.load(file('ready.json', { images: { 'acme/x': { command: 'a', ready: 'x' } } })),
    ).toThrow(/"ready"/);
    expect(() => ImageRegistry.load(join(dir, 'missing.json'))).toThrow(/missing\.json/);
  });
});
