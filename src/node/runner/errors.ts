import { FN_MESSAGES } from '../../common/wire.js';

/**
 * A call the runner could not complete, with the status the node answers: 502 the function crashed,
 * broke its framing or could not be started; 503 no room within half the call's timeout (or the
 * node is draining), with Retry-After; 504 the function ran past its timeout.
 */
export class CallError extends Error {
  override readonly name = 'CallError';
  constructor(
    readonly status: 502 | 503 | 504,
    message: string,
    readonly retryAfterSeconds?: number,
    /** The container involved, when one was. */
    readonly containerId?: string,
    /** True when the function never ran: another node may take the call (Fn-Refused). */
    readonly refused = false,
  ) {
    super(message);
  }
}

/** No room within half the call's timeout, or the node is closing: the call did not run. */
export const tooBusy = (retryAfterSeconds: number) =>
  new CallError(503, FN_MESSAGES.tooBusy, retryAfterSeconds, undefined, true);
