// Fn's v2 paging: `per_page` (30 by default, at most 100) and an opaque `cursor`; a full page says
// where the next one starts (`next_cursor`). Fn's cursor is the base64url of the last name of the
// page before; names repeat (two fns' triggers may share one), so this one carries that record's id
// after a NUL as well, and a cursor of Fn's (a name alone) is still read.
import type { FastifyRequest } from 'fastify';
import { PAGE_SIZE, type Page } from '../../../common/wire-v2.js';
import { AnswerError } from '../../answer-error.js';
import type { PageFilter } from '../../datastore/datastore.js';

export type ListQuery = { Querystring: Record<string, string | undefined> };

/** The page a list request asks for; a cursor that is not one of ours is a 400. */
export function pageFilter(request: FastifyRequest<ListQuery>): PageFilter {
  const perPage = Number.parseInt(request.query.per_page ?? '', 10);
  const limit = perPage > PAGE_SIZE.max ? PAGE_SIZE.max : perPage > 0 ? perPage : PAGE_SIZE.default;
  const cursor = request.query.cursor;
  if (cursor === undefined || cursor === '') return { limit };
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new AnswerError(400, 'Invalid cursor');
  const [name, id, ...rest] = Buffer.from(cursor, 'base64url').toString('utf8').split('\0');
  if (name === undefined || rest.length > 0 || name === '') throw new AnswerError(400, 'Invalid cursor');
  return { limit, after: id === undefined || id === '' ? { name } : { name, id } };
}

/** A name filter from the query, when one was given. */
export function nameFilter(request: FastifyRequest<ListQuery>): { name?: string } {
  const name = request.query.name;
  if (name?.includes('\0')) throw new AnswerError(400, 'Invalid name');
  return name === undefined || name === '' ? {} : { name };
}

export function page<T extends { name: string; id: string }>(items: T[], filter: PageFilter): Page<T> {
  const last = items.at(-1);
  return items.length === filter.limit && last !== undefined
    ? { items, next_cursor: Buffer.from(`${last.name}\0${last.id}`, 'utf8').toString('base64url') }
    : { items };
}
