// The parsers of the settings table: each turns the text a flag, variable or action input gave into
// the setting's typed value, or throws ValueError saying what was expected; the resolver puts the
// spelling the user wrote in front of that message (`--topology: expected one of ...`).
import { isAbsolute, resolve } from 'node:path';
import { isImageReference } from '../../src/node/image-reference.js';

export class ValueError extends Error {
  override readonly name = 'ValueError';
}

export type Parser<T> = (raw: string, cwd: string) => T;

export const text: Parser<string> = (raw) => raw;

/** What image names start with: a registry and path such that `<prefix>sleep` is an image reference. */
export const imagePrefix: Parser<string> = (raw) => {
  const value = raw.trim();
  if (!isImageReference(`${value}sleep`)) {
    throw new ValueError(
      `expected the start of an image name such as registry.example.com/team/fnlb-guard/, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
};

/** One of a fixed set of words. */
export function oneOf<const T extends string>(choices: readonly T[]): Parser<T> & { choices: readonly T[] } {
  const parse = (raw: string): T => {
    const value = raw.trim();
    if (!(choices as readonly string[]).includes(value)) {
      throw new ValueError(`expected one of ${choices.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return value as T;
  };
  return Object.assign(parse, { choices });
}

const TRUE = ['1', 'true', 'yes', 'on'];
const FALSE = ['0', 'false', 'no', 'off'];

export const yesNo: Parser<boolean> = (raw) => {
  const value = raw.trim().toLowerCase();
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new ValueError(`expected 1 or 0 (true/false, yes/no), got ${JSON.stringify(raw)}`);
};

export const finiteNumber: Parser<number> = (raw) => {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isFinite(value))
    throw new ValueError(`${JSON.stringify(raw)} is not a number`);
  return value;
};

export const positiveNumber: Parser<number> = (raw, cwd) => {
  const value = finiteNumber(raw, cwd);
  if (value <= 0) throw new ValueError(`expected a number above 0, got ${JSON.stringify(raw)}`);
  return value;
};

const HOST_PORT = /^[A-Za-z0-9_.-]+:\d{1,5}$/;

/** host:port, also given as a URL (http://host:port/), as the balancer and the nodes are named. */
export const hostPort: Parser<string> = (raw) => {
  const value = raw
    .trim()
    .replace(/^https?:\/\//, '')
    .replace(/\/$/, '');
  if (!HOST_PORT.test(value)) throw new ValueError(`expected host:port, got ${JSON.stringify(raw)}`);
  return value;
};

/** Comma-separated host:port. */
export const hostPorts: Parser<string[]> = (raw, cwd) => {
  const items = raw
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  if (items.length === 0) throw new ValueError('expected host:port,host:port,...; got nothing');
  return items.map((item) => hostPort(item, cwd));
};

/** A path, made absolute against the caller's directory (the guard runs with the package as its root). */
export const path: Parser<string> = (raw, cwd) => (isAbsolute(raw) ? raw : resolve(cwd, raw));

/** A path, or nothing at all when empty (a directory that may be switched off). */
export const pathOrNone: Parser<string> = (raw, cwd) => (raw.trim() === '' ? '' : path(raw, cwd));

/** A Docker engine address: unix:///path (or a bare path) to the engine's socket path. */
export const engineSocket: Parser<string> = (raw) => {
  const value = raw.trim();
  if (value.startsWith('unix://')) return value.slice('unix://'.length);
  if (value.startsWith('/')) return value;
  throw new ValueError(`expected unix:///path/to/docker.sock, got ${JSON.stringify(raw)}`);
};

/** Comma-separated words from a fixed set, at least one. */
export function listOf<const T extends string>(choices: readonly T[], what: string): Parser<T[]> {
  return (raw) => {
    const items = raw
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    const unknown = items.filter((item) => !(choices as readonly string[]).includes(item));
    if (items.length === 0 || unknown.length > 0) {
      throw new ValueError(`unknown ${what} ${unknown.join(', ') || '(none)'}; known: ${choices.join(', ')}`);
    }
    return items as T[];
  };
}

/**
 * An environment template: `KEY=value` pairs separated by spaces, whose values may hold the given
 * placeholders.
 */
export function envTemplate(placeholders: readonly string[]): Parser<string> {
  const values = template(placeholders);
  return (raw, cwd) => {
    for (const pair of raw.split(/\s+/).filter(Boolean)) {
      if (pair.indexOf('=') <= 0) throw new ValueError(`${JSON.stringify(pair)} is not KEY=value`);
    }
    return values(raw, cwd);
  };
}

/** Placeholders `{name}` a template may hold; an unknown one is an error naming the known ones. */
export function template(placeholders: readonly string[]): Parser<string> {
  return (raw) => {
    for (const match of raw.matchAll(/\{([a-z_]+)\}/g)) {
      if (!placeholders.includes(match[1] as string)) {
        throw new ValueError(
          `unknown placeholder ${match[0]}; known: ${placeholders.map((name) => `{${name}}`).join(' ')}`,
        );
      }
    }
    return raw;
  };
}
