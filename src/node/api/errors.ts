// The one place that turns failures into Fn's error shape and a status: `{"error":{"message"}}` on the
// v1 API and its calls, `{"message"}` on the v2 API and its calls (/v2, /t, /invoke); an AnswerError
// (the API's refusals, the runner's call failures) as it is, datastore and fastify errors by kind,
// anything else as a 500.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { type ErrorBody, errorBody } from '../../common/wire.js';
import type { ErrorBodyV2 } from '../../common/wire-v2.js';
import { AnswerError } from '../answer-error.js';
import {
  AlreadyExistsError,
  DatastoreUnavailableError,
  InvalidReferenceError,
  NotFoundError,
} from '../datastore/datastore.js';

export const badRequest = (message: string) => new AnswerError(400, message);

/** A `.catch` handler that answers errors of one datastore class with Fn's own message. */
export function rethrowAs(kind: new (...args: never[]) => Error, status: number, message: string) {
  return (error: unknown): never => {
    throw error instanceof kind ? new AnswerError(status, message) : error;
  };
}

function toAnswer(error: FastifyError | Error): AnswerError {
  if (error instanceof AnswerError) return error;
  if (error instanceof NotFoundError) return new AnswerError(404, error.message);
  if (error instanceof AlreadyExistsError) return new AnswerError(409, error.message);
  if (error instanceof InvalidReferenceError) return new AnswerError(400, error.message);
  if (error instanceof DatastoreUnavailableError) {
    return new AnswerError(503, `Datastore unavailable: ${error.message}`, 1);
  }
  const code = (error as FastifyError).code;
  const status = (error as FastifyError).statusCode;
  // Postgres refuses a NUL character in text (SQLite stores it): the client's input, not a 500.
  if (code === '22021' || code === '22P05') {
    return new AnswerError(400, 'Invalid input: text may not contain a NUL character');
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new AnswerError(413, 'Request body too large');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new AnswerError(415, 'Unsupported content type');
  if (status !== undefined && status >= 400 && status < 500) return new AnswerError(status, error.message);
  return new AnswerError(500, 'Internal server error');
}

/** The v2 API and its invocation paths answer errors in v2's shape. */
const V2_PATHS = /^\/(?:v2|t|invoke)(?:[/?]|$)/;

export function sendError(reply: FastifyReply, error: AnswerError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  const body: ErrorBody | ErrorBodyV2 = V2_PATHS.test(reply.request.url)
    ? { message: error.message }
    : errorBody(error.message);
  return reply.code(error.status).type('application/json').send(body);
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const answer = toAnswer(error);
  if (answer.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendError(reply, answer);
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  return sendError(reply, new AnswerError(404, 'Path not found'));
}
