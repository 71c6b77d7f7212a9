// http-stream's socket directory, as both drivers give it (Fn calls it the iofs directory): one per
// instance, named to the function in FN_LISTENER as `unix:<dir as the instance sees it>/lsnr.sock`.
// The function listens on a socket of another name there and then links lsnr.sock to it by a relative
// name: the link appearing is the instance's readiness. The node refuses a link that is not relative
// or leaves the directory (it would have the node connect wherever the function chose, say the
// Docker engine's socket), a lsnr.sock that is no link, and a link to anything but a socket.
import {
  chmodSync,
  chownSync,
  type FSWatcher,
  lstatSync,
  mkdirSync,
  readlinkSync,
  rmSync,
  watch,
} from 'node:fs';
import { join, posix } from 'node:path';
import { type Instance, StartError } from './driver.js';
import { awaitReadiness } from './instance.js';

export const LISTENER_LINK = 'lsnr.sock';
/** A unix socket's path holds at most 107 bytes (108 with its terminating zero). */
const MAX_SOCKET_PATH_BYTES = 107;
/** Between looks at the directory, besides the file system's own notices. */
const POLL_MS = 50;

/** FN_LISTENER for a socket directory at `dir` as the instance sees it. */
export function listenerVariable(dir: string): string {
  return `unix:${posix.join(dir, LISTENER_LINK)}`;
}

/**
 * The name, in the socket directory, of what lsnr.sock links to; an Error saying why when the link
 * may not be followed: absolute, or naming anything but an entry of its own directory (a `/` in it
 * could climb out, directly or through another link).
 */
export function linkedName(target: string): string {
  const shown = JSON.stringify(target.slice(0, 200));
  if (target.startsWith('/'))
    throw new Error(`${LISTENER_LINK} links to ${shown}, an absolute path: the link must be relative`);
  if (target.includes('/') || target === '' || target === '.' || target === '..')
    throw new Error(
      `${LISTENER_LINK} links to ${shown}, which leaves its directory: the link must name a socket beside it`,
    );
  if (target === LISTENER_LINK) throw new Error(`${LISTENER_LINK} links to itself`);
  return target;
}

/**
 * What lsnr.sock in `dir` says now: undefined while there is none, else the node's path of the socket
 * it links; an Error when the link is one the node refuses.
 */
export function readListener(dir: string): string | undefined {
  const link = join(dir, LISTENER_LINK);
  let isLink: boolean;
  try {
    isLink = lstatSync(link).isSymbolicLink();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!isLink) throw new Error(`${LISTENER_LINK} is not a symbolic link to the function's socket`);
  const name = linkedName(readlinkSync(link));
  const socket = join(dir, name);
  let isSocket = false;
  try {
    isSocket = lstatSync(socket).isSocket();
  } catch {
    // missing
  }
  if (!isSocket) throw new Error(`${LISTENER_LINK} links to ${JSON.stringify(name)}, which is not a socket`);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES)
    throw new Error(
      `the socket's path ${socket} is over the ${MAX_SOCKET_PATH_BYTES} bytes a unix socket may have`,
    );
  return socket;
}

/**
 * Resolves with the node's path of the function's socket once lsnr.sock links one in `dir`; rejects
 * with a StartError naming `image` and what is wrong when the link is refused. `cancel` stops looking.
 */
export function listenerLinked(dir: string, image: string): { linked: Promise<string>; cancel(): void } {
  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  const cancel = () => {
    watcher?.close();
    clearInterval(timer);
  };
  const linked = new Promise<string>((resolve, reject) => {
    const look = () => {
      try {
        const socket = readListener(dir);
        if (socket === undefined) return;
        cancel();
        resolve(socket);
      } catch (error) {
        cancel();
        reject(new StartError(`${image}: ${(error as Error).message}`));
      }
    };
    try {
      watcher = watch(dir, look);
      watcher.on('error', () => {});
    } catch {
      // no notices here: the polling below sees it
    }
    timer = setInterval(look, POLL_MS);
    look();
  });
  return { linked, cancel };
}

/** Removes a socket directory and what the function left in it; what cannot be removed stays. */
export function removeSocketDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // a file the node may not remove (the function's, in a folder of its own): left for the OS
  }
}

/**
 * The directory the socket directories go in, made this node's own: created 0700 when missing, and
 * refused when it is a link or not a directory, or belongs to another user (who could swap a socket
 * directory and receive the calls). A root node takes one made for it by another user (a topology
 * that mounts it in) as its own. Its mode becomes 0700 whatever it was.
 */
export function ownSocketRoot(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  const stat = lstatSync(path);
  if (stat.isSymbolicLink() || !stat.isDirectory()) {
    throw new Error(
      `the socket directory ${path} (FN_IOFS_PATH) is not a directory of its own: a link or a file`,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    if (uid !== 0) {
      throw new Error(
        `the socket directory ${path} (FN_IOFS_PATH) belongs to uid ${stat.uid}, not this node's ${uid}: choose another`,
      );
    }
    chownSync(path, 0, 0);
  }
  chmodSync(path, 0o700);
}

/**
 * Waits, within `timeoutMs`, for the instance to link its listener in `dir`, or rejects as a start
 * that failed (it ended first, the link is refused, or it came too late); answers the socket's path.
 */
export async function awaitListener(
  dir: string,
  instance: Instance,
  image: string,
  timeoutMs: number,
): Promise<string> {
  const { linked, cancel } = listenerLinked(dir, image);
  try {
    return await awaitReadiness(
      linked,
      instance,
      image,
      timeoutMs,
      `link ${LISTENER_LINK} in its FN_LISTENER directory`,
    );
  } finally {
    cancel();
  }
}
