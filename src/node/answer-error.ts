// A failure the node answers as it is: an HTTP status, Fn's error message and, for a refusal the
// client may retry, Retry-After seconds. The API's own refusals are these, and so are the runner's
// call failures (runner/errors.ts), so one error handler (api/errors.ts) answers both.
export class AnswerError extends Error {
  override readonly name: string = 'AnswerError';
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}
