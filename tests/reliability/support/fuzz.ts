// What the fuzz files (fuzz-node, fuzz-lb) share: sending one generated request with undici under a
// deadline (or as raw bytes), judging an answer against what docs/node.md documents (which 5xx exist, the
// error shapes), and watching a process's log for what must never appear in it.
import type { Readable } from 'node:stream';
import { Client, type Dispatcher } from 'undici';
import { type RawAnswer, rawRequest } from '../../../guard/measure/raw-http.js';
import { parseRequestTarget } from '../../../src/common/request-target.js';

/** Every request's deadline: no generated request may hold a connection longer than this. */
export const REQUEST_TIMEOUT_MS = 15_000;
/** What is read of an answer's body; more is drained unread (a flood answer may be megabytes). */
const BODY_KEPT_BYTES = 1024 * 1024;

export interface FuzzRequest {
  method: string;
  /** Origin-form (or other) target, sent as given. */
  target: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

export type Answer =
  | { kind: 'answer'; status: number; headers: Record<string, string>; body: string }
  /** undici would not send it (a header or method it refuses): the raw lane covers those bytes. */
  | { kind: 'unsendable'; error: string }
  /**
   * The server closed the connection while the client was still writing a body (EPIPE, reset): it
   * may answer before reading a body and close (RFC 9112 9.6), which a client that is writing sees as
   * a failed write. Tallied and bounded by the callers, never taken for an answer.
   */
  | { kind: 'closed-early'; error: string }
  /** The connection failed or the deadline passed: judged as a failure by the caller. */
  | { kind: 'failed'; error: string };

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  return out;
}

async function readKept(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (kept < BODY_KEPT_BYTES) chunks.push(chunk);
    kept += chunk.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** undici's refusals of a request it was given (not a network failure). */
const CLIENT_REFUSALS = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'ERR_INVALID_ARG_TYPE']);

/**
 * One request on a connection of its own. A shared keep-alive pool, after some of the generated
 * requests, left its later requests queued behind connections it believed busy (idle on both ends,
 * no deadline firing) and the lane stalled; one connection per request keeps every request's fate
 * its own, at a loopback connect's cost.
 */
export async function send(base: string, fuzz: FuzzRequest): Promise<Answer> {
  const client = new Client(base, { connectTimeout: 5000 });
  try {
    const response = await client.request({
      path: fuzz.target,
      method: fuzz.method as Dispatcher.HttpMethod,
      headers: fuzz.headers,
      body: fuzz.body,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS + 1000),
    });
    return {
      kind: 'answer',
      status: response.statusCode,
      headers: flatten(response.headers),
      body: await readKept(response.body),
    };
  } catch (error) {
    const { code, message } = error as Error & { code?: string };
    if (code !== undefined && CLIENT_REFUSALS.has(code)) return { kind: 'unsendable', error: message };
    if (error instanceof TypeError) return { kind: 'unsendable', error: message };
    // An assertion inside undici itself (seen on an odd method with a bad escape): the client's
    // failure, not the server's; the raw lane sends such requests byte for byte.
    if (code === 'ERR_ASSERTION') return { kind: 'unsendable', error: `undici: ${message}` };
    if ((code === 'EPIPE' || code === 'ECONNRESET') && fuzz.body !== undefined && fuzz.body.length > 0)
      return { kind: 'closed-early', error: message };
    return { kind: 'failed', error: `${code ?? ''} ${message}` };
  } finally {
    void client.destroy().catch(() => {});
  }
}

export function sendRaw(address: string, bytes: Buffer, timeoutMs: number): Promise<RawAnswer> {
  return rawRequest(address, bytes, timeoutMs);
}

/**
 * A raw answer as the judges read it, or undefined when there is nothing to judge: a server that held
 * the request past its deadline is a finding (`heldTooLong`), an answer without a status is tallied.
 * A head without its whole body is judged on its status only.
 */
export function rawAnswer(
  answer: RawAnswer,
  raw: { method: string; target: string },
  heldTooLong: string,
  findings: Findings,
  tally: Tally,
): Answer | undefined {
  if (answer.ended === 'timeout') {
    findings.add(heldTooLong, raw, answer.head);
    return undefined;
  }
  if (answer.status === undefined) {
    tally.count(`raw-${answer.ended}`);
    return undefined;
  }
  return {
    kind: 'answer',
    status: answer.status,
    headers: answer.headers,
    body: answer.body ?? '{"error":{"message":"(body not read)"}}',
  };
}

/**
 * fn-node's error shapes (docs/node.md, api/errors.ts), and nothing else: v1's `{"error":{"message": "..."}}`,
 * or v2's `{"message": "..."}` on the v2 API and its calls.
 */
export function isFnError(body: string, shape: 'v1' | 'v2' = 'v1'): boolean {
  try {
    const value = JSON.parse(body) as { error?: { message?: unknown }; message?: unknown };
    if (typeof value !== 'object' || value === null || Object.keys(value).length !== 1) return false;
    if (shape === 'v2') return typeof value.message === 'string';
    return typeof value.error === 'object' && value.error !== null && typeof value.error.message === 'string';
  } catch {
    return false;
  }
}

/**
 * Whether an error is in the shape fn-node answers that request with: v2's on the v2 API and its
 * calls, as the node routes it, else v1's; either for a refusal of the request itself, which may come
 * from the HTTP parser before any target is read (431, 408, and a 400 worded "Bad request: ...").
 */
export function isFnErrorFor(target: string, status: number, body: string): boolean {
  if (status === 431 || status === 408 || (status === 400 && body.includes('"Bad request: '))) {
    return isFnError(body, 'v1') || isFnError(body, 'v2');
  }
  const parsed = parseRequestTarget(target);
  return isFnError(body, parsed.ok && /^\/(?:v2|t|invoke)(?:\/|$)/.test(parsed.path) ? 'v2' : 'v1');
}

/** fnlb's management shape: `{"msg": "..."}` (docs/balancer.md, src/lb/mgmt.ts). */
export function isLbMsg(body: string): boolean {
  try {
    const value = JSON.parse(body) as { msg?: unknown };
    return typeof value === 'object' && value !== null && typeof value.msg === 'string';
  } catch {
    return false;
  }
}

export function isJsonType(headers: Record<string, string>): boolean {
  return /^application\/json\b/.test(headers['content-type'] ?? '');
}

/** Violations found, with the request that caused each; the first few are printed on failure. */
export class Findings {
  readonly list: string[] = [];
  readonly counts = new Map<string, number>();

  add(what: string, fuzz: { method: string; target: string }, detail: string): void {
    this.counts.set(what, (this.counts.get(what) ?? 0) + 1);
    if (this.list.length < 30)
      this.list.push(
        `${what}: ${fuzz.method} ${JSON.stringify(fuzz.target.slice(0, 200))}: ${detail.slice(0, 300)}`,
      );
  }
}

/** Tallies answers by status (or outcome) for the report line. */
export class Tally {
  readonly byStatus = new Map<string, number>();
  total = 0;

  count(key: string | number): void {
    this.total++;
    this.byStatus.set(String(key), (this.byStatus.get(String(key)) ?? 0) + 1);
  }

  toString(): string {
    return [...this.byStatus.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, count]) => `${key}:${count}`)
      .join(' ');
  }
}

/**
 * Keeps every log line of a process that says it failed in a way it must not: an uncaught exception
 * (Node prints the stack on stderr), an error- or fatal-level pino line (fn-node logs each 500 as
 * one), or a process warning. The ManagedProcess keeps only its last 200 lines; this sees all.
 */
export function watchLog(streams: (Readable | null | undefined)[]): { lines: string[] } {
  const found = { lines: [] as string[] };
  const bad = /Uncaught|unhandled|TypeError|RangeError|ReferenceError|SyntaxError: |FATAL|Warning:/;
  for (const stream of streams) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        let entry: { level?: number; err?: { type?: string; status?: number } } | undefined;
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          // Not a pino line: a stack trace or a warning on stderr.
        }
        const level = entry?.level ?? 0;
        // fn-node logs every 5xx it answers at error level; a documented one (an AnswerError, such as
        // a function's 502, carries its status) is expected here, anything else at error level is not.
        const documented = level === 50 && typeof entry?.err?.status === 'number' && entry.err.status !== 500;
        const wrong = entry === undefined ? bad.test(line) : level >= 50 && !documented;
        if (wrong && found.lines.length < 50) found.lines.push(line.slice(0, 500));
      }
    });
  }
  return found;
}

/** Bodies cut short by a server that answered first: allowed, but rare (1 in 100 requests at most). */
export const MAX_CLOSED_EARLY_SHARE = 0.01;
