import { FN_MESSAGES } from '../../common/wire.js';
import { AnswerError } from '../answer-error.js';

/**
 * A call the runner could not complete, with the status the node answers: 499 its client went away
 * before it ran (nobody reads that answer; it is logged and counted); 502 the function crashed, broke
 * its framing or could not be started; 503 no room within half the call's timeout, its route's queue
 * full, or the node draining, with Retry-After; 504 the function ran past its timeout.
 */
export class CallError extends AnswerError {
  override readonly name = 'CallError';
  constructor(
    override readonly status: 499 | 502 | 503 | 504,
    message: string,
    retryAfterSeconds?: number,
    /** The container involved, when one was. */
    readonly containerId?: string,
    /** True when the function never ran: another node may take the call (Fn-Refused). */
    readonly refused = false,
  ) {
    super(status, message, retryAfterSeconds);
  }
}

/** No room within half the call's timeout, or the node is closing: the call did not run. */
export const tooBusy = (retryAfterSeconds: number) =>
  new CallError(503, FN_MESSAGES.tooBusy, retryAfterSeconds, undefined, true);

/** The route's wait queue is at its bound: the call did not run, another node may take it. */
export const queueFull = (retryAfterSeconds: number, bound: number) =>
  new CallError(
    503,
    `${FN_MESSAGES.tooBusy}: ${bound} calls already wait for this route`,
    retryAfterSeconds,
    undefined,
    true,
  );

/** The client closed its connection while the call waited: it leaves the queue and never runs. */
export const clientGone = () => new CallError(499, 'Client closed the request before it ran');
