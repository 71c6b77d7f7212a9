// Fn v2 app endpoints: /v2/apps and /v2/apps/:app_id.
import type { FastifyInstance } from 'fastify';
import { ulid } from '../../../common/ulid.js';
import type { AppV2, Page } from '../../../common/wire-v2.js';
import { AnswerError } from '../../answer-error.js';
import type { Datastore } from '../../datastore/datastore.js';
import { type ListQuery, nameFilter, page, pageFilter } from './paging.js';
import { newApp, objectBody, updatedApp } from './validate.js';

type AppParams = { Params: { app_id: string } };

export async function loadAppById(datastore: Datastore, id: string): Promise<AppV2> {
  const app = await datastore.getAppById(id);
  if (app === undefined) throw new AnswerError(404, 'App not found');
  return app;
}

export function appRoutesV2(datastore: Datastore) {
  return async (api: FastifyInstance) => {
    api.get<ListQuery>('/v2/apps', async (request): Promise<Page<AppV2>> => {
      const filter = pageFilter(request);
      return page(await datastore.listApps({ ...filter, ...nameFilter(request) }), filter);
    });

    api.post('/v2/apps', async (request): Promise<AppV2> => {
      const now = new Date().toISOString();
      return datastore.insertAppV2(newApp(objectBody(request.body), ulid(), now));
    });

    api.get<AppParams>('/v2/apps/:app_id', async (request) => loadAppById(datastore, request.params.app_id));

    api.put<AppParams>('/v2/apps/:app_id', async (request): Promise<AppV2> => {
      const body = objectBody(request.body);
      const current = await loadAppById(datastore, request.params.app_id);
      return datastore.updateAppV2(updatedApp(current, body, new Date().toISOString()));
    });

    api.delete<AppParams>('/v2/apps/:app_id', async (request, reply) => {
      await datastore.removeAppById(request.params.app_id);
      return reply.code(204).send();
    });
  };
}
