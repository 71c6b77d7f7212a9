// Retrying needs the request body again, so bodies up to the replay budget's per-request limit
// (1 MiB, far above what function calls carry) are read into memory first, while the budget's total
// allows. A larger body, or one that finds the budget spent, streams straight to the first node
// chosen and gets that one attempt only.
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { ReplayBudget } from './replay-budget.js';

/** Largest request body kept in memory for a retry. */
export const BODY_BUFFER_LIMIT = 1024 * 1024;

export type RequestBody =
  | { kind: 'buffered'; data: Buffer | null; reserved: number }
  | { kind: 'stream'; data: Readable; reserved: 0 };

const NO_BODY: RequestBody = { kind: 'buffered', data: null, reserved: 0 };

/**
 * Reads the body into memory while it fits the replay budget (reserving its size as it arrives);
 * past that, returns a stream of the whole body with nothing reserved.
 */
export function readBody(req: IncomingMessage, budget: ReplayBudget): Promise<RequestBody> {
  // No body at all (most calls: GET without Content-Length or Transfer-Encoding): nothing to read.
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    return Promise.resolve(NO_BODY);
  }
  // Absent (chunked): 0, and the budget is taken as the chunks arrive.
  const declared = Number(req.headers['content-length'] ?? 0) || 0;
  const limit = budget.perRequest;
  if (declared > limit || (declared > 0 && !budget.take(declared))) {
    return Promise.resolve({ kind: 'stream', data: req, reserved: 0 });
  }
  let reserved = declared;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > reserved && size <= limit && budget.take(size - reserved)) reserved = size;
      if (size <= reserved) return;
      // Over the per-request limit or the total: hand back what was taken and stream the rest.
      budget.give(reserved);
      req.pause();
      cleanup();
      async function* whole() {
        yield* chunks;
        yield* req;
      }
      resolve({ kind: 'stream', data: Readable.from(whole(), { objectMode: false }), reserved: 0 });
    };
    const onEnd = () => {
      cleanup();
      // A body shorter than it declared never gets here (the parser waits for the rest, then the
      // request timeout closes the connection); a chunked one reserved exactly its size.
      if (reserved > size) {
        budget.give(reserved - size);
        reserved = size;
      }
      resolve({ kind: 'buffered', data: size === 0 ? null : Buffer.concat(chunks, size), reserved });
    };
    const onError = (error: Error) => {
      cleanup();
      budget.give(reserved);
      reject(error);
    };
    const onClose = () => {
      if (!req.complete) onError(new Error('client closed the request'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
