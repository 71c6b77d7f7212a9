// The output of what a run started, kept as files for a CI job to upload when a run fails: one file per
// process (ManagedProcess) or container (the containers topology, at teardown). The directory is the
// one this process was given (keepRunLogsIn: the guard's logs setting), else FNG_LOGS, which this
// repository's Vitest config sets for its test workers (empty or unset: none kept). Each file is
// bounded, so a chatty process cannot fill the disk; the last lines are also kept in memory for
// messages.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Bytes kept per file: the start of a log says how a process came up, and failures end runs early. */
const LOG_FILE_LIMIT = 8 * 1024 * 1024;

export interface RunLog {
  write(chunk: Buffer | string): void;
  close(): void;
}

const NONE: RunLog = { write() {}, close() {} };

let runLogDir: string | undefined;

/**
 * Keeps this process's run logs in `dir` ('' for none), emptied of an earlier run's log files first
 * (only those: the directory may hold others).
 */
export function keepRunLogsIn(dir: string): void {
  runLogDir = dir;
  if (dir !== '' && existsSync(dir)) {
    for (const file of readdirSync(dir)) if (file.endsWith('.log')) rmSync(join(dir, file), { force: true });
  }
}

/** A file for `label`'s output; a no-op when logs are not kept or the file cannot be made. */
export function openRunLog(label: string): RunLog {
  const dir = runLogDir ?? process.env.FNG_LOGS;
  if (!dir) return NONE;
  let fd: number;
  try {
    mkdirSync(dir, { recursive: true });
    const name = `${label.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 80)}-${Date.now().toString(36)}-${process.pid}.log`;
    fd = openSync(join(dir, name), 'a');
  } catch {
    return NONE;
  }
  let written = 0;
  let open = true;
  return {
    write(chunk) {
      if (!open || written >= LOG_FILE_LIMIT) return;
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      const part = bytes.subarray(0, LOG_FILE_LIMIT - written);
      written += part.length;
      try {
        writeSync(fd, part);
        if (written >= LOG_FILE_LIMIT) writeSync(fd, `\n[log cut at ${LOG_FILE_LIMIT} bytes]\n`);
      } catch {
        open = false;
      }
    },
    close() {
      if (!open) return;
      open = false;
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}

/** A container's log as Docker returns it without a TTY: frames of [stream, 0, 0, 0, size BE32]. */
export function demuxDockerLog(buffer: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    parts.push(buffer.subarray(offset + 8, offset + 8 + size));
    offset += 8 + size;
  }
  return Buffer.concat(parts);
}
