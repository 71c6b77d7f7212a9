// The contract between the runner and whatever runs function instances ("containers"): the process
// driver and the Docker driver. An instance is started from an image name, speaks the
// function's format on stdin/stdout (or, in http-stream, on a unix socket in a directory of its own,
// stdout then being a log too), logs on stderr, and reports its exit exactly once.
import type { Readable, Writable } from 'node:stream';

export type DriverKind = 'docker' | 'process';

export interface InstanceSpec {
  /** The container id the runner chose: FN_CONTAINER_ID, log tags, Docker name. */
  id: string;
  image: string;
  env: Record<string, string>;
  memoryMb: number;
  /** CPUs of quota (the route's cpus, or the node's default); undefined for none. */
  cpus?: number | undefined;
  /** Tags that let leftovers be found (Docker labels). */
  labels: Record<string, string>;
  /**
   * http-stream: the instance gets a directory of its own (removed once it ended) and FN_LISTENER
   * naming `lsnr.sock` in it as the instance sees it, and is ready once lsnr.sock links, by a name
   * relative to that directory, a socket beside it (listener.ts), not by another ready signal.
   */
  listener?: boolean;
}

export interface ExitInfo {
  code: number | null;
  signal: string | null;
  /** Why the driver ended it, when it did: `stopped` on request, `memory` over its limit. */
  reason?: 'stopped' | 'memory';
}

export interface Instance {
  readonly id: string;
  /** OS process id when the instance is a local process (tests check leftovers by pid). */
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** A `listener` instance's socket, the node's path of what lsnr.sock linked once it was ready. */
  readonly listener?: string | undefined;
  /** Settles once, after the instance ended and its stdout/stderr were fully read. */
  readonly exited: Promise<ExitInfo>;
  /** Idempotent. Graceful (stdin closed, then TERM, then KILL after a grace period) unless `force`. */
  stop(options?: { force?: boolean }): Promise<ExitInfo>;
}

export interface Driver {
  readonly kind: DriverKind;
  /**
   * Resolves once the instance can take calls. Rejects with UnknownImageError for an image the
   * driver cannot run, or StartError when it failed or died while starting.
   */
  start(spec: InstanceSpec): Promise<Instance>;
  /** Stops every instance it started. */
  close(): Promise<void>;
}

export class UnknownImageError extends Error {
  override readonly name = 'UnknownImageError';
}

export class StartError extends Error {
  override readonly name = 'StartError';
}
