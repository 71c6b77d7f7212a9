// A setup that could not reach what it is to guard fails with one line naming the role (the balancer,
// a node, the topology as a whole, or the settings), the address, what went wrong and the step the
// guard was at: `balancer 127.0.0.1:1 refused the connection while checking that it answers`. The
// topologies throw it (SetupError); the guard's setup writes it to both reports and fnlb-guard
// prints it (report/setup-failure.ts). What went wrong is read from the error the step met: a
// refused connection, a name that does not resolve, a timeout, an HTTP answer that was not wanted.
import { WaitTimeout } from '../../helpers/wait.js';
import { FnApiError } from '../../src/common/fn-client.js';

/** Who failed: the balancer, a node, the topology as a whole, or the settings (a usage error). */
export type SetupRole = 'balancer' | 'node' | 'topology' | 'settings';

export interface SetupStep {
  role: SetupRole;
  /** host:port of the balancer or the node; the topology's kind; the spelling of the setting. */
  address: string;
  /** What the guard was doing: `checking that it answers`, `creating the probe app`, ... */
  step: string;
}

/** A failed setup as the reports keep it (fnlb-guard.json's `setupError`). */
export interface SetupFailure extends SetupStep {
  /** The one line fnlb-guard prints (without its `fnlb-guard: ` prefix). */
  message: string;
  /** The error the step met, as it said it (several lines, perhaps), when there was one. */
  cause?: string;
}

/** What went wrong, in words that follow the role and address; `detail` goes after the step. */
export interface Problem {
  problem: string;
  detail?: string;
}

const DETAIL_LIMIT = 300;

/** The codes an error carries, its causes' and (for an AggregateError) each of its errors'. */
function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 4) return [];
  const { code, cause, errors, name } = error as {
    code?: unknown;
    cause?: unknown;
    errors?: unknown;
    name?: unknown;
  };
  return [
    ...(typeof code === 'string' ? [code] : []),
    ...(name === 'TimeoutError' || name === 'AbortError' ? [name] : []),
    ...errorCodes(cause, depth + 1),
    ...(Array.isArray(errors) ? errors.flatMap((inner) => errorCodes(inner, depth + 1)) : []),
  ];
}

const REFUSED = ['ECONNREFUSED'];
const UNRESOLVED = ['ENOTFOUND'];
const UNRESOLVED_FOR_NOW = ['EAI_AGAIN'];
const NO_ROUTE = ['EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN'];
const CLOSED = ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'];
const TIMED_OUT = [
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'TimeoutError',
  'AbortError',
];

const carries = (error: unknown, codes: readonly string[]) =>
  errorCodes(error).some((code) => codes.includes(code));

/**
 * Whether waiting longer cannot help: the address refused the connection (nothing listens there) or
 * its name does not resolve. A timeout, a reset or a passing DNS failure may be retried.
 */
export function isFinalConnectError(error: unknown): boolean {
  return carries(error, REFUSED) || carries(error, UNRESOLVED);
}

/** The first line of a text, spaces collapsed, cut to a length a line can hold. */
export function oneLine(text: string, limit = DETAIL_LIMIT): string {
  const line = (text.split('\n').find((part) => part.trim() !== '') ?? '').replace(/\s+/g, ' ').trim();
  return line.length > limit ? `${line.slice(0, limit - 3)}...` : line;
}

/** What went wrong, from the error a step met. */
export function describeFailure(error: unknown): Problem {
  if (error instanceof FnApiError) {
    const body = oneLine(error.body);
    return { problem: `answered HTTP ${error.status}`, ...(body ? { detail: body } : {}) };
  }
  if (carries(error, REFUSED)) return { problem: 'refused the connection' };
  if (carries(error, UNRESOLVED)) return { problem: 'has a name that does not resolve' };
  if (carries(error, UNRESOLVED_FOR_NOW)) return { problem: 'could not be resolved (DNS did not answer)' };
  if (carries(error, NO_ROUTE)) return { problem: 'could not be reached (no route to it)' };
  if (carries(error, CLOSED)) return { problem: 'closed the connection' };
  if (error instanceof WaitTimeout || carries(error, TIMED_OUT)) {
    const message = oneLine(error instanceof Error ? error.message : String(error));
    return { problem: 'did not answer in time', ...(message ? { detail: message } : {}) };
  }
  const message = oneLine(error instanceof Error ? error.message : String(error));
  return { problem: 'failed', ...(message ? { detail: message } : {}) };
}

/** How a line names who failed. */
export function subjectOf({ role, address }: Pick<SetupStep, 'role' | 'address'>): string {
  if (role === 'topology') return `the ${address} topology`;
  if (role === 'settings') return address === '' ? 'the settings' : `setting ${address}`;
  return `${role} ${address}`;
}

/** The one line: `balancer 127.0.0.1:1 refused the connection while checking that it answers`. */
export function setupMessage(step: SetupStep, { problem, detail }: Problem): string {
  const line = `${subjectOf(step)} ${problem} while ${step.step}${detail ? `: ${detail}` : ''}`;
  return line.replace(/\s*\n\s*/g, ' ');
}

/**
 * A cause as the report keeps it: its message when it is a failure of the network or of HTTP, the
 * whole stack otherwise, since that is a bug to find (in the guard or a topology) and this is where.
 */
function causeText(cause: unknown): string {
  if (!(cause instanceof Error)) return String(cause);
  return describeFailure(cause).problem === 'failed' ? (cause.stack ?? cause.message) : cause.message;
}

/** A failure of the setup at a step of the balancer's, a node's, the topology's or the settings'. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
  readonly role: SetupRole;
  readonly address: string;
  readonly step: string;

  /** `cause` is the error the step met; `problem` says what went wrong when the error cannot. */
  constructor(step: SetupStep, cause?: unknown, problem: Problem = describeFailure(cause)) {
    super(setupMessage(step, problem), cause === undefined ? undefined : { cause });
    this.role = step.role;
    this.address = step.address;
    this.step = step.step;
  }

  /** The failure as the reports keep it (a method: Vitest would print a getter with the error). */
  toFailure(): SetupFailure {
    const cause = this.cause;
    return {
      role: this.role,
      address: this.address,
      step: this.step,
      message: this.message,
      ...(cause === undefined ? {} : { cause: causeText(cause) }),
    };
  }
}

/** `action`, its failure a SetupError at `step` (one thrown already is passed on as it is). */
export async function duringStep<T>(step: SetupStep, action: () => Promise<T> | T): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw error instanceof SetupError ? error : new SetupError(step, error);
  }
}

/** host:port of a URL, as the settings name addresses. */
export function addressOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}
