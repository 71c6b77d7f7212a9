// Fn v2 fn endpoints: /v2/fns and /v2/fns/:fn_id.
import type { FastifyInstance } from 'fastify';
import { ulid } from '../../../common/ulid.js';
import type { Fn, Page } from '../../../common/wire-v2.js';
import { AnswerError } from '../../answer-error.js';
import type { Datastore } from '../../datastore/datastore.js';
import { type ListQuery, nameFilter, page, pageFilter } from './paging.js';
import { newFn, objectBody, updatedFn } from './validate.js';

type FnParams = { Params: { fn_id: string } };

async function loadFn(datastore: Datastore, id: string): Promise<Fn> {
  const fn = await datastore.getFn(id);
  if (fn === undefined) throw new AnswerError(404, 'Fn not found');
  return fn;
}

export function fnRoutesV2(datastore: Datastore) {
  return async (api: FastifyInstance) => {
    api.get<ListQuery>('/v2/fns', async (request): Promise<Page<Fn>> => {
      const filter = pageFilter(request);
      const appId = request.query.app_id;
      const scope = appId === undefined || appId === '' ? {} : { appId };
      return page(await datastore.listFns({ ...filter, ...scope, ...nameFilter(request) }), filter);
    });

    api.post('/v2/fns', async (request): Promise<Fn> => {
      return datastore.insertFn(newFn(objectBody(request.body), ulid(), new Date().toISOString()));
    });

    api.get<FnParams>('/v2/fns/:fn_id', async (request) => loadFn(datastore, request.params.fn_id));

    api.put<FnParams>('/v2/fns/:fn_id', async (request): Promise<Fn> => {
      const body = objectBody(request.body);
      const current = await loadFn(datastore, request.params.fn_id);
      return datastore.updateFn(updatedFn(current, body, new Date().toISOString()));
    });

    api.delete<FnParams>('/v2/fns/:fn_id', async (request, reply) => {
      await datastore.removeFn(request.params.fn_id);
      return reply.code(204).send();
    });
  };
}
