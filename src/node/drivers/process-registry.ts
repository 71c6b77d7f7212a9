// The process driver's image registry: image name -> command. The shipped default maps the project's
// functions (localhost/fnlb-guard/primes, echo, sleep, crash, garble) to their compiled entries under dist/; a JSON
// file named by FN_PROCESS_IMAGES adds or overrides entries:
//   {"images": {"acme/hello": {"command": "node", "args": ["./hello.js"], "ready": "fd"}}}
// "node" means the Node binary running fn-node; a command or argument starting with ./ or ../ is
// relative to the file's folder. "ready": "fd" says the program signals readiness on FN_READY_FD (the
// FDK does), so start time is measured to the moment it can take calls; "spawn" (default) counts it
// ready once the process exists.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FUNCTION_IMAGES, functionEntry } from '../../common/function-images.js';
import { UnknownImageError } from './driver.js';

export interface ImageCommand {
  command: string;
  args: string[];
  /** The program signals readiness on FN_READY_FD. */
  readyFd: boolean;
  /** The command is Node itself, so heap flags apply. */
  isNode: boolean;
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

function relativeTo(baseDir: string, value: string): string {
  return value.startsWith('./') || value.startsWith('../') ? resolve(baseDir, value) : value;
}

function parseEntry(name: string, raw: unknown, baseDir: string): ImageCommand {
  const entry = raw as { command?: unknown; args?: unknown; ready?: unknown } | null;
  const where = `image ${JSON.stringify(name)}`;
  if (typeof entry !== 'object' || entry === null) throw new RegistryError(`${where}: expected an object`);
  if (typeof entry.command !== 'string' || entry.command === '') {
    throw new RegistryError(`${where}: "command" must be a non-empty string`);
  }
  const args = entry.args ?? [];
  if (!Array.isArray(args) || !args.every((arg) => typeof arg === 'string')) {
    throw new RegistryError(`${where}: "args" must be a list of strings`);
  }
  const ready = entry.ready ?? 'spawn';
  if (ready !== 'fd' && ready !== 'spawn')
    throw new RegistryError(`${where}: "ready" must be "fd" or "spawn"`);
  const isNode = entry.command === 'node';
  return {
    command: isNode ? process.execPath : relativeTo(baseDir, entry.command),
    args: args.map((arg) => relativeTo(baseDir, arg)),
    readyFd: ready === 'fd',
    isNode,
  };
}

/** Parses a registry document; relative paths resolve against `baseDir`. */
export function parseRegistry(document: unknown, baseDir: string): Map<string, ImageCommand> {
  const images = (document as { images?: unknown } | null)?.images;
  if (typeof images !== 'object' || images === null || Array.isArray(images)) {
    throw new RegistryError('expected {"images": {"<image>": {"command": ..., "args": [...]}}}');
  }
  return new Map(Object.entries(images).map(([name, raw]) => [name, parseEntry(name, raw, baseDir)]));
}

function defaultImages(): Map<string, ImageCommand> {
  return new Map(
    Object.entries(FUNCTION_IMAGES).map(([image, name]) => [
      image,
      { command: process.execPath, args: [functionEntry(name)], readyFd: true, isNode: true },
    ]),
  );
}

/** `repo/name:tag` or `repo/name@sha256:...` without its tag or digest; a registry port is kept. */
export function untagged(image: string): string {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(0, colon) : name;
}

export class ImageRegistry {
  private constructor(
    private readonly images: Map<string, ImageCommand>,
    /** Where the entries came from, for error messages. */
    readonly source: string,
  ) {}

  /** The shipped functions, plus the entries of `file` (FN_PROCESS_IMAGES) when given. */
  static load(file?: string): ImageRegistry {
    const images = defaultImages();
    if (file === undefined) return new ImageRegistry(images, 'the shipped registry');
    const path = isAbsolute(file) ? file : resolve(file);
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new RegistryError(`FN_PROCESS_IMAGES ${path}: ${(error as Error).message}`);
    }
    try {
      for (const [name, entry] of parseRegistry(document, dirname(path))) images.set(name, entry);
    } catch (error) {
      throw new RegistryError(`FN_PROCESS_IMAGES ${path}: ${(error as Error).message}`);
    }
    return new ImageRegistry(images, `the shipped registry and ${path}`);
  }

  /** Every command and argument that names an existing file: what an instance must be able to read. */
  files(): string[] {
    const paths = [...this.images.values()].flatMap((entry) => [entry.command, ...entry.args]);
    return [...new Set(paths.filter((path) => isAbsolute(path) && existsSync(path)))];
  }

  /** The same registry with every command and argument passed through `move` (a staged copy's path). */
  relocated(move: (path: string) => string): ImageRegistry {
    const images = new Map(
      [...this.images].map(([name, entry]) => [
        name,
        { ...entry, command: move(entry.command), args: entry.args.map(move) },
      ]),
    );
    return new ImageRegistry(images, this.source);
  }

  /** Exact name first; a tagged name (`:latest`, `:0.0.1`) falls back to the untagged entry. */
  resolve(image: string): ImageCommand {
    const entry = this.images.get(image) ?? this.images.get(untagged(image));
    if (entry === undefined) {
      throw new UnknownImageError(
        `image ${JSON.stringify(image)} is not in ${this.source} of the process driver (set FN_PROCESS_IMAGES)`,
      );
    }
    return entry;
  }
}
