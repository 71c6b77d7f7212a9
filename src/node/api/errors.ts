// The one place that turns failures into Fn's error shape `{"error":{"message"}}` and a status.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../../common/wire.js';
import { AlreadyExistsError, DatastoreUnavailableError, NotFoundError } from '../datastore/datastore.js';

/** An error the API answers as-is: status, Fn message and optional Retry-After seconds. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new ApiError(400, message);

/** A `.catch` handler that answers errors of one datastore class with Fn's own message. */
export function rethrowAs(kind: new (...args: never[]) => Error, status: number, message: string) {
  return (error: unknown): never => {
    throw error instanceof kind ? new ApiError(status, message) : error;
  };
}

function toApiError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof NotFoundError) return new ApiError(404, error.message);
  if (error instanceof AlreadyExistsError) return new ApiError(409, error.message);
  if (error instanceof DatastoreUnavailableError) {
    return new ApiError(503, `Datastore unavailable: ${error.message}`, 1);
  }
  const code = (error as FastifyError).code;
  const status = (error as FastifyError).statusCode;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ApiError(413, 'Request body too large');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ApiError(415, 'Unsupported content type');
  if (status !== undefined && status >= 400 && status < 500) return new ApiError(status, error.message);
  return new ApiError(500, 'Internal server error');
}

export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
  return reply.code(error.status).type('application/json').send(errorBody(error.message));
}

export function errorHandler(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) {
  const apiError = toApiError(error);
  if (apiError.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendError(reply, apiError);
}

export function notFoundHandler(_request: FastifyRequest, reply: FastifyReply) {
  return sendError(reply, new ApiError(404, 'Path not found'));
}
